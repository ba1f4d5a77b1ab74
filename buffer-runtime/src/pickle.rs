//! Pickling derived classes (PEP 574, protocol 5 out of band), `copy.copy` and `copy.deepcopy`.
//!
//! `#[derive(PyBuffer)]` implements [`Pickle`] (unless the struct says
//! `#[buffer(pickle = false)]`): the class's other fields travel as a tuple of Python values
//! (each field implements pyo3's `IntoPyObject` for `&T` and `FromPyObject`), the buffer
//! field as its storage's memory. `#[buffer_methods]` adds `__reduce_ex__`, `__copy__`,
//! `__deepcopy__` and the classmethod `_buffer_restore` that rebuilds the object.
//!
//! What is shipped is the storage's whole memory as bytes (padding rows of a strided layout
//! included), which is always contiguous, so every class goes out of band:
//! - `protocol >= 5`: a `pickle.PickleBuffer` over an [`OwnedBuffer`] that views the storage's
//!   memory (shared storage: it holds one count of the block, exactly like an export, so a
//!   growable storage cannot resize while the pickle buffer lives; plain storage of a frozen
//!   class: it holds the object; plain storage of a mutable class is copied once, since a
//!   `&mut self` method could otherwise free it). With a `buffer_callback` the pickler hands
//!   that buffer out of band, without one it writes it in band;
//! - `protocol < 5`: `bytes` (a copy), as numpy does.
//!
//! On load the storage decides ([`PickleStorage::unpickle`]): fixed-size storage over another
//! object's memory ([`SharedBlock`], [`OwnedBuffer`]) adopts a writable, aligned buffer in place
//! (zero copy); growable or inline storage copies. Every restored object is then exported once
//! to check that the fields and the data agree (a tampered pickle is a `ValueError`, never a
//! buffer that reaches outside its memory).

use std::borrow::Cow;
use std::convert::Infallible;
use std::ffi::CString;
use std::marker::PhantomData;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple, PyType};
use pyo3::{ffi, Borrowed, IntoPyObjectExt, PyClass};

use crate::dynamic::{ElementKind, SharedAnyVec};
use crate::element::Shaped;
use crate::foreign::{copy_items, load_bytes, AnyBlock, Block, ForeignExport, SharedBlock};
use crate::layout::Order;
use crate::owned::{OwnedBuffer, SharedHold};
use crate::provider::{FrozenFlag, PyBuffer};
use crate::shared::{SharedArray, SharedVec};
use crate::storage::Storage;

/// A storage type whose memory can be pickled and rebuilt.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be pickled",
    label = "storage without pickle support",
    note = "add `#[buffer(pickle = false)]` to the struct to leave the class unpicklable"
)]
pub trait PickleStorage: Storage + Sized {
    /// What the bytes alone do not say (the element kind of a [`SharedAnyVec`], the format of
    /// an [`OwnedBuffer`]); `None` for typed storage.
    fn pickle_meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(py.None().into_bound(py))
    }

    /// Rebuilds the storage from `data`, any object exporting its bytes (a `PickleBuffer`,
    /// `bytes`, `bytearray`, a memoryview of received frames), keeping that memory when the
    /// storage can (fixed size, writable, aligned) and copying it otherwise.
    fn unpickle(data: &Bound<'_, PyAny>, meta: &Bound<'_, PyAny>) -> PyResult<Self>;

    /// An independent copy with memory of its own.
    fn duplicate(&self) -> PyResult<Self>;
}

impl<S: Shaped> PickleStorage for SharedVec<S> {
    fn unpickle(data: &Bound<'_, PyAny>, _: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(SharedVec::from(copy_items::<S>(data)?)) // growable: must own an allocation
    }
    fn duplicate(&self) -> PyResult<Self> {
        Ok(self.clone())
    }
}

impl<S: Shaped> PickleStorage for SharedArray<S> {
    fn unpickle(data: &Bound<'_, PyAny>, _: &Bound<'_, PyAny>) -> PyResult<Self> {
        match copy_items::<S>(data)?[..] {
            [value] => Ok(SharedArray::new(value)),
            ref other => Err(PyValueError::new_err(format!(
                "expected one value, got {}",
                other.len()
            ))),
        }
    }
    fn duplicate(&self) -> PyResult<Self> {
        Ok(self.clone())
    }
}

