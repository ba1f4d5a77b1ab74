//! What generated code calls. Not public API: no semver guarantees.
//!
//! Autoref dispatch: generated code calls a method on `&Probe(..)` (or `Facts::<T>`); the
//! `Via*` trait (or inherent item) applies when the type is good, the `Not*` trait otherwise,
//! so that a bad type is reported once, by the derive's own check, not again by each use.

pub use crate::class_methods::{install as install_methods, ClassMethods};
pub use crate::dims::{dim, stride};
pub use crate::export::{Exported, Exporter, Shape, Strides};
pub use crate::fast::TypeCell;
pub use crate::foreign::AnyBlock;
pub use crate::layout::Order;
pub use crate::pickle::{
    expect_fields, field_from_py, BoxedFromPy, BoxedIntoPy, NotPickle, NotPickleDyn, NotPickling,
    Pickle, PickleDyn, Pickling, TypeProbe, ViaFromPy, ViaIntoPy, ViaPickle, ViaPickleDyn,
};
pub use crate::provider::FrozenFlag;
pub use crate::record_format::{
    as_cstr, clear_gaps, format_bytes, format_len, format_string, has_padding, load_field, Field,
};
pub use pyo3;

/// `element = T` presents the storage's bytes as `T`: equal sizes (when both are known).
pub const fn same_itemsize(storage: Option<usize>, element: Option<usize>) -> bool {
    match (storage, element) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

// The derive names each requirement on the user's own tokens, in a form whose error carries no
// path of this module: `<T as Trait>::ITEM` for a public trait, or a generic function the
// derive itself defines (its bound spanned on the annotation key that demands it).

/// Type facts for the derive's checks, `None` when unknown: the inherent items apply when the
/// bound holds, [`NotFacts`]'s (and [`NotField`]'s) otherwise (inherent items are looked up
/// first). So a field or element that is not a buffer type is reported once, by its own check,
/// not again by each use.
pub struct Facts<S: ?Sized>(core::marker::PhantomData<S>);
impl<S: crate::Storage + ?Sized> Facts<S> {
    /// The storage's fixed element count (arrays).
    pub const FIXED_COUNT: Option<usize> = S::FIXED_COUNT;
}
impl<E: crate::Element> Facts<E> {
    /// The size of an `element = E` type.
    pub const ELEMENT_SIZE: Option<usize> = Some(core::mem::size_of::<E>());
    /// `element = E`: the exporter presents the items as `E`.
    #[inline(always)]
    pub fn present(ex: Exporter<'_>) -> Exporter<'_> {
        ex.element::<E>()
    }
}
impl<E: crate::Shaped> Facts<E> {
    /// The size of one item of a `Shaped` type.
    pub const ITEMSIZE: Option<usize> = Some(core::mem::size_of::<E::Elem>());
    /// Whether the elements have padding bytes.
    pub const HAS_PADDING: bool = E::HAS_PADDING;
    /// The field type `S`, to be checked (storage, writable) once its element `E` is known
    /// to be good.
    pub const fn field_type<S: ?Sized>() -> core::marker::PhantomData<S> {
        core::marker::PhantomData
    }
    /// A record field of type `E` (`#[derive(Element)]`).
    pub const FIELD: FieldType = FieldType {
        size: core::mem::size_of::<E>(),
        align: core::mem::align_of::<E>(),
        format: <E::Elem as crate::Element>::FORMAT,
        dims: E::DIMS,
        padding: E::HAS_PADDING,
    };
    /// Reads a record field of type `E`.
    ///
    /// # Safety
    /// As [`load_field`].
    #[inline(always)]
    pub unsafe fn load_field(record: *const u8, offset: usize) -> E {
        // SAFETY: forwarded contract.
        unsafe { load_field::<E>(record, offset) }
    }
    /// Zeroes the padding of a record field of type `E`.
    ///
    /// # Safety
    /// As [`crate::Shaped::clear_padding`].
    #[inline(always)]
    pub unsafe fn clear_padding(p: *mut E) {
        // SAFETY: forwarded contract.
        unsafe { E::clear_padding(p) }
    }
}
impl<T: pyo3::PyClass> Facts<T> {
    /// The class, to be checked for its slots once it is known to be a `#[pyclass]`.
    pub const fn py_class() -> core::marker::PhantomData<T> {
        core::marker::PhantomData
    }
}
/// [`Facts`] of a type that is not a buffer type, whose own check reports it.
pub trait NotFacts {
    /// A struct that is not a `#[pyclass]` is reported as such, not also for its slots.
    fn py_class() -> core::marker::PhantomData<crate::OwnedBuffer> {
        core::marker::PhantomData
    }
    const FIXED_COUNT: Option<usize> = None;
    const ELEMENT_SIZE: Option<usize> = None;
    fn present(ex: Exporter<'_>) -> Exporter<'_> {
        ex
    }
    const HAS_PADDING: bool = false;
    const ITEMSIZE: Option<usize> = None;
    /// A type that passes every check, so that the element's error is the only one.
    fn field_type<S: ?Sized>() -> core::marker::PhantomData<crate::SharedVec<u8>> {
        core::marker::PhantomData
    }
}
impl<S: ?Sized> NotFacts for Facts<S> {}
/// [`Facts`] of a record field whose type is not a buffer element (`#[derive(Element)]`
/// reports it once, on the field's type): a placeholder that keeps the format's `const`s
/// computable, never run.
pub trait NotField<S> {
    const FIELD: FieldType;
    /// # Safety
    /// Never called: the crate does not compile.
    unsafe fn load_field(_: *const u8, _: usize) -> S {
        unreachable!("#[derive(Element)] rejects a field that is not an element at compile time")
    }
    /// # Safety
    /// Never called: the crate does not compile.
    unsafe fn clear_padding(_: *mut S) {}
}
impl<S> NotField<S> for Facts<S> {
    const FIELD: FieldType = FieldType {
        size: core::mem::size_of::<S>(),
        align: core::mem::align_of::<S>(),
        format: c"B",
        dims: crate::ArrayDims::SCALAR,
        padding: false,
    };
}

/// What a record field's type contributes to its [`Field`].
#[derive(Clone, Copy)]
pub struct FieldType {
    size: usize,
    align: usize,
    format: &'static core::ffi::CStr,
    dims: crate::ArrayDims,
    padding: bool,
}

/// The record field `name` at `offset`, of the type `ty` describes.
pub const fn field(ty: FieldType, name: &'static str, offset: usize) -> Field<'static> {
    Field {
        name,
        offset,
        size: ty.size,
        align: ty.align,
        format: ty.format,
        dims: ty.dims,
        padding: ty.padding,
    }
}

/// One shape entry from the field `field`: `value` is `Dim::to_dim` of it, `raw` its value.
#[inline(always)]
pub fn dim_of(
    value: Option<usize>,
    raw: i128,
    field: &'static str,
) -> Result<usize, crate::ExportError> {
    // A `match`, not `ok_or`: an error built on the success path would be dropped there too.
    match value {
        Some(v) => Ok(v),
        None => Err(crate::ExportError::BadField { field, value: raw }),
    }
}

/// One byte stride (or offset) from the field `field`, as [`dim_of`].
#[inline(always)]
pub fn stride_of(
    value: Option<isize>,
    raw: i128,
    field: &'static str,
) -> Result<isize, crate::ExportError> {
    // A `match`, not `ok_or`: an error built on the success path would be dropped there too.
    match value {
        Some(v) => Ok(v),
        None => Err(crate::ExportError::BadField { field, value: raw }),
    }
}

/// Whether every element of a strided layout lies within `count` items of `itemsize`
/// bytes: the compile-time form of `layout::check_bounds`, for constant annotations.
pub const fn strided_fits(
    shape: &[usize],
    strides: &[isize],
    offset: isize,
    itemsize: usize,
    count: usize,
) -> bool {
    if shape.len() != strides.len() {
        return false;
    }
    let (mut low, mut high) = (0i128, 0i128);
    let mut i = 0;
    while i < shape.len() {
        if shape[i] == 0 {
            return true; // no element is addressed
        }
        let reach = strides[i] as i128 * (shape[i] as i128 - 1);
        if reach < 0 {
            low += reach;
        } else {
            high += reach;
        }
        i += 1;
    }
    let start = offset as i128 + low;
    let end = offset as i128 + high + itemsize as i128;
    start >= 0 && end <= (count as i128) * (itemsize as i128)
}

/// `#[buffer_methods]` implements it for its class, and `#[derive(PyBuffer)]` requires it:
/// a class whose buffer slots are missing does not compile. A class that writes
/// `__getbuffer__` / `__releasebuffer__` by hand says so with `#[buffer(slots = "manual")]`,
/// and the derive implements it instead.
#[diagnostic::on_unimplemented(
    message = "`{Self}` derives `PyBuffer` but has no buffer slots: `#[buffer_methods]` is missing",
    label = "Python would see no buffer: `memoryview()` raises `TypeError`, `numpy.asarray()` makes a 0-d object array, `bytes()` returns other data",
    note = "add `#[buffer_methods]` above `#[pymethods]` on an `impl {Self}` block (an empty `#[buffer_methods] #[pymethods] impl {Self} {{}}` will do)",
    note = "if the class writes `__getbuffer__` and `__releasebuffer__` itself, say so with `#[buffer(slots = \"manual\")]` on the struct"
)]
pub trait BufferSlots {
    /// Named by the derive's check.
    const SLOTS: () = ();
}

/// The slots `#[buffer_methods]` generates call: what [`crate::getbuffer`] and
/// [`crate::releasebuffer`] do for a `PyBuffer` class, [`NotSlots`]'s otherwise, so that
/// the only error is `assert_py_buffer`'s.
///
/// Compiled for every class, so only the class-specific part is generic: the export body
/// (`crate::getbuffer`: under abi3 the quick try, then `fast::getbuffer_general::<T>`); the
/// error of a failed export is taken back by a function compiled once.
pub struct Slots<T>(core::marker::PhantomData<T>);
impl<T: crate::PyBuffer> Slots<T>
where
    T::Frozen: FrozenFlag,
{
    /// # Safety
    /// As [`crate::getbuffer`].
    #[inline]
    pub unsafe fn getbuffer(
        slf: &pyo3::Bound<'_, T>,
        view: *mut pyo3::ffi::Py_buffer,
        flags: core::ffi::c_int,
    ) -> pyo3::PyResult<()> {
        // SAFETY: forwarded contract.
        unsafe { crate::slots::getbuffer_borrowed(slf, view, flags) }
    }
    /// # Safety
    /// As [`crate::releasebuffer`].
    #[inline]
    pub unsafe fn releasebuffer(_slf: &pyo3::Bound<'_, T>, view: *mut pyo3::ffi::Py_buffer) {
        // SAFETY: forwarded contract (`crate::releasebuffer`'s body).
        unsafe { crate::slots::release_view(view) };
    }
    /// Writes the plain buffer slots into `T`'s type while PyO3 creates it (non-abi3; see
    /// `fast.rs`).
    pub fn install(py: pyo3::Python<'_>) -> pyo3::PyResult<()> {
        crate::fast::install::<T>(py)
    }
}

/// Chosen only for a class that is not `PyBuffer`, which `assert_py_buffer` turns into a
/// compile error: never runs.
pub trait NotSlots<T> {
    /// # Safety
    /// Never called (see the trait).
    unsafe fn getbuffer(
        _: &pyo3::Bound<'_, T>,
        _: *mut pyo3::ffi::Py_buffer,
        _: core::ffi::c_int,
    ) -> pyo3::PyResult<()> {
        unreachable!(
            "#[buffer_methods] rejects a class without #[derive(PyBuffer)] at compile time"
        )
    }
    /// # Safety
    /// Never called (see the trait).
    unsafe fn releasebuffer(_: &pyo3::Bound<'_, T>, _: *mut pyo3::ffi::Py_buffer) {
        unreachable!(
            "#[buffer_methods] rejects a class without #[derive(PyBuffer)] at compile time"
        )
    }
    /// Never called, as above; nothing to install.
    fn install(_: pyo3::Python<'_>) -> pyo3::PyResult<()> {
        Ok(())
    }
}
impl<T> NotSlots<T> for Slots<T> {}

/// The field, for [`ViaStorage`] / [`NotStorage`] dispatch.
pub struct Probe<'a, S: ?Sized>(pub &'a S);
impl<S: ?Sized> Clone for Probe<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S: ?Sized> Copy for Probe<'_, S> {}

/// The export call of generated code: `(&Probe(&self.field)).__buffer_export(..)` picks
/// this when the field is `Storage`. Otherwise it picks [`NotStorage`], so that the only
/// error is the derive's own check, spanned on the field's type or element type.
pub trait ViaStorage<'a> {
    fn __buffer_export(
        self,
        ex: Exporter<'a>,
        shape: Shape<'_>,
        strides: Strides<'_>,
        readonly: bool,
    ) -> Result<Exported, crate::ExportError>;
}
impl<'a, S: crate::Storage + ?Sized> ViaStorage<'a> for &Probe<'a, S> {
    #[inline(always)] // into the quick try, which makes no call (`fast.rs`)
    fn __buffer_export(
        self,
        ex: Exporter<'a>,
        shape: Shape<'_>,
        strides: Strides<'_>,
        readonly: bool,
    ) -> Result<Exported, crate::ExportError> {
        ex.export(self.0, shape, strides, readonly)
    }
}

