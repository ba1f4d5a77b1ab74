//! Filling and releasing `Py_buffer`: the `bf_getbuffer` / `bf_releasebuffer` logic shared by
//! every generated provider.

use std::ffi::{c_void, CStr};
use std::marker::PhantomData;
use std::os::raw::c_int;
use std::ptr::{self, NonNull};

use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::pyclass::boolean_struct::{False, True};

use pyo3::{Bound, PyClass, PyErr, PyResult, Python};

use crate::direct::Direct;
use crate::element::Element;
use crate::error::ExportError;
use crate::export_state::StateBox;
use crate::flags::Request;
use crate::hold::Hold;
use crate::layout::{self, LayoutError, Order, Table, MAX_NDIM};
use crate::storage::Storage;

/// A `#[pyclass]` that can export a buffer. Implemented by `#[derive(PyBuffer)]`.
///
/// The [`Exporter`] is tied to the borrow of `self` (`'a`, invariant), so only storage that
/// lives at least as long as that borrow — a field of `self`, or a `'static` — can be exported;
/// a local `Vec` is a compile error ("does not live long enough"), with or without `unsafe`
/// elsewhere.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not derive `PyBuffer`",
    label = "`#[derive(PyBuffer)]` is missing on this type",
    note = "add `#[derive(PyBuffer)]` below `#[pyclass]` on the struct and mark its data field `#[buffer]`"
)]
pub trait PyBuffer: PyClass {
    /// Describes the buffer to export; generated code, not for hand use.
    #[doc(hidden)]
    fn __export<'a>(&'a self, ex: Exporter<'a>) -> Result<Exported, ExportError>;

    /// Runs the checks of an export without exporting: `Err` (a `BufferError` naming the
    /// class and the annotation) if the fields describe a layout the storage cannot back, as
    /// `memoryview(obj)` would raise. Call it where the fields are set (a `#[new]`
    /// constructor, a method that reshapes), because numpy swallows export errors
    /// (`np.asarray(obj)` then builds a 0-d object array).
    fn check_buffer(&self) -> PyResult<()> {
        check(self)
    }
}

/// [`PyBuffer::check_buffer`]: an export for a strided read-only request (which every valid
/// layout serves), dropped at once.
fn check<T: PyBuffer>(obj: &T) -> PyResult<()> {
    // Attached, like every export: the record pool an export may draw from is only touched
    // while attached (`export_state.rs`), and `&self` of a `Sync` class can reach a detached
    // thread.
    Python::attach(|_| {
        // A view of our own that nothing reads: the export writes into it, and dropping the
        // `Exported` gives back what it holds (the tables it pointed at go with it).
        let mut scratch = ffi::Py_buffer::new();
        let exporter = Exporter {
            _owner: PhantomData,
            view: NonNull::from(&mut scratch),
            request: Request::new(crate::flags::bits::STRIDES | crate::flags::bits::FORMAT),
            element: None,
            keep_borrow: false,
        };
        obj.__export(exporter)
            .map(drop)
            .map_err(|e| PyBufferError::new_err(format!("{}: {e}", T::NAME)))
    })
}