impl<S: Shaped> PickleStorage for SharedBlock<S> {
    fn unpickle(data: &Bound<'_, PyAny>, _: &Bound<'_, PyAny>) -> PyResult<Self> {
        SharedBlock::adopt_or_copy(data)
    }
    fn duplicate(&self) -> PyResult<Self> {
        Ok(self.clone())
    }
}

impl<S: Shaped> PickleStorage for Vec<S> {
    fn unpickle(data: &Bound<'_, PyAny>, _: &Bound<'_, PyAny>) -> PyResult<Self> {
        copy_items::<S>(data)
    }
    fn duplicate(&self) -> PyResult<Self> {
        Ok(self.clone())
    }
}

impl<S: Shaped> PickleStorage for Box<[S]> {
    fn unpickle(data: &Bound<'_, PyAny>, _: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(copy_items::<S>(data)?.into_boxed_slice())
    }
    fn duplicate(&self) -> PyResult<Self> {
        Ok(self.clone())
    }
}

/// An inline value (`[[f32; 4]; 4]`, a scalar).
impl<S: Shaped> PickleStorage for S {
    fn unpickle(data: &Bound<'_, PyAny>, meta: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(SharedArray::<S>::unpickle(data, meta)?.get())
    }
    fn duplicate(&self) -> PyResult<Self> {
        Ok(*self)
    }
}

/// Runs `$body` with `$t` the Rust type of `ElementKind` `$kind`.
macro_rules! with_kind {
    ($kind:expr, $t:ident => $body:expr) => {{
        use crate::endian::{Be, Le};
        match $kind {
            ElementKind::Bool => {
                type $t = bool;
                $body
            }
            ElementKind::I8 => {
                type $t = i8;
                $body
            }
            ElementKind::U8 => {
                type $t = u8;
                $body
            }
            ElementKind::I16 => {
                type $t = i16;
                $body
            }
            ElementKind::U16 => {
                type $t = u16;
                $body
            }
            ElementKind::I32 => {
                type $t = i32;
                $body
            }
            ElementKind::U32 => {
                type $t = u32;
                $body
            }
            ElementKind::I64 => {
                type $t = i64;
                $body
            }
            ElementKind::U64 => {
                type $t = u64;
                $body
            }
            #[cfg(feature = "half")]
            ElementKind::F16 => {
                type $t = half::f16;
                $body
            }
            ElementKind::F32 => {
                type $t = f32;
                $body
            }
            ElementKind::F64 => {
                type $t = f64;
                $body
            }
            #[cfg(feature = "num-complex")]
            ElementKind::C64 => {
                type $t = num_complex::Complex<f32>;
                $body
            }
            #[cfg(feature = "num-complex")]
            ElementKind::C128 => {
                type $t = num_complex::Complex<f64>;
                $body
            }
            ElementKind::LeI16 => {
                type $t = Le<i16>;
                $body
            }
            ElementKind::BeI16 => {
                type $t = Be<i16>;
                $body
            }
            ElementKind::LeU16 => {
                type $t = Le<u16>;
                $body
            }
            ElementKind::BeU16 => {
                type $t = Be<u16>;
                $body
            }
            ElementKind::LeI32 => {
                type $t = Le<i32>;
                $body
            }
            ElementKind::BeI32 => {
                type $t = Be<i32>;
                $body
            }
            ElementKind::LeU32 => {
                type $t = Le<u32>;
                $body
            }
            ElementKind::BeU32 => {
                type $t = Be<u32>;
                $body
            }
            ElementKind::LeI64 => {
                type $t = Le<i64>;
                $body
            }
            ElementKind::BeI64 => {
                type $t = Be<i64>;
                $body
            }
            ElementKind::LeU64 => {
                type $t = Le<u64>;
                $body
            }
            ElementKind::BeU64 => {
                type $t = Be<u64>;
                $body
            }
            #[cfg(feature = "half")]
            ElementKind::LeF16 => {
                type $t = Le<half::f16>;
                $body
            }
            #[cfg(feature = "half")]
            ElementKind::BeF16 => {
                type $t = Be<half::f16>;
                $body
            }
            ElementKind::LeF32 => {
                type $t = Le<f32>;
                $body
            }
            ElementKind::BeF32 => {
                type $t = Be<f32>;
                $body
            }
            ElementKind::LeF64 => {
                type $t = Le<f64>;
                $body
            }
            ElementKind::BeF64 => {
                type $t = Be<f64>;
                $body
            }
        }
    }};
}

