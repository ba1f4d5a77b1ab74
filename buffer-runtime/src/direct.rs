//! Direct exports: a shared block's Python exports need no per-export record. The block's head
//! holds the tables: those of its natural 1-D layout (a `SharedVec`, kept current with exclusive
//! access) and, with the GIL, one cached N-d layout that exports share ([`NdTables`]).
//! `view.internal` points at the head (tagged with bit 0), owning one export of the block until
//! release.

#[cfg(not(Py_GIL_DISABLED))]
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::ptr::NonNull;

use pyo3::ffi::Py_ssize_t;

#[cfg(not(Py_GIL_DISABLED))]
use crate::layout::{self, Order};
use crate::request_checks::Placement;
use crate::shared::PyExports;

/// The head of a shared block: the first field of a `#[repr(C)]` block behind an `Arc`.
#[repr(C)]
pub(crate) struct Direct {
    /// Gives back one strong count of the block whose head this is: the pin when an orphaned
    /// block's last export ends (with the GIL), the export's own count (free-threaded build).
    give_back: unsafe fn(NonNull<Direct>),
    /// The block's Python exports (`shared/py_exports.rs`), here so that a release reaches them
    /// without knowing the block's type.
    pub(crate) py: PyExports,
    /// The item count. Written only with exclusive access to the block (no export alive:
    /// `Direct::set_len` through `&mut`); exports only hand out its address, so views read a
    /// value nobody writes while they live.
    shape: [Py_ssize_t; 1],
    strides: [Py_ssize_t; 1],
    /// The tables of the last N-d layout exported, shared by every Python export of the same
    /// layout; rewritten only while no Python export of the block is alive ([`Direct::nd_tables`]).
    #[cfg(not(Py_GIL_DISABLED))]
    nd: UnsafeCell<NdTables>,
}

/// The most dims whose tables a block's head caches; a layout with more gets a record.
#[cfg(not(Py_GIL_DISABLED))]
pub(crate) const ND_CACHED: usize = 4;

/// One N-d layout's tables, what they describe, and the byte length its checks gave.
#[cfg(not(Py_GIL_DISABLED))]
struct NdTables {
    key: NdKey,
    shape: [Py_ssize_t; ND_CACHED],
    strides: [Py_ssize_t; ND_CACHED],
    len: usize,
}

/// What [`NdTables`] describes besides the shape: the first `ndim` entries are the layout's.
/// With the shape, the strides and the item count, everything the layout's checks read. The
/// count is not kept: for a given itemsize, a head's count changes only through
/// [`Direct::set_len`] (a `SharedVec`'s, with exclusive access), which forgets the layout; a
/// `SharedArray` holds one value for good, and a foreign or adopted block's bytes never change
/// (its count is its bytes over the itemsize).
#[cfg(not(Py_GIL_DISABLED))]
#[derive(Clone, Copy)]
struct NdKey {
    /// `itemsize << 8 | placement << 4 | ndim` ([`NdKey::tag`]): one compare.
    tag: usize,
    /// The offset of element `(0, ..., 0)` of explicit strides (a contiguous layout's checks
    /// do not read it).
    offset: isize,
}

#[cfg(not(Py_GIL_DISABLED))]
impl NdKey {
    /// Describes no layout: its `ndim` nibble is above [`ND_CACHED`].
    const NONE: NdKey = NdKey {
        tag: usize::MAX,
        offset: 0,
    };

    /// The tag of `layout`; `None` for more than [`ND_CACHED`] dims or an itemsize too large to
    /// shift (`>= 2^56` on 64 bits), which the head does not cache.
    #[inline(always)]
    fn tag(layout: &NdLayout<'_>) -> Option<usize> {
        let ndim = layout.dims.len();
        let placement = match layout.placement {
            Placement::Strided(_) => 0,
            Placement::Contiguous(Order::C) => 1,
            Placement::Contiguous(Order::F) => 2,
        };
        (ndim <= ND_CACHED && layout.itemsize < 1 << (usize::BITS - 8))
            .then_some(layout.itemsize << 8 | placement << 4 | ndim)
    }
}

