//! [`PyView`] and [`PyViewMut`]: typed views that own one export of a Python object, made from
//! function arguments like any other PyO3 type.

use std::marker::PhantomData;
use std::mem::size_of;
use std::ops::Deref;
use std::os::raw::c_int;
use std::ptr::NonNull;

use pyo3::exceptions::PyTypeError;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyAnyMethods, PyModule, PyType, PyTypeMethods};
use pyo3::{Borrowed, Bound, FromPyObject, Py, PyAny, PyErr, PyResult, Python};

use crate::element::Element;
use crate::flags::bits;

use super::contig::{Contiguity, Strided};
use super::export::{CheckedLayout, Export, Fields};
use super::format;
use super::held::{Held, Parts};
use super::rank::{AnyNdim, Rank};
use super::span::{Access, ReadOnly, Span, Writable};

/// A read-only view of any buffer of `T`s with `D` dimensions laid out as `L` requires: the
/// counterpart of Cython's `const uint8_t[:, :, ::1]` and nanobind's `nb::ndarray<const
/// uint8_t, nb::ndim<3>, nb::c_contig>`.
///
/// Made from a `#[pyfunction]` argument (or [`PyView::new`]), it asks the exporter for exactly
/// what it needs (`PyBUF_FORMAT` plus the strides or contiguity bit of `L`), checks the answer
/// (element type and byte order, rank, layout, and every field a sloppy exporter may get
/// wrong), and holds the export until it is dropped. It is `Send`: move it into
/// [`Python::detach`] to work while other Python threads run; dropping it re-attaches to
/// release the export.
///
/// The elements are reached through [`Span`] (its methods are the view's): shape and strides,
/// checked indexing, sub-views, iteration, bulk copies. See the [module docs](super) for why
/// no `&[T]` into the exporter's memory is handed out.
///
/// ```
/// use buffer_runtime::view::{CContiguous, Ndim, PyView};
/// use pyo3::prelude::*;
///
/// /// Sums a C-contiguous 2-d buffer of float64, without the GIL.
/// #[pyfunction]
/// fn total(py: Python<'_>, a: PyView<f64, Ndim<2>, CContiguous>) -> f64 {
///     py.detach(move || {
///         let mut s = 0.0;
///         a.for_each(|x| s += x);
///         s
///     })
/// }
/// # Python::attach(|py| {
/// #     let f = wrap_pyfunction!(total, py).unwrap();
/// #     let a = py.import("array").unwrap().call_method1("array", ("d", vec![1.0, 2.0])).unwrap();
/// #     let m = py.eval(c"lambda a: memoryview(a).cast('B').cast('d', (1, 2))", None, None).unwrap();
/// #     let total: f64 = f.call1((m.call1((a,)).unwrap(),)).unwrap().extract().unwrap();
/// #     assert_eq!(total, 3.0);
/// # });
/// ```
pub struct PyView<T: Element, D: Rank = AnyNdim, L: Contiguity = Strided> {
    held: Held<Span<T, D, ReadOnly>>,
    _layout: PhantomData<L>,
}

/// A writable view: [`PyView`] plus `PyBUF_WRITABLE` in the request, so a read-only exporter
/// refuses it, and [`set`](Span::set), [`fill`](Span::fill),
/// [`map_inplace`](Span::map_inplace) and [`copy_from_slice`](Span::copy_from_slice).
///
/// Writes take `&self`: every write is an atomic copy into memory that others may access
/// anyway, so there is no `&mut` for them to protect (like `Cell`).
pub struct PyViewMut<T: Element, D: Rank = AnyNdim, L: Contiguity = Strided> {
    held: Held<Span<T, D, Writable>>,
    _layout: PhantomData<L>,
}

impl<T: Element, D: Rank, L: Contiguity> PyView<T, D, L> {
    /// A view of `obj`, or a `TypeError` (or the exporter's own `BufferError`) saying what was
    /// expected and what `obj` offers.
    #[inline(always)]
    pub fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyView {
            held: acquire_held::<T, D, L, ReadOnly>(obj)?,
            _layout: PhantomData,
        })
    }

    /// Whether the exporter reports its memory read-only (a read-only view of a `bytearray`
    /// says no: the memory may still change under the view).
    pub fn readonly(&self) -> bool {
        self.held.export().readonly()
    }
}