impl PickleStorage for SharedAnyVec {
    fn pickle_meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, self.kind().numpy_name()).into_any())
    }
    fn unpickle(data: &Bound<'_, PyAny>, meta: &Bound<'_, PyAny>) -> PyResult<Self> {
        let name: String = meta.extract()?;
        let kind = ElementKind::from_numpy_name(&name)
            .ok_or_else(|| PyValueError::new_err(format!("unknown element kind {name:?}")))?;
        Ok(with_kind!(kind, T => SharedAnyVec::from(SharedVec::from(copy_items::<T>(data)?))))
    }
    fn duplicate(&self) -> PyResult<Self> {
        Ok(self.clone())
    }
}

/// The alignment a block of `itemsize`-byte items is adopted (or copied) with: the largest
/// power of two dividing the itemsize, at most 8 (what any element type here needs).
fn item_align(itemsize: usize) -> usize {
    1 << itemsize.trailing_zeros().min(3)
}

impl PickleStorage for AnyBlock {
    fn pickle_meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let format = self
            .0
            .format()
            .to_str()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        (format, self.0.itemsize(), !self.0.writable()).into_bound_py_any(py)
    }
    fn unpickle(data: &Bound<'_, PyAny>, meta: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (format, itemsize, readonly): (String, usize, bool) = meta.extract()?;
        let format = CString::new(format).map_err(|e| PyValueError::new_err(e.to_string()))?;
        if itemsize == 0 {
            return Err(PyValueError::new_err("itemsize 0"));
        }
        let align = item_align(itemsize);
        // In place when the memory can be kept (writable, or read-only data given read-only).
        let adopted = ForeignExport::new(data, true)
            .or_else(|e| {
                if readonly {
                    ForeignExport::new(data, false)
                } else {
                    Err(e)
                }
            })
            .ok()
            .and_then(|ex| Block::foreign(ex, Cow::Owned(format.clone()), itemsize, align).ok());
        let block = match adopted {
            Some(b) => b,
            None => {
                let src = ForeignExport::new(data, false)?;
                if src.len() % itemsize != 0 {
                    return Err(PyValueError::new_err(format!(
                        "{} bytes are not a whole number of {itemsize}-byte items",
                        src.len()
                    )));
                }
                let words: Vec<u64> = crate::foreign::try_zeroed_words(src.len())?;
                let b = Block::from_words(words, src.len(), Cow::Owned(format), itemsize);
                // SAFETY: `src` holds `len` bytes; the fresh block has room for them and nobody
                // else knows it yet.
                unsafe { load_bytes(src.ptr(), b.ptr(), src.len()) };
                b
            }
        };
        Ok(AnyBlock(std::sync::Arc::new(block)))
    }
    fn duplicate(&self) -> PyResult<Self> {
        let n = self.0.bytes();
        let words = crate::foreign::try_zeroed_words(n)?;
        let b = Block::from_words(
            words,
            n,
            Cow::Owned(self.0.format().to_owned()),
            self.0.itemsize(),
        );
        // SAFETY: the source block holds `n` bytes (others may write them: byte-wise atomic
        // copy); the new one is private and has room for them.
        unsafe { load_bytes(self.0.ptr(), b.ptr(), n) };
        Ok(AnyBlock(std::sync::Arc::new(b)))
    }
}

/// A class `#[derive(PyBuffer)]` can pickle: generated, not for hand use. The storage type is
/// never named (so that a bad field type is reported once, by the derive's own checks): it is
/// reached through [`Probe`] / [`TypeProbe`] dispatch, and a storage without pickle support
/// makes the class unpicklable at run time (`TypeError`).
///
/// Object-safe for its first two methods: dumping runs once for every class, over
/// `&dyn Pickle` (see [`Pickling`]).
#[doc(hidden)]
pub trait Pickle {
    /// The buffer field, if its type is a [`PickleStorage`].
    fn __storage(&self) -> Option<&dyn PickleDyn>;
    /// The other fields, in declaration order.
    fn __fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>>;
    /// The object from pickled data and fields.
    fn __unpickle(
        data: &Bound<'_, PyAny>,
        meta: &Bound<'_, PyAny>,
        fields: &Bound<'_, PyTuple>,
    ) -> PyResult<Self>
    where
        Self: Sized;
    /// A copy with memory of its own, with the given fields.
    fn __duplicate(&self, fields: &Bound<'_, PyTuple>) -> PyResult<Self>
    where
        Self: Sized;
}

/// What dumping needs of a storage, object-safe.
#[doc(hidden)]
pub trait PickleDyn {
    fn raw(&self) -> (crate::storage::RawParts, usize, bool);
    fn hold(&self) -> Option<crate::hold::Hold>;
    fn meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}

impl<S: PickleStorage> PickleDyn for S {
    fn raw(&self) -> (crate::storage::RawParts, usize, bool) {
        (self.raw_parts(), self.itemsize(), S::SHARED)
    }
    fn hold(&self) -> Option<crate::hold::Hold> {
        self.keep_alive()
    }
    fn meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.pickle_meta(py)
    }
}