/// An N-d layout an export asks the head for: the shape, the placement, the itemsize, the
/// offset of element `(0, ..., 0)` and the storage's item count. The layout's checks
/// (`export.rs`) read these and nothing else.
#[doc(hidden)]
#[derive(Clone, Copy)]
#[cfg_attr(Py_GIL_DISABLED, allow(dead_code))] // read by `nd_tables` only
pub struct NdLayout<'a> {
    pub(crate) dims: &'a [usize],
    pub(crate) placement: Placement<'a>,
    pub(crate) itemsize: usize,
    pub(crate) offset: isize,
    pub(crate) count: usize,
}

/// How an export knows that its layout passed the checks.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum Checked {
    /// Checked by this export, which found this byte length.
    Now(usize),
    /// The head holds the layout ([`Direct::nd_checked`]).
    Held(NdHit),
}

/// A head holds the tables of a layout, checked by an earlier export: its byte length. Made
/// only by [`Direct::nd_checked`].
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct NdHit {
    #[cfg_attr(Py_GIL_DISABLED, allow(dead_code))]
    head: *const Direct,
    len: usize,
}

impl Checked {
    /// The layout's byte length, as its checks found it.
    pub(crate) fn len(self) -> usize {
        match self {
            Checked::Now(len) => len,
            Checked::Held(hit) => hit.len,
        }
    }
}

/// Gives back one strong count of the `Arc<T>` whose block has its head at `head`
/// (`Direct::give_back`).
///
/// # Safety
/// `head` is the head of a `T` behind an `Arc` (its first field: same address), and the caller
/// gives up one of its counts.
unsafe fn give_back<T>(head: NonNull<Direct>) {
    // SAFETY: same address as the `T` (contract: first field of a repr(C) block); the count is
    // the caller's.
    unsafe { std::sync::Arc::decrement_strong_count(head.as_ptr().cast::<T>()) }
}

/// What a direct export puts in the view. Dropping it without `into_internal` gives the count
/// back.
#[doc(hidden)]
pub struct DirectExport {
    head: NonNull<Direct>,
    shape: *mut Py_ssize_t,
    strides: *mut Py_ssize_t,
}

/// A view's shape and strides tables (null: none).
#[derive(Clone, Copy)]
pub(crate) struct Tables(pub *mut Py_ssize_t, pub *mut Py_ssize_t);

impl Tables {
    pub(crate) const NONE: Tables = Tables(std::ptr::null_mut(), std::ptr::null_mut());
}

impl Direct {
    /// The head of a `T` (of which it is the first field, `#[repr(C)]`, behind an `Arc`),
    /// whose 1-D layout has items of `itemsize` bytes.
    ///
    /// # Safety
    /// The head goes into a `T` as its first field, and that `T` behind an `Arc`.
    pub unsafe fn new<T>(itemsize: usize) -> Direct {
        Direct {
            give_back: give_back::<T>,
            py: PyExports::new(),
            shape: [0],
            strides: [itemsize as Py_ssize_t],
            #[cfg(not(Py_GIL_DISABLED))]
            nd: UnsafeCell::new(NdTables {
                key: NdKey::NONE,
                shape: [0; ND_CACHED],
                strides: [0; ND_CACHED],
                len: 0,
            }),
        }
    }

    /// Records the block's item count (with exclusive access to the block), and forgets the
    /// N-d layout the head holds, which was checked against the count before ([`NdKey`]).
    pub fn set_len(&mut self, len: usize) {
        self.shape[0] = len as Py_ssize_t; // <= isize::MAX: a Vec's length
        #[cfg(not(Py_GIL_DISABLED))]
        {
            self.nd.get_mut().key = NdKey::NONE;
        }
    }