/// Chosen only for a field that is not `Storage`, which the derive's check turns into a
/// compile error: never runs.
pub trait NotStorage<'a> {
    fn __buffer_export(
        self,
        ex: Exporter<'a>,
        shape: Shape<'_>,
        strides: Strides<'_>,
        readonly: bool,
    ) -> Result<Exported, crate::ExportError>;
}
impl<'a, S: ?Sized> NotStorage<'a> for Probe<'a, S> {
    fn __buffer_export(
        self,
        _: Exporter<'a>,
        _: Shape<'_>,
        _: Strides<'_>,
        _: bool,
    ) -> Result<Exported, crate::ExportError> {
        unreachable!("#[derive(PyBuffer)] rejects a field that is not `Storage` at compile time")
    }
}

/// What a `#[buffer(...)]` annotation says, for the message of a failed export. Generated
/// code builds it only on the error path (in the closure it gives `map_err`), reading the
/// fields again there, so a successful export pays nothing for it.
pub struct Annotation<'a> {
    /// The buffer field's name.
    pub field: &'static str,
    /// `shape`, when given.
    pub shape: Option<Key<'a>>,
    /// `strides`, when given.
    pub strides: Option<Key<'a>>,
    /// `offset`, when given.
    pub offset: Option<Key<'a>>,
}

