//! [`Exporter`]: the capability a generated `__export` receives, which checks a described
//! layout against its storage and the request and writes the answer into the view.

use std::ffi::{c_void, CStr};
use std::marker::PhantomData;
use std::os::raw::c_int;
use std::ptr::{self, NonNull};

use pyo3::ffi;

use crate::direct::{Checked, NdLayout};
use crate::element::Element;
use crate::error::ExportError;
use crate::export_state::StateBox;
use crate::flags::{bits, Request};
use crate::layout::{self, LayoutError, Order, Table, MAX_NDIM};
use crate::request_checks::{check_contiguity, refuse, Placement, CONTIGUITY_BITS};
use crate::slots::release_internal;
use crate::storage::{RawParts, Storage};

/// The shape of an export, as the annotation gives it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum Shape<'a> {
    /// The storage's own shape (`Vec` length, array dims).
    Natural,
    /// An explicit shape, in elements.
    Dims(&'a [usize]),
}

/// How elements are placed, as the annotation gives it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum Strides<'a> {
    /// Contiguous in this order.
    Order(Order),
    /// Explicit byte strides, with the byte offset of element `(0, ..., 0)`.
    Bytes { strides: &'a [isize], offset: isize },
}

/// Capability to describe one export: handed to [`PyBuffer::__export`] by [`getbuffer`] only.
/// `'a` is the borrow of the exporting object; invariant, so it cannot be shortened to the
/// lifetime of a local.
#[doc(hidden)]
pub struct Exporter<'a> {
    pub(crate) _owner: PhantomData<fn(&'a ()) -> &'a ()>,
    /// The view being filled (valid for writes; its `obj` stays NULL until [`getbuffer`]
    /// succeeds). [`Exporter::export`] writes every other field but `internal` once all checks
    /// have passed, so the answer goes straight into it instead of through a copy.
    pub(crate) view: NonNull<ffi::Py_buffer>,
    pub(crate) request: Request,
    /// `element = T`: itemsize, alignment and format presented instead of the storage's.
    pub(crate) element: Option<(usize, usize, &'static CStr)>,
    /// Plain storage keeps a shared borrow of its owner (a mutable class).
    pub(crate) keep_borrow: bool,
    /// The quick try of the fast slot (`fast.rs`): whatever needs a call that returns here
    /// (a check kept out of line, a new record) is not done but answered with
    /// [`RETRY`], and so is every error; the slot then runs the general export, which does it
    /// all and finds the real error.
    pub(crate) quick: bool,
}

/// What a quick try answers when it cannot finish ([`Exporter::quick`]). Never raised: the
/// general export that follows finds the error, if there is one.
pub(crate) const RETRY: ExportError = ExportError::Borrowed;

/// A checked export whose fields are in the view: what `view.internal` will own. Dropping it
/// unused gives back what it holds (the view then stays failed: `obj` NULL).
#[doc(hidden)]
pub struct Exported {
    /// Null, a tagged direct export ([`DirectExport::into_internal`]) or a record.
    pub(crate) internal: *mut c_void,
    /// Plain storage of a mutable class: the owner's shared borrow goes into the record's
    /// `borrow` (then `internal` is a record).
    pub(crate) needs_borrow: bool,
}

impl Drop for Exported {
    fn drop(&mut self) {
        // SAFETY: `internal` is null, a direct export or a record, owned by `self` alone (no
        // view has been published with it).
        unsafe { release_internal(self.internal) }
    }
}

impl<'a> Exporter<'a> {
    /// Whether this is the fast slot's quick try (the field's docs).
    #[inline(always)]
    pub fn quick(&self) -> bool {
        self.quick
    }

    /// Presents the storage's items as `E` (`element = E`): every export checks that `E` has
    /// the storage's itemsize and that the data is aligned for it.
    #[inline(always)]
    pub fn element<E: Element>(self) -> Exporter<'a> {
        let element = Some((
            std::mem::size_of::<E>(),
            std::mem::align_of::<E>(),
            E::FORMAT,
        ));
        Exporter { element, ..self }
    }

    /// Checks the described layout against the storage and the request, then writes the view
    /// (every field but `internal`, which the returned [`Exported`] owns, and `obj`, which
    /// [`getbuffer`] sets last). Nothing is written, taken or held before every check passed.
    #[inline(always)]
    pub fn export<S: Storage + ?Sized>(
        self,
        storage: &'a S,
        shape: Shape<'_>,
        strides: Strides<'_>,
        readonly: bool,
    ) -> Result<Exported, ExportError> {
        let quick = self.quick;
        let done = self.export_now(storage, shape, strides, readonly);
        // One error value for a quick try, so that building the others folds away (without
        // it, `Readings` takes 3 instructions more per export, `instr.py --flags FULL_RO`).
        if quick {
            done.map_err(|e| {
                e.discard();
                RETRY
            })
        } else {
            done
        }
    }

    #[inline(always)]
    fn export_now<S: Storage + ?Sized>(
        self,
        storage: &'a S,
        shape: Shape<'_>,
        strides: Strides<'_>,
        readonly: bool,
    ) -> Result<Exported, ExportError> {
        const {
            assert!(
                S::SHARED || !S::HAS_PADDING,
                "plain storage of elements with padding would show Python uninitialised bytes: \
                 store them in SharedVec/SharedArray, which zero the padding, or add explicit \
                 padding fields"
            )
        };
        let req = self.request;
        let raw = storage.raw_parts();
        let (itemsize, format) = match self.element {
            None => (storage.itemsize(), storage.format()),
            Some((size, align, format)) => {
                if size != storage.itemsize() || raw.ptr.align_offset(align) != 0 {
                    return Err(ExportError::Element {
                        size,
                        align,
                        storage: storage.itemsize(),
                    });
                }
                (size, format)
            }
        };
        let readonly = readonly || !S::SHARED;
        if req.writable() && readonly {
            return Err(refuse(req, "the buffer is read-only"));
        }

        // The shape as a slice, copied only when it is a storage's outer length in front of
        // its element's array dims.
        let natural;
        let outer_len;
        let mut joined = Table::<usize>::new();
        let dims: &[usize] = match shape {
            Shape::Dims(d) => d,
            Shape::Natural => {
                natural = storage.natural_shape();
                match natural.outer {
                    None => natural.inner,
                    Some(n) if natural.inner.is_empty() => {
                        outer_len = n;
                        std::slice::from_ref(&outer_len)
                    }
                    Some(n) => {
                        joined.extend(&[n])?;
                        joined.extend(natural.inner)?;
                        joined.as_slice()
                    }
                }
            }
        };
        let (placement, offset, own_order) = match strides {
            Strides::Bytes { strides: s, offset } => (Placement::Strided(s), offset, None),
            Strides::Order(order) => (Placement::Contiguous(order), 0, Some(order)),
        };
        let nd = NdLayout {
            dims,
            placement,
            itemsize,
            offset,
            count: raw.count,
        };
        // Shared storage whose block holds this layout's tables: an earlier export checked the
        // same layout against the same item count, so the checks would pass again.
        let natural_1d = matches!((shape, strides), (Shape::Natural, Strides::Order(_)));
        let head_caches = S::SHARED && !natural_1d && HEADS_CACHE_ND;
        // SAFETY: exports run attached (`getbuffer`, `check_buffer`).
        let held = head_caches
            .then(|| unsafe { storage.nd_checked(&nd) })
            .flatten();
        let checked = match held {
            Some(hit) => Checked::Held(hit),
            None if head_caches && self.quick => return Err(RETRY),
            // The first export of this layout (or not the last one exported): out of line.
            None if head_caches => Checked::Now(check_layout_outlined(nd)?),
            None => Checked::Now(check_layout(&nd)?),
        };
        let found = Found {
            storage,
            raw,
            nd,
            checked,
            own_order,
            strides,
            natural_1d,
            format,
            readonly,
        };
        // The most common request, strided without a contiguity bit (numpy's, memoryview's,
        // `PyBUF_FULL_RO`'s), has its own copy of the rest of a quick try, in which the view's
        // tables are known and no contiguity is checked (FULL_RO: 10 instructions fewer per
        // export). Bits that change no answer are dropped; a quick try's errors are discarded,
        // so the request they would print does not matter. (A second copy for `PyBUF_SIMPLE`
        // saved 18 more there but cost 5 % more build time, `make bench-compile`.)
        if self.quick {
            let raw = req.raw;
            if raw & (bits::STRIDES | CONTIGUITY_BITS) == bits::STRIDES {
                let strided = Request::new(bits::STRIDES | raw & (bits::FORMAT | bits::WRITABLE));
                return self.finish(strided, found);
            }
        }
        self.finish(req, found)
    }

    /// The rest of [`export_now`](Self::export_now), once the layout is checked: what the
    /// request asks of it, the tables and the view.
    #[inline(always)]
    fn finish<S: Storage + ?Sized>(
        self,
        req: Request,
        found: Found<'a, '_, S>,
    ) -> Result<Exported, ExportError> {
        let Found {
            storage,
            raw,
            nd,
            checked,
            own_order,
            strides,
            natural_1d,
            format,
            readonly,
        } = found;
        let (dims, placement, itemsize, offset) = (nd.dims, nd.placement, nd.itemsize, nd.offset);
        let ndim = dims.len();
        let len = checked.len();

        // A strided request without a contiguity bit (numpy's, memoryview's) needs no
        // contiguity at all; the other requests are checked out of line.
        // A C-order layout also answers C_CONTIGUOUS, ANY_CONTIGUOUS and a request without
        // strides (C-contiguous data) at once; FORMAT without ND is the one refusal left.
        let c_order_ok = matches!(own_order, Some(Order::C))
            && !req.f_contiguous()
            && (req.nd() || !req.format());
        if (!req.strides() || req.raw & CONTIGUITY_BITS != 0) && !c_order_ok {
            if self.quick {
                return Err(RETRY);
            }
            check_contiguity(req, dims, placement, itemsize)?;
        }

        // One record holds what the view points to and what the export keeps; only the tables
        // the request asks for are filled, and a 0-d buffer has none.
        let with_shape = req.nd() && ndim > 0;
        let with_strides = with_shape && req.strides();
        let needs_borrow = !S::SHARED && self.keep_borrow;
        // Shared storage: the block's head holds the tables, those of the natural 1-D layout or
        // one cached N-d layout (`direct.rs`); a record only when the head cannot share them.
        let direct = if S::SHARED {
            // SAFETY: exports run attached (`getbuffer`, `check_buffer`), and so do their
            // releases.
            match natural_1d.then(|| unsafe { storage.direct() }).flatten() {
                Some(d) => Some(d),
                // SAFETY: as above; `checked` is of `nd`.
                None => unsafe { storage.direct_nd(&nd, checked, with_shape) },
            }
        } else {
            None
        };
        let (shape_t, strides_t, internal): (*mut ffi::Py_ssize_t, *mut ffi::Py_ssize_t, _) =
            match direct {
                Some(d) => {
                    let (sh, st) = d.tables();
                    (sh, st, d.into_internal())
                }
                // Plain 1-D storage of one-byte items in its own order, kept by nothing but
                // `view.obj`: `len` is the shape and `itemsize` the stride, and the view's own
                // fields hold them, as CPython's `PyBuffer_FillInfo` does for `bytes`. The
                // tables are read-only to consumers, who read them where the view was filled.
                None if !S::SHARED
                    && !needs_borrow
                    && ndim == 1
                    && itemsize == 1
                    && matches!(strides, Strides::Order(_)) =>
                {
                    let v = self.view.as_ptr();
                    // SAFETY: a field address of the view, valid for writes (the `Exporter`'s
                    // invariant); `len` and `itemsize` are written below.
                    let shape_t = unsafe { ptr::addr_of_mut!((*v).len) };
                    // SAFETY: as above.
                    let strides_t = unsafe { ptr::addr_of_mut!((*v).itemsize) };
                    (shape_t, strides_t, ptr::null_mut())
                }
                None => match self.record(
                    storage,
                    dims,
                    strides,
                    itemsize,
                    with_shape,
                    with_strides,
                    needs_borrow,
                ) {
                    Some(r) => r,
                    None => return Err(RETRY),
                },
            };
        let pick = |on: bool, t: *mut ffi::Py_ssize_t| if on { t } else { ptr::null_mut() };

        // SAFETY: `view` is valid for writes (the `Exporter`'s invariant); every pointer stored
        // stays valid until release: the tables live in the record (or the shared block's head,
        // owned by `internal`), `format` is static or the storage's (kept alive by the hold or by
        // `obj`), and `buf` is kept alive by `obj` (and by the storage's hold, for shared storage).
        unsafe {
            let v = &mut *self.view.as_ptr();
            // Inside the storage (checked above), or the storage's own (possibly dangling)
            // pointer when no element is addressed.
            v.buf = raw.ptr.wrapping_offset(offset).cast();
            v.len = len as ffi::Py_ssize_t;
            v.itemsize = itemsize as ffi::Py_ssize_t;
            v.readonly = c_int::from(readonly);
            v.ndim = if req.nd() { ndim as c_int } else { 1 };
            v.format = if req.format() {
                format.as_ptr().cast_mut()
            } else {
                ptr::null_mut()
            };
            v.shape = pick(with_shape, shape_t);
            v.strides = pick(with_strides, strides_t);
            v.suboffsets = ptr::null_mut();
        }
        Ok(Exported {
            internal,
            needs_borrow,
        })
    }

    /// The per-export record (when the view needs tables or the export holds something):
    /// returns the record's tables and the record as `internal`, or nulls; `None` for a quick
    /// try that would need a call.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn record<S: Storage + ?Sized>(
        &self,
        storage: &'a S,
        dims: &[usize],
        strides: Strides<'_>,
        itemsize: usize,
        with_shape: bool,
        with_strides: bool,
        needs_borrow: bool,
    ) -> Option<(*mut ffi::Py_ssize_t, *mut ffi::Py_ssize_t, *mut c_void)> {
        // Shared storage makes a record only when its block's head cannot share the tables:
        // rare, so out of line.
        let outlined = S::SHARED && HEADS_CACHE_ND;
        if outlined && self.quick {
            return None;
        }
        // SAFETY: exports run attached (`getbuffer`, `check_buffer`), and so do their releases.
        let hold = unsafe { storage.export_hold() };
        if !(with_shape || hold.is_some() || needs_borrow) {
            return Some((ptr::null_mut(), ptr::null_mut(), ptr::null_mut()));
        }
        if outlined {
            return Some(record_outlined(
                dims,
                strides,
                itemsize,
                with_shape,
                with_strides,
                hold,
            ));
        }
        let rec = if self.quick {
            StateBox::pooled()? // else `hold` is dropped: only storage kept by an `Arc` has one
        } else {
            StateBox::new()
        };
        Some(new_record(
            rec,
            dims,
            strides,
            itemsize,
            with_shape,
            with_strides,
            hold,
        ))
    }
}

