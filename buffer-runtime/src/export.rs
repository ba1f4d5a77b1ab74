//! Filling and releasing `Py_buffer`: the `bf_getbuffer` / `bf_releasebuffer` logic shared by
//! every generated provider.

use std::ffi::{c_void, CStr};
use std::marker::PhantomData;
use std::os::raw::c_int;
use std::ptr::{self, NonNull};

use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::pyclass::boolean_struct::{False, True};

use pyo3::{Bound, PyClass, PyResult};

use crate::direct::{Direct, DirectExport};
use crate::element::Element;
use crate::error::{buffer_error, ExportError};
use crate::flags::Request;
use crate::hold::Hold;
use crate::layout::{self, LayoutError, Order, Table, MAX_NDIM};
use crate::record::RecordBox;
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
    let exporter = Exporter {
        _owner: PhantomData,
        request: Request::new(crate::flags::bits::STRIDES | crate::flags::bits::FORMAT),
        element: None,
        keep_borrow: false,
    };
    obj.__export(exporter)
        .map(drop)
        .map_err(|e| PyBufferError::new_err(format!("{}: {e}", T::NAME)))
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
    request: Request,
    /// `element = T`: itemsize, alignment and format presented instead of the storage's.
    element: Option<(usize, usize, &'static CStr)>,
    /// Plain storage keeps a shared borrow of its owner (a mutable class).
    keep_borrow: bool,
}

/// A checked export, ready to be written into the view.
#[doc(hidden)]
pub struct Exported {
    buf: *mut u8,
    len: usize,
    itemsize: usize,
    ndim: usize,
    readonly: bool,
    format: *const std::os::raw::c_char,
    /// Owns the shape/strides tables the view points to, and the holds.
    record: Option<RecordBox>,
    /// Or, for shared 1-D storage, the block's own tables and one count of it.
    direct: Option<DirectExport>,
    /// Whether the view gets the record's shape / strides table.
    with_shape: bool,
    with_strides: bool,
    /// Plain storage of a mutable class: the owner's shared borrow goes into `holds[1]`.
    needs_borrow: bool,
}