/// One key of an [`Annotation`]: its value as written and as it is now.
pub struct Key<'a> {
    /// The value as written: `[rows, cols]`, `dims`, `4`.
    pub text: &'static str,
    /// The value the export used.
    pub values: Values<'a>,
}

/// The value of a [`Key`] at the failed export.
pub enum Values<'a> {
    /// A listed shape or strides, each entry as read.
    Listed(&'a [i128]),
    /// A field holding the whole shape.
    Dims(&'a [usize]),
    /// A field holding all strides.
    Strides(&'a [isize]),
    /// An offset.
    One(i128),
}

impl core::fmt::Display for Values<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        fn list<T: core::fmt::Display>(
            f: &mut core::fmt::Formatter<'_>,
            items: &[T],
        ) -> core::fmt::Result {
            f.write_str("[")?;
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{v}")?;
            }
            f.write_str("]")
        }
        match self {
            Values::Listed(v) => list(f, v),
            Values::Dims(v) => list(f, v),
            Values::Strides(v) => list(f, v),
            Values::One(v) => write!(f, "{v}"),
        }
    }
}

/// `shape = [rows, cols] = [2, 4]`, or `shape = [2, 4]` when nothing is read from fields.
fn key(name: &str, k: &Key<'_>) -> String {
    let now = k.values.to_string();
    if now == k.text {
        format!("{name} = {now}")
    } else {
        format!("{name} = {} = {now}", k.text)
    }
}