/// The storage type of a field, inferred from an accessor and never named (generated code).
#[doc(hidden)]
pub struct TypeProbe<S: ?Sized>(PhantomData<fn() -> *const S>);
impl<S: ?Sized> Clone for TypeProbe<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S: ?Sized> Copy for TypeProbe<S> {}
impl<S: ?Sized> TypeProbe<S> {
    pub fn of<T, F: Fn(&T) -> &S>(_: F) -> Self {
        TypeProbe(PhantomData)
    }
}

fn no_pickle() -> PyErr {
    PyTypeError::new_err("the buffer field's storage type has no pickle support (PickleStorage)")
}

/// Dispatch on a storage that pickles (generated code: `(&Probe(&self.data)).__pickle_dyn()`,
/// `(&TypeProbe::of(..)).__unpickle(..)`).
#[doc(hidden)]
pub trait ViaPickle<S> {
    fn __unpickle_storage(self, data: &Bound<'_, PyAny>, meta: &Bound<'_, PyAny>) -> PyResult<S>;
    fn __duplicate_storage(self) -> PyResult<S>;
}

impl<S: PickleStorage> ViaPickle<S> for &TypeProbe<S> {
    fn __unpickle_storage(self, data: &Bound<'_, PyAny>, meta: &Bound<'_, PyAny>) -> PyResult<S> {
        S::unpickle(data, meta)
    }
    fn __duplicate_storage(self) -> PyResult<S> {
        Err(no_pickle())
    }
}

impl<'a, S: PickleStorage> ViaPickle<S> for &crate::__private::Probe<'a, S> {
    fn __unpickle_storage(self, _: &Bound<'_, PyAny>, _: &Bound<'_, PyAny>) -> PyResult<S> {
        Err(no_pickle())
    }
    fn __duplicate_storage(self) -> PyResult<S> {
        self.0.duplicate()
    }
}

/// The field as a dumpable storage, if it is one (generated code).
#[doc(hidden)]
pub trait ViaPickleDyn<'a> {
    fn __pickle_dyn(self) -> Option<&'a dyn PickleDyn>;
}
impl<'a, S: PickleStorage> ViaPickleDyn<'a> for &crate::__private::Probe<'a, S> {
    fn __pickle_dyn(self) -> Option<&'a dyn PickleDyn> {
        Some(self.0)
    }
}

/// Chosen for a storage without pickle support: a run-time `TypeError`.
#[doc(hidden)]
pub trait NotPickle<S> {
    fn __unpickle_storage(self, _: &Bound<'_, PyAny>, _: &Bound<'_, PyAny>) -> PyResult<S>
    where
        Self: Sized,
    {
        Err(no_pickle())
    }
    fn __duplicate_storage(self) -> PyResult<S>
    where
        Self: Sized,
    {
        Err(no_pickle())
    }
}
impl<S> NotPickle<S> for TypeProbe<S> {}
impl<'a, S> NotPickle<S> for crate::__private::Probe<'a, S> {}

/// Chosen for a storage without pickle support.
#[doc(hidden)]
pub trait NotPickleDyn<'a> {
    fn __pickle_dyn(self) -> Option<&'a dyn PickleDyn>
    where
        Self: Sized,
    {
        None
    }
}
impl<'a, S: ?Sized> NotPickleDyn<'a> for crate::__private::Probe<'a, S> {}

/// A field as a Python value: `&T: IntoPyObject` (generated code:
/// `(&Probe(&self.rows)).__to_py(py)`).
#[doc(hidden)]
pub trait ViaIntoPy<'py> {
    fn __to_py(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}
impl<'a, 'py, T: ?Sized> ViaIntoPy<'py> for &crate::__private::Probe<'a, T>
where
    &'a T: IntoPyObject<'py>,
{
    fn __to_py(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.0.into_bound_py_any(py)
    }
}