impl<T: Element, D: Rank, L: Contiguity> PyView<T, D, L> {
    pub(crate) fn from_parts(export: Export, span: Span<T, D, ReadOnly>) -> Self {
        PyView {
            held: Held::new(Parts { export, span }),
            _layout: PhantomData,
        }
    }
}

impl<T: Element, D: Rank, L: Contiguity> PyViewMut<T, D, L> {
    /// A writable view of `obj`: refused (`BufferError` from the exporter, or `TypeError`) if
    /// the memory is read-only.
    #[inline]
    pub fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyViewMut {
            held: acquire_held::<T, D, L, Writable>(obj)?,
            _layout: PhantomData,
        })
    }

    /// Always `false`: the exporter granted `PyBUF_WRITABLE`.
    pub fn readonly(&self) -> bool {
        self.held.export().readonly()
    }
}

impl<T: Element, D: Rank, L: Contiguity> Deref for PyView<T, D, L> {
    type Target = Span<T, D, ReadOnly>;
    #[inline]
    fn deref(&self) -> &Self::Target {
        self.held.span()
    }
}

impl<T: Element, D: Rank, L: Contiguity> Deref for PyViewMut<T, D, L> {
    type Target = Span<T, D, Writable>;
    #[inline]
    fn deref(&self) -> &Self::Target {
        self.held.span()
    }
}

impl<'a, 'py, T: Element, D: Rank, L: Contiguity> FromPyObject<'a, 'py> for PyView<T, D, L> {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Self::new(&obj)
    }
}

impl<'a, 'py, T: Element, D: Rank, L: Contiguity> FromPyObject<'a, 'py> for PyViewMut<T, D, L> {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Self::new(&obj)
    }
}

impl<T: Element, D: Rank, L: Contiguity> std::fmt::Debug for PyView<T, D, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyView")
            .field("shape", &self.shape())
            .field("strides", &self.strides())
            .finish()
    }
}

impl<T: Element, D: Rank, L: Contiguity> std::fmt::Debug for PyViewMut<T, D, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyViewMut")
            .field("shape", &self.shape())
            .field("strides", &self.strides())
            .finish()
    }
}

/// What a view of `T`, `D`, `L` (writable or not) expects, as an error message says it.
fn expected<T: Element, D: Rank, L: Contiguity>(writable: bool) -> String {
    let w = if writable { "writable " } else { "" };
    let rank = D::NDIM.map(|n| format!("{n}-d ")).unwrap_or_default();
    format!(
        "a {w}{}{rank}buffer of {}",
        L::DESCRIPTION,
        format::describe_element::<T>()
    )
}

/// Exports `obj` and checks everything the view relies on, both written straight into the
/// block that holds them for the view's life (`held.rs` says why).
#[inline(always)]
fn acquire_held<T: Element, D: Rank, L: Contiguity, A: AccessFlags>(
    obj: &Bound<'_, PyAny>,
) -> PyResult<Held<Span<T, D, A>>> {
    let init = |parts: *mut Parts<Span<T, D, A>>| {
        // SAFETY: field addresses of `parts`, valid for writes (`Held::try_new`).
        let export = unsafe { std::ptr::addr_of_mut!((*parts).export) };
        // SAFETY: as above.
        let span = unsafe { std::ptr::addr_of_mut!((*parts).span) };
        // SAFETY: both valid for writes (above).
        unsafe { acquire_into::<T, D, L, A>(obj, export, span) }
    };
    // SAFETY: on `Ok`, `acquire_into` initialised both fields; on `Err` neither holds anything.
    unsafe { Held::try_new(init) }
}