/// Whether `text` names the field `field` (as a whole word).
fn names(text: &str, field: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == field)
}

/// Calls `f`: the generated `__export`'s description of a layout, a closure so that the `?` of
/// its field conversions ends there. (An attribute such as `#[inline(always)]` is allowed on a
/// closure passed as an argument, not on one bound by `let`.)
#[inline(always)]
pub fn run<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// The generated `__export`'s answer: its error told by `explain` (with the annotation), except
/// in a quick try ([`Exporter::quick`]), which only needs to know that it failed and must not
/// make the call.
#[inline(always)]
pub fn explained(
    done: Result<Exported, crate::ExportError>,
    quick: bool,
    explain: impl FnOnce(crate::ExportError) -> crate::ExportError,
) -> Result<Exported, crate::ExportError> {
    match done {
        Ok(exported) => Ok(exported),
        Err(e) if quick => {
            e.discard();
            Err(crate::export::RETRY)
        }
        Err(e) => Err(explain(e)),
    }
}

/// A layout error of an export, told with the annotation (see [`Annotation`]); other errors
/// unchanged.
#[cold]
#[inline(never)]
pub fn explain(e: crate::ExportError, a: &Annotation<'_>) -> crate::ExportError {
    use crate::layout::LayoutError as L;
    use crate::ExportError as E;
    let field = a.field;
    let shape = a.shape.as_ref().map(|k| key("shape", k));
    let shape_or_own = || {
        shape
            .clone()
            .unwrap_or_else(|| format!("`{field}`'s own shape"))
    };
    let message = match &e {
        E::Layout(L::CountMismatch {
            shape_count,
            storage_count,
        }) => format!(
            "{}: {shape_count} elements, but {field} holds {storage_count}",
            shape_or_own()
        ),
        E::Layout(L::OutOfBounds {
            low,
            high,
            storage_bytes,
        }) => {
            let mut layout = a
                .strides
                .as_ref()
                .map_or_else(|| "strides".to_owned(), |k| key("strides", k));
            if let Some(o) = &a.offset {
                layout = format!("{layout}, {}", key("offset", o));
            }
            format!(
                "{layout} with {}: addresses bytes {low}..{high}, but {field} has {storage_bytes} bytes",
                shape_or_own()
            )
        }
        E::Layout(L::StridesRank { shape: n, strides }) => {
            let layout = a
                .strides
                .as_ref()
                .map_or_else(|| "strides".to_owned(), |k| key("strides", k));
            format!(
                "{layout}: {strides} strides for the {n} dimensions of {}",
                shape_or_own()
            )
        }
        E::Layout(L::TooManyDims(n)) => format!(
            "{}: {n} dimensions exceed the limit of {}",
            shape_or_own(),
            crate::layout::MAX_NDIM
        ),
        E::Layout(L::Overflow) => format!(
            "{}: the buffer's size in bytes overflows Py_ssize_t",
            shape_or_own()
        ),
        E::BadField { field: name, value } => {
            let found = [
                ("shape", &a.shape, "a dimension"),
                ("strides", &a.strides, "a byte stride"),
                ("offset", &a.offset, "a byte offset"),
            ]
            .into_iter()
            .find_map(|(key, k, what)| {
                k.as_ref()
                    .filter(|k| names(k.text, name))
                    .map(|k| (key, k.text, what))
            });
            match found {
                Some((key, text, what)) => {
                    format!("{key} = {text}: field `{name}` is {value}, which is not {what}")
                }
                None => return e,
            }
        }
        _ => return e,
    };
    E::Annotated {
        cause: Box::new(e),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::LayoutError;
    use crate::ExportError;

    fn matrix<'a>(dims: &'a [i128], steps: Option<&'a [i128]>) -> Annotation<'a> {
        Annotation {
            field: "data",
            shape: Some(Key {
                text: "[rows, cols]",
                values: Values::Listed(dims),
            }),
            strides: steps.map(|s| Key {
                text: "[pitch, 4]",
                values: Values::Listed(s),
            }),
            offset: None,
        }
    }

    #[test]
    fn layout_errors_name_the_annotation() {
        let e = explain(
            ExportError::Layout(LayoutError::CountMismatch {
                shape_count: 8,
                storage_count: 6,
            }),
            &matrix(&[2, 4], None),
        );
        assert_eq!(
            e.to_string(),
            "shape = [rows, cols] = [2, 4]: 8 elements, but data holds 6"
        );
        let e = explain(
            ExportError::Layout(LayoutError::OutOfBounds {
                low: 0,
                high: 28,
                storage_bytes: 24,
            }),
            &matrix(&[2, 3], Some(&[16, 4])),
        );
        assert_eq!(
            e.to_string(),
            "strides = [pitch, 4] = [16, 4] with shape = [rows, cols] = [2, 3]: addresses bytes 0..28, but data has 24 bytes"
        );
        let e = explain(
            ExportError::BadField {
                field: "pitch",
                value: -1,
            },
            &matrix(&[2, 3], Some(&[-1, 4])),
        );
        assert_eq!(
            e.to_string(),
            "strides = [pitch, 4]: field `pitch` is -1, which is not a byte stride"
        );
    }

    #[test]
    fn constant_values_are_not_repeated_and_other_errors_pass() {
        let a = Annotation {
            field: "cells",
            shape: Some(Key {
                text: "[4, 4]",
                values: Values::Listed(&[4, 4]),
            }),
            strides: None,
            offset: None,
        };
        let e = explain(
            ExportError::Layout(LayoutError::CountMismatch {
                shape_count: 16,
                storage_count: 9,
            }),
            &a,
        );
        assert_eq!(
            e.to_string(),
            "shape = [4, 4]: 16 elements, but cells holds 9"
        );
        let e = explain(ExportError::Borrowed, &a);
        assert!(matches!(e, ExportError::Borrowed));
    }
}