/// A `Box<[T]>` field (a whole shape or strides) as a list.
#[doc(hidden)]
pub trait BoxedIntoPy<'py> {
    fn __to_py(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}
impl<'a, 'py, E> BoxedIntoPy<'py> for crate::__private::Probe<'a, Box<[E]>>
where
    &'a [E]: IntoPyObject<'py>,
{
    fn __to_py(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (&**self.0).into_bound_py_any(py)
    }
}

/// A field from a Python value: `T: FromPyObject` (generated code:
/// `(&TypeProbe::of(|s: &Self| &s.rows)).__from_py(item)`).
#[doc(hidden)]
pub trait ViaFromPy<T> {
    fn __from_py(self, item: &Bound<'_, PyAny>) -> PyResult<T>;
}
impl<T> ViaFromPy<T> for &TypeProbe<T>
where
    T: for<'a, 'py> FromPyObject<'a, 'py>,
{
    fn __from_py(self, item: &Bound<'_, PyAny>) -> PyResult<T> {
        item.extract::<T>().map_err(Into::into)
    }
}

/// A `Box<[T]>` field from a sequence.
#[doc(hidden)]
pub trait BoxedFromPy<T> {
    fn __from_py(self, item: &Bound<'_, PyAny>) -> PyResult<T>;
}
impl<E> BoxedFromPy<Box<[E]>> for TypeProbe<Box<[E]>>
where
    E: for<'a, 'py> FromPyObject<'a, 'py>,
{
    fn __from_py(self, item: &Bound<'_, PyAny>) -> PyResult<Box<[E]>> {
        Ok(item.extract::<Vec<E>>()?.into_boxed_slice())
    }
}

/// Field `index` (named `name`) of a pickled field tuple, converted by `convert` (generated
/// code); a bad value is a `ValueError` naming the field.
///
/// `convert` is a function pointer (the generated closure captures nothing), so this is
/// compiled once for each field type, not once for each field of each class (and kept out of
/// line: inlined, it would be again).
#[doc(hidden)]
#[inline(never)]
pub fn field_from_py<'py, T>(
    fields: &Bound<'py, PyTuple>,
    index: usize,
    name: &str,
    convert: fn(&Bound<'py, PyAny>) -> PyResult<T>,
) -> PyResult<T> {
    let item = fields.get_item(index)?;
    convert(&item).map_err(|e| field_error(fields.py(), name, e))
}

/// The `ValueError` of [`field_from_py`]: once for every class and field, off the hot path.
#[cold]
#[inline(never)]
fn field_error(py: Python<'_>, name: &str, e: PyErr) -> PyErr {
    let err = PyValueError::new_err(format!("pickled field `{name}`: {e}"));
    err.set_cause(py, Some(e));
    err
}

/// `ValueError` unless the pickled field tuple has `n` entries (generated code; out of line,
/// like everything the generated pickle methods call that is not specific to the class).
#[doc(hidden)]
#[inline(never)]
pub fn expect_fields(fields: &Bound<'_, PyTuple>, n: usize, class: &str) -> PyResult<()> {
    if fields.len() == n {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "{class}: expected {n} pickled fields, got {}",
            fields.len()
        )))
    }
}

/// The object's `__dict__`, if it has one with entries.
fn instance_dict<'py>(obj: &Bound<'py, PyAny>) -> Option<Bound<'py, PyDict>> {
    let d = obj.getattr("__dict__").ok()?.cast_into::<PyDict>().ok()?;
    (!d.is_empty()).then_some(d)
}

/// One request, released at once: whether `obj` exports read-only (and that its layout is
/// valid, else the exporter's error).
fn export_readonly(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    // SAFETY: an all-zero `Py_buffer` is a valid empty view.
    let mut view: ffi::Py_buffer = unsafe { std::mem::MaybeUninit::zeroed().assume_init() };
    // SAFETY: `obj` is alive (attached through `&Bound`); `view` is valid for writes.
    if unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), &mut view, ffi::PyBUF_RECORDS_RO) } != 0 {
        return Err(PyErr::fetch(obj.py()));
    }
    let readonly = view.readonly != 0;
    // SAFETY: filled by the successful request above, released once, attached.
    unsafe { ffi::PyBuffer_Release(&mut view) };
    Ok(readonly)
}

/// The name of `obj`'s class, for messages.
pub(crate) fn class_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}