/// What [`Exporter::export_now`] found before it looks at the request's tables and contiguity
/// bits: the storage, its checked layout and what the view will say of it.
struct Found<'a, 'd, S: Storage + ?Sized> {
    storage: &'a S,
    raw: RawParts,
    nd: NdLayout<'d>,
    checked: Checked,
    own_order: Option<Order>,
    strides: Strides<'d>,
    natural_1d: bool,
    format: &'a CStr,
    readonly: bool,
}

/// Whether shared blocks' heads cache an N-d layout (`Direct::nd_checked`), which makes the
/// checks and the record of a shared N-d export the rare path, kept out of line. Free-threaded
/// heads cache nothing, so there every N-d export checks and records inline, as plain storage
/// does.
const HEADS_CACHE_ND: bool = cfg!(not(Py_GIL_DISABLED));

/// `rec` filled with the tables asked for and `hold`: its tables and itself, as `internal`.
#[inline(always)]
fn new_record(
    mut rec: StateBox,
    dims: &[usize],
    strides: Strides<'_>,
    itemsize: usize,
    with_shape: bool,
    with_strides: bool,
    hold: Option<crate::hold::Hold>,
) -> (*mut ffi::Py_ssize_t, *mut ffi::Py_ssize_t, *mut c_void) {
    let ndim = dims.len();
    let r = rec.get_mut();
    if with_shape {
        for (slot, &d) in r.shape.iter_mut().zip(dims) {
            *slot = d as ffi::Py_ssize_t; // <= isize::MAX: checked by element_count
        }
    }
    if with_strides {
        match strides {
            Strides::Order(order) => {
                layout::contiguous_strides(dims, itemsize, order, &mut r.strides[..ndim])
            }
            Strides::Bytes { strides: s, .. } => {
                for (slot, &st) in r.strides.iter_mut().zip(s) {
                    *slot = st;
                }
            }
        }
    }
    r.put_hold(hold);
    let p = rec.into_raw();
    let rp = p.as_ptr().cast::<crate::export_state::ExportState>();
    // SAFETY: `rp` is the live record just given up (owned by the returned `internal`); only
    // field addresses are taken.
    let shape_t = unsafe { ptr::addr_of_mut!((*rp).shape) }.cast::<ffi::Py_ssize_t>();
    // SAFETY: as above.
    let strides_t = unsafe { ptr::addr_of_mut!((*rp).strides) }.cast::<ffi::Py_ssize_t>();
    (shape_t, strides_t, p.as_ptr())
}