/// Exports `obj` into `*export` and checks everything the view relies on into `*span`.
///
/// # Safety
/// `export` and `span` are valid for writes. On `Ok` both are initialised (and the export is
/// theirs to release, by dropping the `Export`); on `Err` neither holds anything.
#[inline(always)]
pub(crate) unsafe fn acquire_into<T: Element, D: Rank, L: Contiguity, A: AccessFlags>(
    obj: &Bound<'_, PyAny>,
    export: *mut Export,
    span: *mut Span<T, D, A>,
) -> PyResult<()> {
    let flags: c_int = L::FLAGS | bits::FORMAT | A::FLAGS;
    // SAFETY: `export` is valid for writes (contract).
    let view = unsafe { Export::view_ptr(export) };
    // SAFETY: `view` is valid for writes; on success the export is released exactly once: by
    // the guard below, or by the `Export` the caller now owns.
    if let Err(e) = unsafe { Export::fill(obj, flags, view) } {
        return Err(refused_cold::<T, D, L, A>(obj, e));
    }
    // Releases the export if the check fails or panics.
    struct Release(*mut pyo3::ffi::Py_buffer);
    impl Drop for Release {
        fn drop(&mut self) {
            // SAFETY: filled by the successful `fill`, released only here on this path
            // (attached: `acquire_into` runs with a `Bound`).
            unsafe { pyo3::ffi::PyBuffer_Release(self.0) }
        }
    }
    let guard = Release(view);
    // SAFETY: filled by `fill` (zeroed first, so every field is initialised), in place;
    // `Fields` is a transparent wrapper of `Py_buffer`.
    let fields = unsafe { &*view.cast::<Fields>() };
    // SAFETY: `span` is valid for writes (contract).
    unsafe { check_into::<T, D, L, A>(obj.py(), fields, span)? }; // `guard` releases on error
    std::mem::forget(guard);
    Ok(())
}

#[cold]
#[inline(never)]
fn refused_cold<T: Element, D: Rank, L: Contiguity, A: AccessFlags>(
    obj: &Bound<'_, PyAny>,
    e: PyErr,
) -> PyErr {
    refused(obj, e, || expected::<T, D, L>(A::WRITABLE))
}

/// The `TypeError` of a view refused after the export: what was expected, what was got, why.
#[cold]
#[inline(never)]
fn reject<T: Element, D: Rank, L: Contiguity, A: AccessFlags>(
    py: Python<'_>,
    fields: &Fields,
    reason: &str,
) -> PyErr {
    let sep = if reason.is_empty() { "" } else { ": " };
    view_type_error(
        py,
        format!(
            "expected {}, got {}{sep}{reason}",
            expected::<T, D, L>(A::WRITABLE),
            fields.describe()
        ),
    )
}

/// Checks an export made with at least the flags of `L` and `A` for a view of `T`, `D`, `L`.
#[inline(always)]
pub(crate) fn check<T: Element, D: Rank, L: Contiguity, A: AccessFlags>(
    py: Python<'_>,
    fields: &Fields,
) -> PyResult<Span<T, D, A>> {
    let mut out = std::mem::MaybeUninit::uninit();
    // SAFETY: `out` is valid for writes.
    unsafe { check_into::<T, D, L, A>(py, fields, out.as_mut_ptr())? };
    // SAFETY: `check_into` initialised it (it returned `Ok`).
    Ok(unsafe { out.assume_init() })
}

/// [`check`], writing the span into `*out` (initialised on `Ok`, untouched on `Err`).
///
/// # Safety
/// `out` is valid for writes.
#[inline(always)]
pub(crate) unsafe fn check_into<T: Element, D: Rank, L: Contiguity, A: AccessFlags>(
    py: Python<'_>,
    fields: &Fields,
    out: *mut Span<T, D, A>,
) -> PyResult<()> {
    let reject = |reason: &str| reject::<T, D, L, A>(py, fields, reason);
    if A::WRITABLE && fields.readonly() {
        return Err(reject(
            "the exporter granted PyBUF_WRITABLE but reports read-only memory",
        ));
    }
    // The exporter's format spelled exactly as `T`'s (the common case) needs no parsing.
    let exact = fields.itemsize() == size_of::<T>() as isize && fields.format_is(T::FORMAT);
    if !exact && !format::matches::<T>(fields.format(), fields.itemsize().max(0) as usize) {
        return Err(reject(""));
    }
    // The common answer in one pass, written in place; anything else (or a refusal) through
    // every check.
    // SAFETY: `out` is valid for writes (contract).
    if unsafe { fields.span_fast::<T, D, L, A>(out) } {
        return Ok(());
    }
    // SAFETY: as above.
    let start = unsafe { check_slow::<T, D, L, A>(py, fields, out) }?;
    // SAFETY: `check_slow` initialised `*out` with this start.
    unsafe { Span::restate_start(out, start) };
    Ok(())
}

