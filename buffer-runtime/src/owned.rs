//! [`OwnedBuffer`]: a ready provider class to return from a function, for "I only want to hand
//! my `Vec<f32>` to Python" — no class of your own, no copy.

use std::borrow::Cow;
use std::ffi::CStr;
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyModule;

use crate::element::{Element, Shaped};
use crate::foreign::SharedBlock;
use crate::foreign::{AnyBlock, Block};
use crate::hold::Hold;
use crate::layout::{self, LayoutError, Order, MAX_NDIM};
use crate::shared::SharedVec;
use crate::storage::Storage;

/// A shared storage's keep-alive, for a block that outlives the storage value.
pub(crate) struct SharedHold(#[allow(dead_code)] pub(crate) Hold);

// SAFETY: `Storage`'s contract: a shared storage's `Hold` (an `Arc` count of a `Send + Sync`
// block, `Hold::arc`) may be dropped on any thread; nothing else is reachable through it.
unsafe impl Send for SharedHold {}
// SAFETY: `&SharedHold` gives access to nothing.
unsafe impl Sync for SharedHold {}

/// A read-only or writable buffer over data Rust produced, moved in without a copy: a
/// `Vec<T>`, a `Box<[T]>` or a [`SharedVec<T>`], for any [`Element`](crate::Element) (records
/// too), with a shape and an order or byte strides. Return it from a `#[pyfunction]`:
///
/// ```
/// use buffer_runtime::OwnedBuffer;
/// use pyo3::prelude::*;
///
/// #[pyfunction]
/// fn spectrum(n: usize) -> PyResult<OwnedBuffer> {
///     let values: Vec<f32> = (0..n * 2).map(|i| i as f32).collect();
///     Ok(OwnedBuffer::from_vec(values).with_shape([n, 2])?)   // ValueError if n * 2 != len
/// }
///
/// #[pymodule]
/// fn my_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
///     OwnedBuffer::add_to(m)?;   // the class, so that its objects pickle by name
///     m.add_function(wrap_pyfunction!(spectrum, m)?)
/// }
/// ```
///
/// `numpy.asarray(spectrum(3))` is then a `(3, 2)` `float32` array over the `Vec`'s memory.
/// The object is immutable (a frozen class): its views, pickles (protocol 5 out of band) and
/// DLPack tensors all keep the one block alive, which is freed by the last of them.
#[pyclass(frozen, module = "buffer_runtime")]
#[derive(crate::PyBuffer)]
#[buffer(crate = "crate")]
pub struct OwnedBuffer {
    #[buffer(shape = shape, strides = strides, offset = offset, readonly = readonly)]
    data: AnyBlock,
    shape: Vec<usize>,
    strides: Vec<isize>,
    offset: isize,
    readonly: bool,
}

#[crate::buffer_methods(crate = "crate")]
#[pymethods]
impl OwnedBuffer {}

/// A layout refused by a shape or strides given to [`OwnedBuffer`]: `ValueError` in Python.
impl From<LayoutError> for PyErr {
    fn from(e: LayoutError) -> PyErr {
        PyValueError::new_err(e.to_string())
    }
}

impl OwnedBuffer {
    fn over(block: Block) -> OwnedBuffer {
        Self::over_arc(Arc::new(block))
    }

    fn over_arc(block: Arc<Block>) -> OwnedBuffer {
        let count = block.bytes() / block.itemsize().max(1);
        let (itemsize, readonly) = (block.itemsize() as isize, !block.writable());
        OwnedBuffer {
            data: AnyBlock(block),
            shape: vec![count],
            strides: vec![itemsize],
            offset: 0,
            readonly,
        }
    }

    /// Takes over `v`'s allocation (no copy); shape `(len, *array dims of S)`, C order,
    /// writable.
    pub fn from_vec<S: Shaped>(v: Vec<S>) -> OwnedBuffer {
        let natural: Vec<usize> = std::iter::once(v.len())
            .chain(S::DIMS.as_slice().iter().copied())
            .collect();
        let b = Self::over(Block::from_vec(v));
        b.with_shape(natural)
            .expect("the natural shape holds every item")
    }

    /// As [`from_vec`](Self::from_vec) (a boxed slice is a `Vec` without spare capacity).
    pub fn from_boxed_slice<S: Shaped>(b: Box<[S]>) -> OwnedBuffer {
        Self::from_vec(b.into_vec())
    }

    /// Takes over shared storage (no copy; views of `v` that are still alive keep sharing the
    /// memory). Its length can no longer change.
    pub fn from_shared<S: Shaped>(v: SharedVec<S>) -> OwnedBuffer {
        let natural: Vec<usize> = std::iter::once(v.len())
            .chain(S::DIMS.as_slice().iter().copied())
            .collect();
        let parts = v.raw_parts();
        let hold = v.keep_alive().expect("shared storage has a keep-alive");
        let bytes = parts.count * std::mem::size_of::<S::Elem>();
        drop(v); // the block lives on in `hold`; nothing can resize it any more
                 // SAFETY: the hold keeps the `SharedVec`'s block alive and, the `SharedVec` being gone,
                 // nothing can move or resize it; views may write its elements (shared storage).
        let block = unsafe {
            Block::over(
                parts.ptr,
                bytes,
                Cow::Borrowed(S::Elem::FORMAT),
                std::mem::size_of::<S::Elem>(),
                true,
                Box::new(SharedHold(hold)),
            )
        };
        Self::over(block)
            .with_shape(natural)
            .expect("the natural shape holds every item")
    }

    /// An object over a block made elsewhere in the runtime (pickle, foreign memory).
    pub(crate) fn from_block(block: Block) -> OwnedBuffer {
        Self::over(block)
    }

    /// The block's pointer and size in bytes.
    pub(crate) fn block_parts(&self) -> (*mut u8, usize) {
        (self.data.0.ptr(), self.data.0.bytes())
    }

    fn item_count(&self) -> usize {
        self.data.raw_parts().count
    }

    /// Reshapes, C order: the product of `shape` must be the item count.
    pub fn with_shape(self, shape: impl AsRef<[usize]>) -> Result<OwnedBuffer, LayoutError> {
        self.with_order(shape, Order::C)
    }

    /// Reshapes, contiguous in `order`.
    pub fn with_order(
        self,
        shape: impl AsRef<[usize]>,
        order: Order,
    ) -> Result<OwnedBuffer, LayoutError> {
        let shape = shape.as_ref();
        if shape.len() > MAX_NDIM {
            return Err(LayoutError::TooManyDims(shape.len()));
        }
        let count = layout::element_count(shape).ok_or(LayoutError::Overflow)?;
        if count != self.item_count() {
            return Err(LayoutError::CountMismatch {
                shape_count: count,
                storage_count: self.item_count(),
            });
        }
        let mut strides = vec![0; shape.len()];
        layout::contiguous_strides(shape, self.data.itemsize(), order, &mut strides);
        Ok(OwnedBuffer {
            shape: shape.to_vec(),
            strides,
            offset: 0,
            ..self
        })
    }

    /// Any layout: `shape`, byte `strides` (negative allowed) and the byte `offset` of element
    /// `(0, ..., 0)`; every element must lie inside the data.
    pub fn with_strides(
        self,
        shape: impl AsRef<[usize]>,
        strides: impl AsRef<[isize]>,
        offset: isize,
    ) -> Result<OwnedBuffer, LayoutError> {
        let (shape, strides) = (shape.as_ref(), strides.as_ref());
        if shape.len() > MAX_NDIM {
            return Err(LayoutError::TooManyDims(shape.len()));
        }
        if strides.len() != shape.len() {
            return Err(LayoutError::StridesRank {
                shape: shape.len(),
                strides: strides.len(),
            });
        }
        let count = layout::element_count(shape).ok_or(LayoutError::Overflow)?;
        count
            .checked_mul(self.data.itemsize())
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or(LayoutError::Overflow)?;
        let itemsize = self.data.itemsize();
        layout::check_bounds(
            shape,
            strides,
            itemsize,
            offset,
            self.item_count() * itemsize,
        )?;
        Ok(OwnedBuffer {
            shape: shape.to_vec(),
            strides: strides.to_vec(),
            offset,
            ..self
        })
    }

    /// Exported read-only from now on (views, DLPack tensors and unpickled copies).
    pub fn readonly(self) -> OwnedBuffer {
        OwnedBuffer {
            readonly: true,
            ..self
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The byte strides.
    pub fn strides(&self) -> &[isize] {
        &self.strides
    }

    /// Whether it is exported read-only.
    pub fn is_readonly(&self) -> bool {
        self.readonly
    }

    /// The item format, e.g. `c"q"`.
    pub fn format(&self) -> &CStr {
        self.data.format()
    }

    /// Adds the class to `m` and makes `m` its module, so that `pickle` finds it by name (and
    /// a spawned worker process by importing `m`).
    pub fn add_to(m: &Bound<'_, PyModule>) -> PyResult<()> {
        crate::add_class::<OwnedBuffer>(m)?;
        m.py()
            .get_type::<OwnedBuffer>()
            .setattr("__module__", m.name()?)
    }
}

impl<S: Shaped> From<Vec<S>> for OwnedBuffer {
    fn from(v: Vec<S>) -> Self {
        Self::from_vec(v)
    }
}

impl<S: Shaped> From<Box<[S]>> for OwnedBuffer {
    fn from(b: Box<[S]>) -> Self {
        Self::from_boxed_slice(b)
    }
}

/// Shares the block (its own memory or another object's export): no copy.
impl<S: Shaped> From<SharedBlock<S>> for OwnedBuffer {
    fn from(b: SharedBlock<S>) -> Self {
        let natural: Vec<usize> = std::iter::once(b.len())
            .chain(S::DIMS.as_slice().iter().copied())
            .collect();
        Self::over_arc(b.into_block())
            .with_shape(natural)
            .expect("the natural shape holds every item")
    }
}

impl<S: Shaped> From<SharedVec<S>> for OwnedBuffer {
    fn from(v: SharedVec<S>) -> Self {
        Self::from_shared(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_checked_against_the_data() {
        let b = OwnedBuffer::from_vec((0..12i64).collect::<Vec<_>>());
        assert_eq!((b.shape(), b.strides()), (&[12][..], &[8][..]));
        let b = b.with_shape([3, 4]).unwrap();
        assert_eq!(b.strides(), [32, 8]);
        let b = b.with_order([3, 4], Order::F).unwrap();
        assert_eq!(b.strides(), [8, 24]);
        let e = OwnedBuffer::from_vec(vec![0u8; 10])
            .with_shape([3, 4])
            .err()
            .unwrap();
        assert_eq!(
            e,
            LayoutError::CountMismatch {
                shape_count: 12,
                storage_count: 10
            }
        );
        assert!(OwnedBuffer::from_vec(vec![0u8; 10])
            .with_strides([5], [-2], 8)
            .is_ok());
        assert!(OwnedBuffer::from_vec(vec![0u8; 10])
            .with_strides([5], [-2], 7)
            .is_err());
        let px = OwnedBuffer::from_vec(vec![[0u8; 4]; 6]);
        assert_eq!(px.shape(), [6, 4]);
        assert!(OwnedBuffer::from_vec(vec![1.5f64]).readonly().is_readonly());
    }

    #[test]
    fn shared_storage_is_moved_not_copied() {
        let v = SharedVec::from(vec![1u32, 2, 3]);
        let p = v.raw_parts().ptr;
        let b = OwnedBuffer::from_shared(v);
        assert_eq!(b.data.raw_parts().ptr, p);
        assert_eq!(b.shape(), [3]);
    }
}