    /// The item count last recorded by `set_len`.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shape[0] as usize
    }

    /// Takes over one export of the block whose head is `head`.
    ///
    /// # Safety
    /// `head` is the head of a live block whose `set_len` is current, and the caller gives up
    /// one export of it counted by `py_exports::start`, which the release ends.
    pub unsafe fn export(head: NonNull<Direct>) -> DirectExport {
        let h = head.as_ptr();
        // SAFETY: the head is live (contract); only addresses are taken.
        let shape = unsafe { std::ptr::addr_of_mut!((*h).shape) }.cast::<Py_ssize_t>();
        // SAFETY: as above.
        let strides = unsafe { std::ptr::addr_of_mut!((*h).strides) }.cast::<Py_ssize_t>();
        DirectExport {
            head,
            shape,
            strides,
        }
    }

    /// Takes over one export of the block whose head is `head`, with the given tables (null
    /// when the view has none).
    ///
    /// # Safety
    /// As [`export`](Self::export); the tables stay valid and unchanged while the export lives
    /// ([`nd_tables`](Self::nd_tables)).
    pub unsafe fn export_with(head: NonNull<Direct>, tables: Tables) -> DirectExport {
        DirectExport {
            head,
            shape: tables.0,
            strides: tables.1,
        }
    }

    /// The head holds the tables of `layout`: an earlier export checked this same layout
    /// against the same item count (`set_len` forgets it) and found its byte length. The checks
    /// read nothing else ([`NdLayout`]), so they would pass again with the same length. `None`
    /// for any other layout.
    ///
    /// # Safety
    /// Attached (P1 of `shared/py_exports.rs`).
    #[cfg(not(Py_GIL_DISABLED))]
    #[inline(always)]
    pub unsafe fn nd_checked(&self, layout: &NdLayout<'_>) -> Option<NdHit> {
        let tag = NdKey::tag(layout)?;
        // SAFETY: only attached code reaches the tables, one thread at a time (contract), and
        // views only read them: a shared reference for the comparison.
        let r = unsafe { &*self.nd.get() };
        Self::holds(r, tag, layout).then_some(NdHit {
            head: self,
            len: r.len,
        })
    }

    /// Whether `r` describes `layout`, whose [`NdKey::tag`] is `tag`.
    #[cfg(not(Py_GIL_DISABLED))]
    #[inline(always)]
    fn holds(r: &NdTables, tag: usize, layout: &NdLayout<'_>) -> bool {
        let ndim = layout.dims.len();
        r.key.tag == tag
            && r.shape[..ndim]
                .iter()
                .zip(layout.dims)
                .all(|(&a, &b)| a as usize == b)
            && match layout.placement {
                // Entry by entry, like the shape: the strides were just stored one by one, and
                // a wide compare (what `==` on the slices becomes) loading across two of those
                // stores stalls (store-to-load forwarding fails). A count other than `ndim`
                // is not held: `check_layout` reports it.
                Placement::Strided(s) => {
                    r.key.offset == layout.offset
                        && s.len() == ndim
                        && r.strides[..ndim].iter().zip(s).all(|(&a, &b)| a == b)
                }
                Placement::Contiguous(_) => true,
            }
    }

    /// The head's tables for `layout`, if it can share them: it already holds them, or no
    /// Python export of the block is alive (so none reads them) and they are rewritten, with
    /// the byte length `checked` (a layout checked now) gives. `None` for another layout while
    /// one is exported, for a hit of another head it does not hold, or for a layout no tag
    /// describes ([`NdKey::tag`]).
    ///
    /// The tables then stay as they are while any Python export of the block lives: they are
    /// written nowhere else, and here only when the block has none.
    ///
    /// # Safety
    /// Attached (P1 of `shared/py_exports.rs`: with the GIL, attached code runs one thread at a
    /// time), before the caller counts the export it will use the tables for; `checked` is true
    /// of `layout`.
    #[cfg(not(Py_GIL_DISABLED))]
    #[inline(always)]
    pub unsafe fn nd_tables(&self, layout: &NdLayout<'_>, checked: Checked) -> Option<Tables> {
        let ndim = layout.dims.len();
        let tag = NdKey::tag(layout)?;
        let t = self.nd.get();
        let same = match checked {
            // `nd_checked` of this head, in this same attached stretch: nothing rewrote the
            // tables since.
            Checked::Held(hit) if std::ptr::eq(hit.head, self) => true,
            // SAFETY: only attached code reaches the tables (here), one thread at a time
            // (contract), and views only read them: a shared reference for the comparison.
            _ => Self::holds(unsafe { &*t }, tag, layout),
        };
        if !same {
            // Only a layout checked now is written: a hit that this head does not hold is
            // another head's, refused. (A quick try of a cached layout, `export.rs`, always
            // passes a hit, so its copy of this function has no rewrite.)
            if matches!(checked, Checked::Held(_)) {
                return None;
            }
            if self.py.live() != 0 {
                return None; // a live view reads the other layout
            }
            // SAFETY: no Python export of the block is alive, so no view reads the tables, and
            // no other attached code runs meanwhile (contract): this is the only access.
            let w = unsafe { &mut *t };
            for (slot, &d) in w.shape.iter_mut().zip(layout.dims) {
                *slot = d as Py_ssize_t; // <= isize::MAX: checked by element_count
            }
            match layout.placement {
                Placement::Strided(s) => w.strides[..ndim].copy_from_slice(s),
                Placement::Contiguous(order) => layout::contiguous_strides(
                    layout.dims,
                    layout.itemsize,
                    order,
                    &mut w.strides[..ndim],
                ),
            }
            w.key = NdKey {
                tag,
                offset: layout.offset,
            };
            w.len = checked.len();
        }
        // SAFETY: field addresses of the live head's tables.
        let shape = unsafe { std::ptr::addr_of_mut!((*t).shape) }.cast::<Py_ssize_t>();
        // SAFETY: as above.
        let strides = unsafe { std::ptr::addr_of_mut!((*t).strides) }.cast::<Py_ssize_t>();
        Some(Tables(shape, strides))
    }

    /// Ends one export of the block: `py_exports::end` without knowing the block's type.
    ///
    /// # Safety
    /// `head` is the head of a live block, one of whose exports the caller gives up, attached.
    #[inline(always)]
    unsafe fn end(head: NonNull<Direct>) {
        // SAFETY: the block lives while the export is counted (contract).
        let h = unsafe { head.as_ref() };
        #[cfg(not(Py_GIL_DISABLED))]
        {
            // SAFETY: attached, for an export counted by `start`, ended once (contract).
            if !unsafe { h.py.end() } {
                return;
            }
        }
        let give_back = h.give_back;
        // SAFETY: the count `end` handed over (with the GIL) or the export's own (free-threaded),
        // dropped once.
        unsafe { give_back(head) }
    }

    /// Releases a view's `internal` if it is a direct export; `false` if it is not.
    ///
    /// # Safety
    /// `internal` is a live view's `internal`, released once, attached.
    #[inline(always)]
    pub unsafe fn release(internal: *mut c_void) -> bool {
        // SAFETY: a live view's `internal` (contract).
        let Some(head) = (unsafe { Direct::tagged(internal) }) else {
            return false;
        };
        // SAFETY: ends the export the view owns, once, attached (contract).
        unsafe { Direct::end(head) };
        true
    }

    /// [`release`](Self::release) of a direct export whose end hands nothing back, with no
    /// call: `true` once released, `false` with nothing changed (then `release` must run).
    ///
    /// # Safety
    /// As [`release`](Self::release).
    #[inline(always)]
    pub unsafe fn release_quick(internal: *mut c_void) -> bool {
        #[cfg(not(Py_GIL_DISABLED))]
        {
            // SAFETY: a live view's `internal` (contract).
            let Some(head) = (unsafe { Direct::tagged(internal) }) else {
                return false;
            };
            // SAFETY: the head of a live block (`tagged`).
            let h = unsafe { head.as_ref() };
            // SAFETY: attached, for the export the view owns, ended at most once (contract).
            unsafe { h.py.end_quick() }
        }
        #[cfg(Py_GIL_DISABLED)]
        {
            let _ = internal;
            false // each export's own strong count: `release` drops it
        }
    }

    /// Whether a view's `internal` is a direct export (tagged), not a record or null.
    #[inline(always)]
    pub(crate) fn is_direct(internal: *mut c_void) -> bool {
        internal.addr() & DIRECT_TAG != 0
    }

    /// The head a tagged `internal` points at (`None` for a record or null).
    ///
    /// # Safety
    /// `internal` is a live view's `internal`.
    #[inline(always)]
    unsafe fn tagged(internal: *mut c_void) -> Option<NonNull<Direct>> {
        if internal.addr() & DIRECT_TAG == 0 {
            return None;
        }
        let head = internal.map_addr(|a| a & !DIRECT_TAG).cast::<Direct>();
        // SAFETY: a tagged `internal` comes from `DirectExport::into_internal` (contract): the
        // head of a live block, one of whose exports the view owns; never null.
        Some(unsafe { NonNull::new_unchecked(head) })
    }
}