fn refuse(request: Request, reason: &'static str) -> ExportError {
    ExportError::Request { request, reason }
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

    /// Checks the described layout against the storage and the request, and prepares the
    /// view's contents. Nothing is written to the view here.
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
        // A contiguous layout is contiguous in its own order, and in the other one only along
        // a single axis.
        let contiguous = |want: Order| match (own_order, strides) {
            (Some(own), _) => own == want || layout::is_single_axis(dims),
            (None, Strides::Bytes { strides: s, .. }) => match want {
                Order::C => layout::is_c_contiguous(dims, s, itemsize),
                Order::F => layout::is_f_contiguous(dims, s, itemsize),
            },
            (None, Strides::Order(_)) => unreachable!("an order layout has its own order"),
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

        // One record holds what the view points to and what the export keeps; only the tables
        // the request asks for are filled, and a 0-d buffer has none.
        let with_shape = req.nd() && ndim > 0;
        let with_strides = with_shape && req.strides();
        let needs_borrow = !S::SHARED && self.keep_borrow;
        // Shared 1-D storage in its natural layout: the block itself holds the tables.
        let direct = match (shape, strides) {
            (Shape::Natural, Strides::Order(_)) => storage.direct(),
            _ => None,
        };
        let hold = if direct.is_some() {
            None
        } else {
            storage.keep_alive()
        };
        let mut record = None;
        if direct.is_none() && (with_shape || hold.is_some() || needs_borrow) {
            let rec = record.insert(RecordBox::new()).get_mut();
            if with_shape {
                for (slot, &d) in rec.shape.iter_mut().zip(dims) {
                    *slot = d as ffi::Py_ssize_t; // <= isize::MAX: checked by element_count
                }
            }
            if with_strides {
                match strides {
                    Strides::Order(order) => {
                        layout::contiguous_strides(dims, itemsize, order, &mut rec.strides[..ndim])
                    }
                    Strides::Bytes { strides: s, .. } => rec.strides[..ndim].copy_from_slice(s),
                }
            }
            rec.holds[0] = hold;
        }

        Ok(Exported {
            // Inside the storage (checked above), or the storage's own (possibly dangling)
            // pointer when no element is addressed.
            buf: raw.ptr.wrapping_offset(offset),
            len,
            itemsize,
            ndim: if req.nd() { ndim } else { 1 },
            readonly,
            format: if req.format() {
                format.as_ptr()
            } else {
                ptr::null()
            },
            record,
            direct,
            with_shape,
            with_strides,
            needs_borrow,
        })
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
    if view.is_null() {
        return Err(PyBufferError::new_err(
            "bf_getbuffer called with a NULL view",
        ));
    }
    // SAFETY: `view` is valid for writes (contract). CPython releases a view whose `obj` is set
    // even after a failed request, so it must be NULL until success.
    unsafe { (*view).obj = ptr::null_mut() };

    let guard = slf
        .try_borrow()
        .map_err(|_| buffer_error(&slf, ExportError::Borrowed))?;
    let exporter = Exporter {
        _owner: PhantomData,
        request: Request::new(flags),
        element: None,
        keep_borrow: !<T::Frozen as FrozenFlag>::FROZEN,
    };
    let exported = guard
        .__export(exporter)
        .map_err(|e| buffer_error(&slf, e))?;

    let Exported {
        buf,
        len,
        itemsize,
        ndim,
        readonly,
        format,
        mut record,
        direct,
        with_shape,
        with_strides,
        needs_borrow,
    } = exported;
    match record.as_mut() {
        // Plain storage of a mutable class: no `&mut self` until this export is released.
        Some(rec) if needs_borrow => rec.get_mut().holds[1] = Some(Hold::borrow(guard)),
        _ => drop(guard),
    }

    let pick = |on: bool, t: *mut ffi::Py_ssize_t| if on { t } else { ptr::null_mut() };
    let (shape, strides, internal) = match (record, direct) {
        (_, Some(d)) => {
            let (shape, strides) = d.tables();
            (
                pick(with_shape, shape),
                pick(with_strides, strides),
                d.into_internal(),
            )
        }
        (Some(rec), None) => {
            let p = rec.into_raw();
            let r = p.as_ptr().cast::<crate::record::Record>();
            // SAFETY: `r` is the live record just given up; only field addresses are taken.
            let (shape, strides) = unsafe {
                (
                    ptr::addr_of_mut!((*r).shape),
                    ptr::addr_of_mut!((*r).strides),
                )
            };
            (
                pick(with_shape, shape.cast()),
                pick(with_strides, strides.cast()),
                p.as_ptr(),
            )
        }
        (None, None) => (ptr::null_mut(), ptr::null_mut(), ptr::null_mut::<c_void>()),
    };

    // SAFETY: `view` is valid for writes; every pointer stored stays valid until release: the
    // tables live in the record, `format` is static, and `buf` is kept alive by `obj` (and by
    // the storage's hold, for shared storage).
    unsafe {
        let v = &mut *view;
        v.buf = buf.cast();
        v.len = len as ffi::Py_ssize_t;
        v.itemsize = itemsize as ffi::Py_ssize_t;
        v.readonly = c_int::from(readonly);
        v.ndim = ndim as c_int;
        v.format = format.cast_mut();
        v.shape = shape;
        v.strides = strides;
        v.suboffsets = ptr::null_mut();
        v.internal = internal;
        // A new strong reference, set last.
        v.obj = slf.into_ptr();
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
/// As [`releasebuffer`].
#[cfg_attr(Py_LIMITED_API, allow(dead_code))]
pub(crate) unsafe fn release_view(view: *mut ffi::Py_buffer) {
    if view.is_null() {
        return;
    }
    // SAFETY: `view` is valid (contract); `internal` is null, a tagged direct export or a
    // record from `getbuffer`, taken back once because a view is released once.
    unsafe {
        let internal = std::mem::replace(&mut (*view).internal, ptr::null_mut());
        if !Direct::release(internal) {
            if let Some(rec) = NonNull::new(internal) {
                drop(RecordBox::from_raw(rec));
            }
        }
    }
}