/// `__reduce_ex__`, `__copy__`, `__deepcopy__`, `_buffer_restore` of a [`Pickle`] class, or
/// a `TypeError` for a class that opted out ([`NotPickling`]).
///
/// Each method is a thin generic wrapper, instantiated for every class: it does what needs the
/// class's type (the borrow, building the object) and leaves the rest to one non-generic
/// function compiled once in this crate (`reduce_start`, `dump`, `reduce_finish`,
/// `check_restored`, `restore_error`, `copy_state`), which sees the object as `&Bound<PyAny>`
/// and its fields as `&dyn Pickle`.
#[doc(hidden)]
pub struct Pickling<T>(PhantomData<T>);

impl<T: Pickle + PyBuffer> Pickling<T>
where
    T::Frozen: FrozenFlag,
    T: Into<pyo3::PyClassInitializer<T>>,
{
    /// `__reduce_ex__(protocol)`.
    pub fn reduce_ex<'py>(slf: &Bound<'py, T>, protocol: i64) -> PyResult<Bound<'py, PyAny>> {
        let any = slf.as_any();
        let (restore, writable) = reduce_start(any)?;
        let guard = slf.try_borrow()?;
        let dumped = dump(any, &*guard, <T::Frozen as FrozenFlag>::FROZEN, writable);
        drop(guard);
        reduce_finish(any, restore, protocol, dumped?)
    }

    /// The object, checked by one export.
    fn checked<'py>(py: Python<'py>, value: T) -> PyResult<Bound<'py, T>> {
        let obj = Bound::new(py, value)?;
        check_restored(obj.as_any())?;
        Ok(obj)
    }

    /// `_buffer_restore(data, meta, fields)`: what `__reduce_ex__` pickles.
    pub fn restore<'py>(
        cls: &Bound<'py, PyType>,
        data: &Bound<'py, PyAny>,
        meta: &Bound<'py, PyAny>,
        fields: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let value = T::__unpickle(data, meta, fields).map_err(|e| restore_error(cls, e))?;
        Ok(Self::checked(cls.py(), value)?.into_any())
    }

    /// `__copy__` (`memo` is `None`) and `__deepcopy__(memo)`: a new object with memory of its
    /// own; the instance `__dict__` is copied shallowly or deeply.
    pub fn copy<'py>(
        slf: &Bound<'py, T>,
        memo: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let value = {
            let guard = slf.try_borrow()?;
            let fields = fields_of(&*guard, py)?;
            guard.__duplicate(&fields)?
        };
        let new = Self::checked(py, value)?.into_any();
        copy_state(slf.as_any(), new, memo)
    }
}

/// The fields of `src` as a tuple, through its vtable: `__fields` is the same code in every
/// class of the same field types, and not inlined it is compiled (and merged) once.
#[inline(never)]
fn fields_of<'py>(src: &dyn Pickle, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
    src.__fields(py)
}

/// The start of `__reduce_ex__`, before the object is borrowed: the restore function (refused
/// for a class that was never added to a module) and whether the object exports writable.
#[inline(never)]
fn reduce_start<'py>(any: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyAny>, bool)> {
    let cls = any.get_type();
    if cls.getattr("__module__")?.extract::<String>()? == "buffer_runtime" {
        return Err(PyTypeError::new_err(format!(
            "cannot pickle '{0}': add the class to your module with `{0}::add_to(module)` so that pickle can find it",
            class_name(any)
        )));
    }
    let restore = cls.getattr("_buffer_restore")?;
    let writable = !export_readonly(any)?;
    Ok((restore, writable))
}

/// What `__reduce_ex__` ships of the borrowed object `src` (`any`): the storage's meta, the
/// other fields and the storage's bytes.
type Dumped<'py> = (
    Bound<'py, PyAny>,
    Bound<'py, PyTuple>,
    Bound<'py, OwnedBuffer>,
);

/// The dump of `__reduce_ex__`, while the caller holds the borrow of `src` (the object `any`,
/// of a `frozen` class or not).
#[inline(never)]
fn dump<'py>(
    any: &Bound<'py, PyAny>,
    src: &dyn Pickle,
    frozen: bool,
    writable: bool,
) -> PyResult<Dumped<'py>> {
    let py = any.py();
    let Some(storage) = src.__storage() else {
        return Err(no_pickle());
    };
    let meta = storage.meta(py)?;
    let fields = src.__fields(py)?;
    let data = storage_bytes(any, storage, frozen, writable)?;
    Ok((meta, fields, data))
}