/// The bit of `view.internal` that marks a direct export. The head is at least
/// pointer-aligned, so bit 0 of its address is free; records, the other kind of `internal`,
/// are untagged `Box`es (also pointer-aligned).
const DIRECT_TAG: usize = 1;
const _: () = assert!(std::mem::align_of::<Direct>() > DIRECT_TAG);

impl DirectExport {
    /// The shape and strides tables, valid while the export is held.
    pub fn tables(&self) -> (*mut Py_ssize_t, *mut Py_ssize_t) {
        (self.shape, self.strides)
    }

    /// The tagged pointer for `view.internal`, which now owns the count.
    pub fn into_internal(self) -> *mut c_void {
        let p = std::mem::ManuallyDrop::new(self).head.as_ptr();
        // Bit 0 of the aligned head's address is clear, so adding the tag sets it: one `lea`
        // with the head's offset in its block, where `|` took two instructions.
        p.wrapping_byte_add(DIRECT_TAG).cast::<c_void>()
    }
}

impl Drop for DirectExport {
    fn drop(&mut self) {
        // SAFETY: `self` owns one export of the live block, ended once; exports and their
        // failed attempts run attached.
        unsafe { Direct::end(self.head) }
    }
}

#[cfg(all(test, not(Py_GIL_DISABLED)))]
mod tests {
    use super::*;