/// [`check_into`] after the fast path declined: every check, one by one.
///
/// # Safety
/// `out` is valid for writes.
#[inline(never)]
unsafe fn check_slow<T: Element, D: Rank, L: Contiguity, A: AccessFlags>(
    py: Python<'_>,
    fields: &Fields,
    out: *mut Span<T, D, A>,
) -> PyResult<NonNull<u8>> {
    let reject = |reason: &str| reject::<T, D, L, A>(py, fields, reason);
    let CheckedLayout {
        ptr,
        shape,
        strides,
        itemsize,
    } = fields.layout_checked::<D>().map_err(|r| reject(&r))?;
    if !L::accepts(shape.as_ref(), strides.as_ref(), itemsize) {
        return Err(reject(""));
    }
    // SAFETY: `layout` checked the exporter's fields; the export, held beside the span for its
    // whole life, keeps every element of the layout valid (and writable when `PyBUF_WRITABLE`
    // was granted and the memory is not read-only).
    let span = unsafe { Span::new(ptr, shape, strides) };
    let start = span.start();
    // SAFETY: `out` is valid for writes (contract).
    unsafe { out.write(span) };
    Ok(start)
}

/// The request bit and the check that go with an access mode.
pub(crate) trait AccessFlags: Access {
    const FLAGS: c_int;
    const WRITABLE: bool;
}
impl AccessFlags for ReadOnly {
    const FLAGS: c_int = 0;
    const WRITABLE: bool = false;
}
impl AccessFlags for Writable {
    const FLAGS: c_int = bits::WRITABLE;
    const WRITABLE: bool = true;
}

/// The error for an exporter that refused the view's request: a `TypeError` describing what the
/// object does offer (its exception as the cause), or the exporter's own exception when the
/// object offers no buffer at all.
pub(crate) fn refused(
    obj: &Bound<'_, PyAny>,
    cause: PyErr,
    expected: impl FnOnce() -> String,
) -> PyErr {
    let py = obj.py();
    // The widest request (suboffsets too), so that any buffer can be described.
    let got = match Export::acquire(obj, bits::INDIRECT | bits::FORMAT, Fields::describe) {
        Ok((_probe, got)) => got,
        Err(_) if cause.is_instance_of::<PyTypeError>(py) => {
            format!(
                "'{}', which is not a buffer",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            )
        }
        Err(_) => return cause,
    };
    let err = view_type_error(py, format!("expected {}, got {got}", expected()));
    err.set_cause(py, Some(cause));
    err
}

/// `buffer_runtime.ViewTypeError`, a `TypeError` whose `str()` starts with the parameter's
/// name once PyO3 has noted which argument failed (`src: expected ...`).
pub(crate) fn view_type_error(py: Python<'_>, msg: String) -> PyErr {
    static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let class = CLASS.get_or_try_init(py, || -> PyResult<Py<PyType>> {
        let module = PyModule::from_code(
            py,
            VIEW_TYPE_ERROR,
            c"buffer_runtime/view.py",
            c"buffer_runtime",
        )?;
        Ok(module
            .getattr("ViewTypeError")?
            .cast_into::<PyType>()?
            .unbind())
    });
    match class {
        Ok(class) => PyErr::from_type(class.bind(py).clone(), msg),
        Err(_) => PyTypeError::new_err(msg),
    }
}

const VIEW_TYPE_ERROR: &std::ffi::CStr = cr#"
class ViewTypeError(TypeError):
    """A buffer that a typed view refused. str() names the parameter PyO3 notes."""

    def __str__(self):
        msg = super().__str__()
        for note in getattr(self, "__notes__", ()):
            if isinstance(note, str) and note.startswith("while processing '") and note.endswith("'"):
                return f"{note[18:-1]}: {msg}"
        return msg
"#;