/// Whether a pyclass is `frozen` (its fields can never be borrowed mutably).
#[doc(hidden)]
pub trait FrozenFlag {
    const FROZEN: bool;
}
impl FrozenFlag for True {
    const FROZEN: bool = true;
}
impl FrozenFlag for False {
    const FROZEN: bool = false;
}

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
    _owner: PhantomData<fn(&'a ()) -> &'a ()>,
    /// The view being filled (valid for writes; its `obj` stays NULL until [`getbuffer`]
    /// succeeds). [`Exporter::export`] writes every other field but `internal` once all checks
    /// have passed, so the answer goes straight into it instead of through a copy.
    view: NonNull<ffi::Py_buffer>,
    request: Request,
    /// `element = T`: itemsize, alignment and format presented instead of the storage's.
    element: Option<(usize, usize, &'static CStr)>,
    /// Plain storage keeps a shared borrow of its owner (a mutable class).
    keep_borrow: bool,
}

/// A checked export whose fields are in the view: what `view.internal` will own. Dropping it
/// unused gives back what it holds (the view then stays failed: `obj` NULL).
#[doc(hidden)]
pub struct Exported {
    /// Null, a tagged direct export ([`DirectExport::into_internal`]) or a record.
    internal: *mut c_void,
    /// Plain storage of a mutable class: the owner's shared borrow goes into the record's
    /// `holds[1]` (then `internal` is a record).
    needs_borrow: bool,
}

impl Drop for Exported {
    fn drop(&mut self) {
        // SAFETY: `internal` is null, a direct export or a record, owned by `self` alone (no
        // view has been published with it).
        unsafe { release_internal(self.internal) }
    }
}

fn refuse(request: Request, reason: &'static str) -> ExportError {
    ExportError::Request { request, reason }
}

/// The request bits beyond `PyBUF_STRIDES` that ask about contiguity.
const CONTIGUITY_BITS: c_int = 0x20 | 0x40 | 0x80;

/// The checks of a request that asks about contiguity or leaves out `PyBUF_STRIDES`: kept out
/// of line (and not generic) so that the common strided request stays short. `explicit` is the
/// byte strides of a strided layout, `own` the order of a contiguous one (exactly one is set).
#[inline(never)]
fn check_contiguity(
    req: Request,
    dims: &[usize],
    explicit: Option<&[isize]>,
    itemsize: usize,
    own: Option<Order>,
) -> Result<(), ExportError> {
    // A contiguous layout is contiguous in its own order, and in the other one only along a
    // single axis.
    let contiguous = |want: Order| match (own, explicit) {
        (Some(own), _) => own == want || layout::is_single_axis(dims),
        (None, Some(s)) => match want {
            Order::C => layout::is_c_contiguous(dims, s, itemsize),
            Order::F => layout::is_f_contiguous(dims, s, itemsize),
        },
        (None, None) => unreachable!("a layout has an order or strides"),
    };
    let needs_c = req.c_contiguous() || !req.strides();
    let c = needs_c && contiguous(Order::C);
    if req.c_contiguous() && !c {
        return Err(refuse(req, "the buffer is not C-contiguous"));
    }
    if req.f_contiguous() && !contiguous(Order::F) {
        return Err(refuse(req, "the buffer is not Fortran-contiguous"));
    }
    if req.any_contiguous() && !contiguous(Order::C) && !contiguous(Order::F) {
        return Err(refuse(req, "the buffer is not contiguous"));
    }
    if !req.strides() && !c {
        return Err(refuse(
            req,
            "the buffer is not C-contiguous, so it needs PyBUF_STRIDES",
        ));
    }
    if !req.nd() && req.format() {
        return Err(refuse(
            req,
            "PyBUF_FORMAT without PyBUF_ND: data without a shape is exposed as unsigned bytes",
        ));
    }
    Ok(())
}

impl<'a> Exporter<'a> {
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
        let ndim = dims.len();
        if ndim > MAX_NDIM {
            return Err(LayoutError::TooManyDims(ndim).into());
        }
        let count = layout::element_count(dims).ok_or(LayoutError::Overflow)?;
        let len = count
            .checked_mul(itemsize)
            .filter(|&n| n <= isize::MAX as usize);
        let len = len.ok_or(LayoutError::Overflow)?;

        // Explicit strides are checked against the storage's bounds. Contiguity is computed
        // only when the request asks about it.
        let (offset, own_order) = match strides {
            Strides::Order(order) => {
                if count != raw.count {
                    return Err(LayoutError::CountMismatch {
                        shape_count: count,
                        storage_count: raw.count,
                    }
                    .into());
                }
                (0, Some(order))
            }
            Strides::Bytes { strides: s, offset } => {
                if s.len() != ndim {
                    return Err(LayoutError::StridesRank {
                        shape: ndim,
                        strides: s.len(),
                    }
                    .into());
                }
                layout::check_bounds(dims, s, itemsize, offset, raw.count * itemsize)?;
                (offset, None)
            }
        };
        // A strided request without a contiguity bit (numpy's, memoryview's) needs no
        // contiguity at all; the other requests are checked out of line.
        // A C-order layout also answers C_CONTIGUOUS, ANY_CONTIGUOUS and a request without
        // strides (C-contiguous data) at once; FORMAT without ND is the one refusal left.
        let c_order_ok = matches!(own_order, Some(Order::C))
            && !req.f_contiguous()
            && (req.nd() || !req.format());
        if (!req.strides() || req.raw & CONTIGUITY_BITS != 0) && !c_order_ok {
            let explicit = match strides {
                Strides::Bytes { strides: s, .. } => Some(s),
                Strides::Order(_) => None,
            };
            check_contiguity(req, dims, explicit, itemsize, own_order)?;
        }

        // One record holds what the view points to and what the export keeps; only the tables
        // the request asks for are filled, and a 0-d buffer has none.
        let with_shape = req.nd() && ndim > 0;
        let with_strides = with_shape && req.strides();
        let needs_borrow = !S::SHARED && self.keep_borrow;
        let (shape_t, strides_t, internal): (*mut ffi::Py_ssize_t, *mut ffi::Py_ssize_t, _) =
            // Shared 1-D storage in its natural layout: the block itself holds the tables.
            match shape {
                Shape::Natural if S::SHARED && matches!(strides, Strides::Order(_)) => {
                    match storage.direct() {
                        Some(d) => {
                            let (sh, st) = d.tables();
                            (sh, st, d.into_internal())
                        }
                        None => self.record(storage, dims, strides, itemsize, with_shape, with_strides, needs_borrow),
                    }
                }
                _ => self.record(storage, dims, strides, itemsize, with_shape, with_strides, needs_borrow),
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
    /// returns the record's tables and the record as `internal`, or nulls.
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
    ) -> (*mut ffi::Py_ssize_t, *mut ffi::Py_ssize_t, *mut c_void) {
        let hold = storage.keep_alive();
        if !(with_shape || hold.is_some() || needs_borrow) {
            return (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        }
        let ndim = dims.len();
        let mut rec = StateBox::new();
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
        r.holds[0] = hold;
        let p = rec.into_raw();
        let rp = p.as_ptr().cast::<crate::export_state::ExportState>();
        // SAFETY: `rp` is the live record just given up (owned by the returned
        // `internal`); only field addresses are taken.
        let shape_t = unsafe { ptr::addr_of_mut!((*rp).shape) }.cast::<ffi::Py_ssize_t>();
        // SAFETY: as above.
        let strides_t = unsafe { ptr::addr_of_mut!((*rp).strides) }.cast::<ffi::Py_ssize_t>();
        (shape_t, strides_t, p.as_ptr())
    }
}

/// `bf_getbuffer` for a [`PyBuffer`] class.
///
/// # Safety
/// `view` is null or valid for writes of a `Py_buffer` (what CPython passes to `bf_getbuffer`).
pub unsafe fn getbuffer<T>(
    slf: Bound<'_, T>,
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> PyResult<()>
where
    T: PyBuffer,
    T::Frozen: FrozenFlag,
{
    // One body for both kinds of slot: the plain one `add_class` installs is this same
    // function, so the generated `__export` has one caller and is inlined into it.
    // SAFETY: `slf` is a live `T`; `view` as the contract says.
    let rc = unsafe { crate::fast::slot_getbuffer::<T>(slf.as_ptr(), view, flags) };
    if rc == 0 {
        Ok(())
    } else {
        Err(PyErr::take(slf.py())
            .unwrap_or_else(|| PyBufferError::new_err("bf_getbuffer failed without an error")))
    }
}

/// The body of [`getbuffer`], without the `PyErr`: the fast slots raise the error themselves,
/// off the hot path.
///
/// # Safety
/// `view` is non-null and valid for writes of a `Py_buffer`.
#[inline(always)]
pub(crate) unsafe fn export_into<T>(
    slf: &Bound<'_, T>,
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> Result<(), ExportError>
where
    T: PyBuffer,
    T::Frozen: FrozenFlag,
{
    // SAFETY: `view` is valid for writes (contract). CPython releases a view whose `obj` is set
    // even after a failed request, so it must be NULL until success.
    unsafe { (*view).obj = ptr::null_mut() };

    // pyo3's own borrow flag (a no-op for a frozen class): no `&mut self` runs while the
    // fields are read.
    let guard = slf.try_borrow().map_err(|_| ExportError::Borrowed)?;
    let exporter = Exporter {
        _owner: PhantomData,
        // SAFETY: non-null (contract).
        view: unsafe { NonNull::new_unchecked(view) },
        request: Request::new(flags),
        element: None,
        keep_borrow: !<T::Frozen as FrozenFlag>::FROZEN,
    };
    let exported = std::mem::ManuallyDrop::new(guard.__export(exporter)?);
    let internal = exported.internal;
    if exported.needs_borrow {
        // Plain storage of a mutable class: no `&mut self` until this export is released.
        // `internal` is then a record (`Exporter::record` makes one whenever a borrow is kept).
        let rec = internal.cast::<crate::export_state::ExportState>();
        // SAFETY: `rec` is the live record the export owns; nothing else refers to it yet.
        unsafe { (*rec).holds[1] = Some(Hold::borrow(guard)) };
    } else {
        drop(guard);
    }

    // SAFETY: `view` is valid for writes; `Exporter::export` filled every other field.
    unsafe {
        let v = &mut *view;
        v.internal = internal;
        // A new strong reference, set last.
        v.obj = slf.clone().into_ptr();
    }
    Ok(())
}

/// `bf_releasebuffer` for a [`PyBuffer`] class: gives back what the export held. Does not
/// touch `view.obj` (`PyBuffer_Release` drops that reference).
///
/// # Safety
/// `view` is a view (or a copy of one) filled by [`getbuffer`] and not yet released.
pub unsafe fn releasebuffer<T: PyBuffer>(_slf: Bound<'_, T>, view: *mut ffi::Py_buffer) {
    // SAFETY: forwarded contract.
    unsafe { release_view(view) }
}

/// Gives back what an export from [`getbuffer`] held.
///
/// # Safety
/// As [`releasebuffer`], attached to the interpreter (the record pool relies on it, see
/// `export_state.rs`).
#[cfg_attr(Py_LIMITED_API, allow(dead_code))]
#[inline]
pub(crate) unsafe fn release_view(view: *mut ffi::Py_buffer) {
    if view.is_null() {
        return;
    }
    // SAFETY: `view` is valid (contract); its `internal` is taken back once because a view is
    // released once.
    let internal = unsafe { std::mem::replace(&mut (*view).internal, ptr::null_mut()) };
    // SAFETY: `internal` came from `getbuffer` and is given up here, once (contract).
    unsafe { release_internal(internal) };
}

/// Gives back what an export's `internal` owns.
///
/// # Safety
/// `internal` is null, a tagged direct export or a record from [`Exporter::export`], owned by
/// the caller, who gives it up; attached to the interpreter.
#[inline]
unsafe fn release_internal(internal: *mut c_void) {
    // SAFETY: forwarded contract: a tagged `internal` is a direct export, released once.
    if unsafe { Direct::release(internal) } {
        return;
    }
    if let Some(rec) = NonNull::new(internal) {
        // SAFETY: an untagged non-null `internal` is a record given up by `into_raw`, taken
        // back once (contract).
        drop(unsafe { StateBox::from_raw(rec) });
    }
}