/// An object exporting the storage's whole memory as 1-D bytes, writable iff `writable`
/// (`slf`'s storage, borrowed by the caller; `frozen`: `slf`'s class is frozen).
fn storage_bytes<'py>(
    slf: &Bound<'py, PyAny>,
    storage: &dyn PickleDyn,
    frozen: bool,
    writable: bool,
) -> PyResult<Bound<'py, OwnedBuffer>> {
    let py = slf.py();
    let (raw, itemsize, shared) = storage.raw();
    let bytes = raw.count * itemsize;
    let block = if shared {
        let hold = storage.hold().expect("shared storage has a keep-alive");
        // SAFETY: the hold keeps the shared block alive and unmoved (it is one count of
        // it, as an export's); its memory may be written by views (shared storage).
        unsafe {
            Block::over(
                raw.ptr,
                bytes,
                Cow::Borrowed(c"B"),
                1,
                writable,
                Box::new(SharedHold(hold)),
            )
        }
    } else if frozen && bytes > 0 {
        let owner: Py<PyAny> = slf.clone().unbind();
        // SAFETY: plain storage of a frozen object: never written, moved or freed while the
        // object lives (no `&mut` exists), and `owner` keeps the object alive.
        unsafe {
            Block::over(
                raw.ptr,
                bytes,
                Cow::Borrowed(c"B"),
                1,
                false,
                Box::new(owner),
            )
        }
    } else {
        // A mutable class's plain storage may be freed by a `&mut self` method once the
        // borrow ends: copy it.
        let mut v: Vec<u8> = Vec::new();
        v.try_reserve_exact(bytes)
            .map_err(|_| pyo3::exceptions::PyMemoryError::new_err("cannot copy the data"))?;
        // SAFETY: the storage holds `bytes` bytes while borrowed (the caller holds the
        // borrow); `v` has room for them, and a private allocation overlaps no storage.
        unsafe { load_bytes(raw.ptr, v.as_mut_ptr(), bytes) };
        // SAFETY: the `bytes` bytes were just copied in (initialised `u8`s), within the
        // capacity reserved above.
        unsafe { v.set_len(bytes) };
        Block::from_vec(v)
    };
    let mut ob = OwnedBuffer::from_block(block);
    if !writable {
        ob = ob.readonly();
    }
    Bound::new(py, ob)
}

/// The end of `__reduce_ex__`, once the borrow is given back: `(restore, (data, meta, fields))`
/// and the instance `__dict__` when it has entries.
#[inline(never)]
fn reduce_finish<'py>(
    any: &Bound<'py, PyAny>,
    restore: Bound<'py, PyAny>,
    protocol: i64,
    (meta, fields, data): Dumped<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = any.py();
    let data: Bound<'py, PyAny> = if protocol >= 5 {
        py.import("pickle")?
            .getattr("PickleBuffer")?
            .call1((data,))?
    } else {
        let (ptr, n) = data.get().block_parts();
        // SAFETY: the block holds `n` bytes for as long as `data` lives (others may write
        // them: byte-wise atomic copy).
        PyBytes::new_with(py, n, |buf| {
            // SAFETY: as above; `buf` is the new object's own `n` bytes, writable and
            // overlapping no block.
            unsafe { load_bytes(ptr, buf.as_mut_ptr(), n) };
            Ok(())
        })?
        .into_any()
    };
    let args = (data, meta, fields).into_bound_py_any(py)?;
    match instance_dict(any) {
        Some(state) => (restore, args, state).into_bound_py_any(py),
        None => (restore, args).into_bound_py_any(py),
    }
}

/// A restored or copied object is checked by one export: a `ValueError` if its fields do not
/// describe its data.
#[inline(never)]
fn check_restored(obj: &Bound<'_, PyAny>) -> PyResult<()> {
    if let Err(e) = export_readonly(obj) {
        let err = PyValueError::new_err(format!(
            "{}: the pickled fields do not describe the pickled data: {e}",
            class_name(obj)
        ));
        err.set_cause(obj.py(), Some(e));
        return Err(err);
    }
    Ok(())
}

/// The `ValueError` of a `_buffer_restore` whose data or fields do not rebuild the object.
#[cold]
#[inline(never)]
fn restore_error(cls: &Bound<'_, PyType>, e: PyErr) -> PyErr {
    let name = cls.name().map(|n| n.to_string()).unwrap_or_default();
    let err = PyValueError::new_err(format!("{name}: cannot restore the pickled data: {e}"));
    err.set_cause(cls.py(), Some(e));
    err
}