    fn nd<'a>(dims: &'a [usize], placement: Placement<'a>) -> NdLayout<'a> {
        NdLayout {
            dims,
            placement,
            itemsize: 8,
            offset: 0,
            count: dims.iter().product(),
        }
    }

    /// The layout's byte length, as its checks would give it (for the tests' layouts).
    fn checked(l: NdLayout<'_>) -> Checked {
        Checked::Now(l.count * l.itemsize)
    }

    /// The tables `nd_tables` hands out, read back as a view would.
    fn read(t: Tables, ndim: usize) -> (Vec<isize>, Vec<isize>) {
        // SAFETY: the head's tables hold `ND_CACHED >= ndim` entries, alive with the head.
        let shape = unsafe { std::slice::from_raw_parts(t.0, ndim) };
        // SAFETY: as above.
        let strides = unsafe { std::slice::from_raw_parts(t.1, ndim) };
        (shape.to_vec(), strides.to_vec())
    }

    #[allow(
        clippy::multiple_unsafe_ops_per_block,
        reason = "one contract, stated once, covers the sequence"
    )]
    #[test]
    fn tables_are_shared_by_one_layout_and_rewritten_only_when_unexported() {
        // SAFETY: the head is never given back (no export is counted through `start`), and one
        // thread stands for the attached one (P1) for every call below.
        unsafe {
            let h = Direct::new::<()>(8);
            let c23 = nd(&[2, 3], Placement::Contiguous(Order::C));
            let t = h
                .nd_tables(&c23, checked(c23))
                .expect("nothing exported: the head takes the layout");
            assert_eq!(read(t, 2), (vec![2, 3], vec![24, 8]));
            h.py.set_live(1);
            let again = h
                .nd_tables(&c23, checked(c23))
                .expect("the same layout is shared");
            assert_eq!((again.0, again.1), (t.0, t.1));
            // Exported: any other layout is refused, and the tables stay as they are.
            for other in [
                nd(&[2, 3], Placement::Contiguous(Order::F)),
                nd(&[3, 2], Placement::Contiguous(Order::C)),
                nd(&[2, 3, 1], Placement::Contiguous(Order::C)),
                nd(&[2, 3], Placement::Strided(&[24, 8])),
                NdLayout { itemsize: 4, ..c23 },
            ] {
                assert!(h.nd_tables(&other, checked(other)).is_none());
            }
            assert_eq!(read(t, 2), (vec![2, 3], vec![24, 8]));
            // Unexported: rewritten; explicit strides are compared entry by entry.
            h.py.set_live(0);
            let s = nd(&[2, 3], Placement::Strided(&[48, 16]));
            let t = h.nd_tables(&s, checked(s)).expect("nothing exported");
            assert_eq!(read(t, 2), (vec![2, 3], vec![48, 16]));
            h.py.set_live(2);
            assert!(h.nd_tables(&s, checked(s)).is_some());
            let s8 = nd(&[2, 3], Placement::Strided(&[48, 8]));
            assert!(h.nd_tables(&s8, checked(s8)).is_none());
            h.py.set_live(0);
            let f = nd(&[2, 0, 3], Placement::Contiguous(Order::F));
            assert_eq!(
                read(h.nd_tables(&f, checked(f)).unwrap(), 3),
                (vec![2, 0, 3], vec![8, 16, 0])
            );
            let wide = nd(&[1; ND_CACHED + 1], Placement::Contiguous(Order::C));
            assert!(h.nd_tables(&wide, checked(wide)).is_none());
            let scalar = nd(&[], Placement::Contiguous(Order::C));
            assert!(h.nd_tables(&scalar, checked(scalar)).is_some());
        }
    }

    #[allow(
        clippy::multiple_unsafe_ops_per_block,
        reason = "one contract, stated once, covers the sequence"
    )]
    #[test]
    fn a_layout_is_known_checked_only_while_the_head_holds_it_for_the_same_item_count() {
        // SAFETY: as in the test above.
        unsafe {
            let mut h = Direct::new::<()>(8);
            let c23 = nd(&[2, 3], Placement::Contiguous(Order::C));
            assert!(h.nd_checked(&c23).is_none(), "nothing held yet");
            h.nd_tables(&c23, Checked::Now(48)).unwrap();
            let hit = h.nd_checked(&c23).expect("held");
            assert_eq!(Checked::Held(hit).len(), 48);
            // Everything the checks read but the item count is part of the key: any change is
            // a miss. (A contiguous layout's checks do not read the offset.)
            let strided = nd(&[2, 3], Placement::Strided(&[24, 8]));
            assert!(h.nd_checked(&NdLayout { offset: 8, ..c23 }).is_some());
            for other in [
                NdLayout { itemsize: 4, ..c23 },
                nd(&[3, 2], Placement::Contiguous(Order::C)),
                nd(&[2, 3], Placement::Contiguous(Order::F)),
                strided,
            ] {
                assert!(h.nd_checked(&other).is_none());
            }
            // Explicit strides and the offset, entry by entry.
            let pitched = NdLayout {
                offset: 16,
                count: 20,
                ..strided
            };
            h.nd_tables(&pitched, Checked::Now(48)).unwrap();
            assert!(h.nd_checked(&pitched).is_some());
            for other in [
                NdLayout {
                    offset: 8,
                    ..pitched
                },
                NdLayout {
                    placement: Placement::Strided(&[24, 16]),
                    ..pitched
                },
                // The held strides, one too few or one more.
                NdLayout {
                    placement: Placement::Strided(&[24]),
                    ..pitched
                },
                NdLayout {
                    placement: Placement::Strided(&[24, 8, 8]),
                    ..pitched
                },
            ] {
                assert!(h.nd_checked(&other).is_none());
            }
            assert!(h.nd_checked(&c23).is_none(), "the tables were rewritten");
            // A hit of this head shares its tables as they are, while exported too.
            h.py.set_live(1);
            let hit = h.nd_checked(&pitched).unwrap();
            let t = h.nd_tables(&pitched, Checked::Held(hit)).unwrap();
            assert_eq!(read(t, 2), (vec![2, 3], vec![24, 8]));
            // A hit of another head is not taken on trust: compared, and never a reason to
            // rewrite, exported or not (only a layout checked now is).
            let other = Direct::new::<()>(8);
            other.nd_tables(&c23, Checked::Now(48)).unwrap();
            let foreign = other.nd_checked(&c23).unwrap();
            assert!(h.nd_tables(&c23, Checked::Held(foreign)).is_none());
            h.py.set_live(0);
            assert!(h.nd_tables(&c23, Checked::Held(foreign)).is_none());
            let t = h.nd_tables(&c23, Checked::Now(48)).unwrap();
            assert_eq!(read(t, 2), (vec![2, 3], vec![24, 8]));
            assert_eq!(
                h.nd_checked(&c23).map(|hit| Checked::Held(hit).len()),
                Some(48)
            );
            // The item count changes only through `set_len`, which forgets the layout.
            h.set_len(6);
            assert!(h.nd_checked(&c23).is_none(), "forgotten with the old count");
            h.nd_tables(&c23, Checked::Now(48)).unwrap();
            assert!(h.nd_checked(&c23).is_some());
            // More dims than the head caches, or an itemsize the tag cannot hold: never held.
            let wide = nd(&[1; ND_CACHED + 1], Placement::Contiguous(Order::C));
            assert!(h.nd_checked(&wide).is_none());
            let huge = NdLayout {
                itemsize: 1 << (usize::BITS - 8),
                count: 0,
                ..c23
            };
            assert!(h.nd_tables(&huge, Checked::Now(0)).is_none());
            assert!(h.nd_checked(&huge).is_none());
        }
    }
}