/// [`new_record`], compiled once.
#[inline(never)]
fn record_outlined(
    dims: &[usize],
    strides: Strides<'_>,
    itemsize: usize,
    with_shape: bool,
    with_strides: bool,
    hold: Option<crate::hold::Hold>,
) -> (*mut ffi::Py_ssize_t, *mut ffi::Py_ssize_t, *mut c_void) {
    new_record(
        StateBox::new(),
        dims,
        strides,
        itemsize,
        with_shape,
        with_strides,
        hold,
    )
}

/// The checks of a layout against its storage, which give its byte length: the dims' count,
/// and either that count against the storage's (contiguous) or the strides against the
/// storage's bytes. A function of `layout` alone (what [`NdLayout`] holds), so that a block
/// holding a layout checked before need not check it again (`Direct::nd_checked`).
#[inline(always)]
fn check_layout(layout: &NdLayout<'_>) -> Result<usize, ExportError> {
    let dims = layout.dims;
    let ndim = dims.len();
    if ndim > MAX_NDIM {
        return Err(LayoutError::TooManyDims(ndim).into());
    }
    let count = layout::element_count(dims).ok_or(LayoutError::Overflow)?;
    let len_of = |count: usize| {
        count
            .checked_mul(layout.itemsize)
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or(LayoutError::Overflow)
    };
    match layout.placement {
        Placement::Contiguous(_) => {
            if count != layout.count {
                len_of(count)?; // the same error as for explicit strides
                return Err(LayoutError::CountMismatch {
                    shape_count: count,
                    storage_count: layout.count,
                }
                .into());
            }
            // The storage's own byte length, so `<= isize::MAX` (`Storage`'s contract).
            Ok(count * layout.itemsize)
        }
        Placement::Strided(s) => {
            let len = len_of(count)?;
            if s.len() != ndim {
                return Err(LayoutError::StridesRank {
                    shape: ndim,
                    strides: s.len(),
                }
                .into());
            }
            let bytes = layout.count * layout.itemsize;
            layout::check_bounds(dims, s, layout.itemsize, layout.offset, bytes)?;
            Ok(len)
        }
    }
}

/// [`check_layout`], compiled once: for shared storage, whose block's head usually holds the
/// layout already checked ([`HEADS_CACHE_ND`]). By value, so that the caller's layout stays in
/// registers.
#[inline(never)]
fn check_layout_outlined(layout: NdLayout<'_>) -> Result<usize, ExportError> {
    check_layout(&layout)
}
