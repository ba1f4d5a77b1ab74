//! What generated code calls. Not public API: no semver guarantees.

pub use crate::dims::{dim, stride};
pub use crate::dlpack::{dlpack, dlpack_device};
pub use crate::export::{Exported, Exporter, FrozenFlag, Shape, Strides};
pub use crate::foreign::AnyBlock;
pub use crate::layout::Order;
pub use crate::pickle::{
    expect_fields, field_from_py, BoxedFromPy, BoxedIntoPy, NotPickle, NotPickleDyn, Pickle,
    PickleDyn, Pickling, PicklingMissing, TypeProbe, ViaFromPy, ViaIntoPy, ViaPickle, ViaPickleDyn,
};
pub use crate::record_format::{
    as_cstr, clear_gaps, format_bytes, format_len, format_string, has_padding, load_field, Field,
};
pub use pyo3;

/// Compile-time check that a constant shape fits a fixed-size storage.
pub const fn check_fixed_count(shape_count: usize, storage_count: Option<usize>) {
    if let Some(n) = storage_count {
        assert!(
            shape_count == n,
            "the shape's element count differs from the array's"
        );
    }
}

/// Names `S: WritableStorage` so that rustc reports it on the field type.
pub fn assert_writable<S: crate::WritableStorage + ?Sized>() {}

/// Names `S: Storage` so that rustc reports it on the field type.
pub fn assert_storage<S: crate::Storage + ?Sized>() {}

/// Names `E: Element` so that rustc reports it on an `element = E` type.
pub fn assert_element<E: crate::Element>() {}

/// `element = T` presents the storage's bytes as `T`: equal sizes (when both are known).
pub const fn same_itemsize(storage: Option<usize>, element: Option<usize>) -> bool {
    match (storage, element) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// Names `E: Shaped` so that rustc reports it on the element type.
pub fn assert_shaped<E: crate::Shaped>() {}

/// Type facts for the derive's `const` assertions, `None` when unknown: the inherent
/// constants apply when the bound holds, [`FactsUnknown`]'s otherwise (inherent items are
/// looked up first). So a field or element that is not a buffer type is reported once, by
/// its own check, not again by each assertion.
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
    /// Checks the field type `S` once its element `E` is known to be good.
    pub fn storage_of<S: crate::Storage + ?Sized>() {}
    /// Checks that the field type `S` may be written, once its element is known to be good.
    pub fn writable_of<S: crate::WritableStorage + ?Sized>() {}
}
pub trait FactsUnknown {
    const FIXED_COUNT: Option<usize> = None;
    const ELEMENT_SIZE: Option<usize> = None;
    /// A bad `element = E` is already reported by `assert_element`.
    fn present(ex: Exporter<'_>) -> Exporter<'_> {
        ex
    }
    const HAS_PADDING: bool = false;
    const ITEMSIZE: Option<usize> = None;
    /// A bad element is already reported by `assert_shaped`.
    fn storage_of<S: ?Sized>() {}
    fn writable_of<S: ?Sized>() {}
}
impl<S: ?Sized> FactsUnknown for Facts<S> {}

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

/// `#[buffer_methods]` on a class without `#[derive(PyBuffer)]`: one readable error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not derive `PyBuffer`",
    label = "#[buffer_methods] needs `#[derive(PyBuffer)]` on this type",
    note = "add `#[derive(PyBuffer)]` below `#[pyclass]` on the struct and mark its data field `#[buffer]`"
)]
pub trait DerivesPyBuffer {}
impl<T: crate::PyBuffer> DerivesPyBuffer for T {}
pub fn assert_py_buffer<T: DerivesPyBuffer>() {}

/// The slots `#[buffer_methods]` generates call: [`crate::getbuffer`] and
/// [`crate::releasebuffer`] for a `PyBuffer` class, [`SlotsMissing`]'s otherwise, so that
/// the only error is `assert_py_buffer`'s.
pub struct Slots<T>(core::marker::PhantomData<T>);
impl<T: crate::PyBuffer> Slots<T>
where
    T::Frozen: FrozenFlag,
{
    /// # Safety
    /// As [`crate::getbuffer`].
    #[inline]
    pub unsafe fn getbuffer(
        slf: pyo3::Bound<'_, T>,
        view: *mut pyo3::ffi::Py_buffer,
        flags: core::ffi::c_int,
    ) -> pyo3::PyResult<()> {
        // SAFETY: forwarded contract.
        unsafe { crate::getbuffer(slf, view, flags) }
    }
    /// # Safety
    /// As [`crate::releasebuffer`].
    #[inline]
    pub unsafe fn releasebuffer(slf: pyo3::Bound<'_, T>, view: *mut pyo3::ffi::Py_buffer) {
        // SAFETY: forwarded contract.
        unsafe { crate::releasebuffer(slf, view) }
    }
}
/// Chosen only for a class that is not `PyBuffer`, which `assert_py_buffer` turns into a
/// compile error: never runs.
pub trait SlotsMissing<T> {
    /// # Safety
    /// Never called (see the trait).
    unsafe fn getbuffer(
        _: pyo3::Bound<'_, T>,
        _: *mut pyo3::ffi::Py_buffer,
        _: core::ffi::c_int,
    ) -> pyo3::PyResult<()> {
        unreachable!(
            "#[buffer_methods] rejects a class without #[derive(PyBuffer)] at compile time"
        )
    }
    /// # Safety
    /// Never called (see the trait).
    unsafe fn releasebuffer(_: pyo3::Bound<'_, T>, _: *mut pyo3::ffi::Py_buffer) {
        unreachable!(
            "#[buffer_methods] rejects a class without #[derive(PyBuffer)] at compile time"
        )
    }
}
impl<T> SlotsMissing<T> for Slots<T> {}

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
    #[inline]
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