/// The end of `__copy__` / `__deepcopy__`: the instance `__dict__` of `slf`, if any, copied
/// (shallowly, or deeply with `memo`) into `new`.
#[inline(never)]
fn copy_state<'py>(
    slf: &Bound<'py, PyAny>,
    new: Bound<'py, PyAny>,
    memo: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = slf.py();
    if let Some(state) = instance_dict(slf) {
        let state = match memo {
            None => state.copy()?.into_any(),
            Some(memo) => {
                let id = py.import("builtins")?.getattr("id")?.call1((slf,))?;
                memo.set_item(id, &new)?;
                py.import("copy")?
                    .getattr("deepcopy")?
                    .call1((state, memo))?
            }
        };
        new.getattr("__dict__")?.call_method1("update", (state,))?;
    }
    Ok(new)
}

/// The pickle methods of a class with `#[buffer(pickle = false)]` (or whose storage has no
/// pickle support): what `object` does, so a class's own `__reduce__` still works and any
/// other class gets `TypeError: cannot pickle '...' object`. Thin wrappers over functions
/// compiled once (`object_reduce_ex`, `object_copy`, `cannot_unpickle`).
#[doc(hidden)]
pub trait NotPickling<T: PyClass> {
    fn reduce_ex<'py>(slf: &Bound<'py, T>, protocol: i64) -> PyResult<Bound<'py, PyAny>> {
        object_reduce_ex(slf.as_any(), protocol)
    }
    fn restore<'py>(
        cls: &Bound<'py, PyType>,
        _: &Bound<'py, PyAny>,
        _: &Bound<'py, PyAny>,
        _: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Err(cannot_unpickle(cls))
    }
    fn copy<'py>(
        slf: &Bound<'py, T>,
        memo: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        object_copy(slf.as_any(), memo)
    }
}
impl<T: PyClass> NotPickling<T> for Pickling<T> {}

/// `object.__reduce_ex__(slf, protocol)`.
#[inline(never)]
fn object_reduce_ex<'py>(slf: &Bound<'py, PyAny>, protocol: i64) -> PyResult<Bound<'py, PyAny>> {
    let object = slf.py().get_type::<pyo3::types::PyAny>();
    object.getattr("__reduce_ex__")?.call1((slf, protocol))
}

/// `TypeError: cannot unpickle '...' object`.
#[cold]
#[inline(never)]
fn cannot_unpickle(cls: &Bound<'_, PyType>) -> PyErr {
    PyTypeError::new_err(format!(
        "cannot unpickle '{}' object",
        cls.name().map(|n| n.to_string()).unwrap_or_default()
    ))
}

/// What `copy.copy` / `copy.deepcopy` do for a plain object: `copy._reconstruct` over
/// `object.__reduce_ex__(slf, 4)`.
#[inline(never)]
fn object_copy<'py>(
    slf: &Bound<'py, PyAny>,
    memo: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = slf.py();
    let rv = object_reduce_ex(slf, 4)?.cast_into::<PyTuple>()?;
    let mut args = vec![
        slf.clone(),
        memo.map_or_else(|| py.None().into_bound(py), |m| m.clone()),
    ];
    args.extend(rv.iter());
    py.import("copy")?
        .getattr("_reconstruct")?
        .call1(PyTuple::new(py, args)?)
}

// `Order` fields pickle as "C" / "F".
impl<'py> IntoPyObject<'py> for Order {
    type Target = PyString;
    type Output = Bound<'py, PyString>;
    type Error = Infallible;
    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        Ok(PyString::new(py, if self == Order::C { "C" } else { "F" }))
    }
}

impl<'py> IntoPyObject<'py> for &Order {
    type Target = PyString;
    type Output = Bound<'py, PyString>;
    type Error = Infallible;
    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        (*self).into_pyobject(py)
    }
}

impl<'py> FromPyObject<'_, 'py> for Order {
    type Error = PyErr;
    fn extract(obj: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        match obj.extract::<String>()?.as_str() {
            "C" => Ok(Order::C),
            "F" => Ok(Order::F),
            other => Err(PyValueError::new_err(format!(
                "order must be \"C\" or \"F\", not {other:?}"
            ))),
        }
    }
}
