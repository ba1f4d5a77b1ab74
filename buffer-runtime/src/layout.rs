//! Pure layout arithmetic: strides for an order, CPython's contiguity tests, byte extents.
//!
//! All functions take `shape` in elements and `strides` in bytes, like `Py_buffer`.

use std::fmt;

/// The most dimensions a buffer may have (`PyBUF_MAX_NDIM` in CPython).
pub const MAX_NDIM: usize = 64;

/// Memory order of a contiguous n-d buffer.
// A whole word: the export path copies it inside larger values word by word, and a one-byte
// store read back as part of a word stalls that load (store-to-load forwarding fails) right
// before the borrow flag's locked decrement, which waits for it (~2 ns an export).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum Order {
    /// Row-major: the last index varies fastest (numpy's `order="C"`).
    #[default]
    C,
    /// Column-major: the first index varies fastest (numpy's `order="F"`).
    F,
}

/// Why a described layout cannot be exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// More than [`MAX_NDIM`] dimensions.
    TooManyDims(usize),
    /// `strides` has another length than `shape`.
    StridesRank {
        /// Dimensions of the shape.
        shape: usize,
        /// Entries of the strides.
        strides: usize,
    },
    /// The byte size does not fit in `Py_ssize_t`.
    Overflow,
    /// A contiguous shape whose element count differs from the storage's.
    CountMismatch {
        /// Elements the shape describes.
        shape_count: usize,
        /// Elements the storage holds.
        storage_count: usize,
    },
    /// Strided addressing reaches outside the storage.
    OutOfBounds {
        /// First byte addressed, relative to the storage's start.
        low: isize,
        /// One past the last byte addressed.
        high: isize,
        /// The storage's size in bytes.
        storage_bytes: usize,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::TooManyDims(n) => {
                write!(f, "{n} dimensions exceed the limit of {MAX_NDIM}")
            }
            LayoutError::StridesRank { shape, strides } => {
                write!(f, "{strides} strides given for {shape} dimensions")
            }
            LayoutError::Overflow => write!(f, "buffer size overflows Py_ssize_t"),
            LayoutError::CountMismatch {
                shape_count,
                storage_count,
            } => write!(
                f,
                "shape has {shape_count} elements but the storage holds {storage_count}"
            ),
            LayoutError::OutOfBounds {
                low,
                high,
                storage_bytes,
            } => write!(
                f,
                "strides address bytes {low}..{high} but the storage has {storage_bytes} bytes"
            ),
        }
    }
}

/// Up to [`MAX_NDIM`] values on the stack, without initialising the unused ones (exports run
/// often; zeroing 64 entries each time is measurable).
pub(crate) struct Table<T: Copy> {
    len: usize,
    items: [std::mem::MaybeUninit<T>; MAX_NDIM],
}

impl<T: Copy> Table<T> {
    pub fn new() -> Self {
        Table {
            len: 0,
            items: [const { std::mem::MaybeUninit::uninit() }; MAX_NDIM],
        }
    }

    /// Appends `values`, or fails past [`MAX_NDIM`] entries.
    pub fn extend(&mut self, values: &[T]) -> Result<(), LayoutError> {
        let end = self.len + values.len();
        if end > MAX_NDIM {
            return Err(LayoutError::TooManyDims(end));
        }
        for (slot, &v) in self.items[self.len..end].iter_mut().zip(values) {
            slot.write(v);
        }
        self.len = end;
        Ok(())
    }

    /// Appends one value, or fails past [`MAX_NDIM`] entries.
    #[inline]
    pub fn push(&mut self, value: T) -> Result<(), LayoutError> {
        let slot = self
            .items
            .get_mut(self.len)
            .ok_or(LayoutError::TooManyDims(self.len + 1))?;
        slot.write(value);
        self.len += 1;
        Ok(())
    }

    /// Makes the table `n` copies of `value` (`n` at most [`MAX_NDIM`]) and returns them.
    #[inline]
    pub fn filled(&mut self, n: usize, value: T) -> &mut [T] {
        let n = n.min(MAX_NDIM);
        for slot in &mut self.items[..n] {
            slot.write(value);
        }
        self.len = n;
        self.as_mut_slice()
    }

    pub fn as_slice(&self) -> &[T] {
        // SAFETY: the first `len` items are initialised.
        unsafe { std::slice::from_raw_parts(self.items.as_ptr().cast::<T>(), self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: the first `len` items are initialised.
        unsafe { std::slice::from_raw_parts_mut(self.items.as_mut_ptr().cast::<T>(), self.len) }
    }
}

/// Number of elements of `shape` (1 for 0-d), or `None` on overflow of `Py_ssize_t`.
pub fn element_count(shape: &[usize]) -> Option<usize> {
    // Saturating: a zero dim makes the count 0 even when the other dims overflow together
    // (0 times anything, the saturated value included, is 0), and an overflow that no zero
    // undoes stays above `isize::MAX`.
    let mut n = 1usize;
    for &d in shape {
        if d > isize::MAX as usize {
            return None;
        }
        n = n.saturating_mul(d);
    }
    (n <= isize::MAX as usize).then_some(n)
}

/// Writes the strides of a contiguous `shape` in `order` into `out[..shape.len()]`.
pub fn contiguous_strides(shape: &[usize], itemsize: usize, order: Order, out: &mut [isize]) {
    let mut step = itemsize as isize;
    let mut put = |i: usize| {
        out[i] = step;
        // As CPython's `init_strides_from_shape`: a zero dim zeroes the strides outside it. A
        // product past `isize::MAX` is possible only in an empty buffer (the element count was
        // checked), whose strides address nothing: they become 0 there, never a wrapped value.
        step = isize::try_from(shape[i])
            .ok()
            .and_then(|d| step.checked_mul(d))
            .unwrap_or(0);
    };
    match order {
        Order::C => (0..shape.len()).rev().for_each(&mut put),
        Order::F => (0..shape.len()).for_each(&mut put),
    }
}

fn contiguous_in(
    shape: &[usize],
    strides: &[isize],
    itemsize: usize,
    dims: impl Iterator<Item = usize>,
) -> bool {
    if shape.contains(&0) {
        return true;
    }
    let mut expect = itemsize as isize;
    for i in dims {
        if shape[i] > 1 && strides[i] != expect {
            return false;
        }
        expect = expect.wrapping_mul(shape[i] as isize);
    }
    true
}

/// Whether at most one dimension has more than one element (or none has any): such a
/// contiguous buffer is both C- and Fortran-contiguous.
pub fn is_single_axis(shape: &[usize]) -> bool {
    shape.contains(&0) || shape.iter().filter(|&&d| d > 1).count() <= 1
}

/// CPython's `PyBuffer_IsContiguous(view, 'C')`: length-1 dims ignore their stride and an
/// empty buffer is contiguous.
pub fn is_c_contiguous(shape: &[usize], strides: &[isize], itemsize: usize) -> bool {
    contiguous_in(shape, strides, itemsize, (0..shape.len()).rev())
}

/// CPython's `PyBuffer_IsContiguous(view, 'F')`.
pub fn is_f_contiguous(shape: &[usize], strides: &[isize], itemsize: usize) -> bool {
    contiguous_in(shape, strides, itemsize, 0..shape.len())
}

/// The byte range `[low, high)` that a strided layout touches, relative to its first element;
/// `(0, 0)` when the buffer has no element. `None` on overflow.
pub fn byte_extent(shape: &[usize], strides: &[isize], itemsize: usize) -> Option<(isize, isize)> {
    if shape.contains(&0) {
        return Some((0, 0));
    }
    let (mut low, mut high) = (0isize, 0isize);
    for (&n, &s) in shape.iter().zip(strides) {
        let reach = s.checked_mul(isize::try_from(n - 1).ok()?)?;
        if reach < 0 {
            low = low.checked_add(reach)?;
        } else {
            high = high.checked_add(reach)?;
        }
    }
    Some((low, high.checked_add(isize::try_from(itemsize).ok()?)?))
}

/// Checks that a strided layout whose first element sits `offset` bytes into a storage of
/// `storage_bytes` bytes stays inside it.
pub fn check_bounds(
    shape: &[usize],
    strides: &[isize],
    itemsize: usize,
    offset: isize,
    storage_bytes: usize,
) -> Result<(), LayoutError> {
    let (low, high) = byte_extent(shape, strides, itemsize).ok_or(LayoutError::Overflow)?;
    if low == high {
        return Ok(()); // no element is addressed
    }
    let low = offset.checked_add(low).ok_or(LayoutError::Overflow)?;
    let high = offset.checked_add(high).ok_or(LayoutError::Overflow)?;
    if low < 0 || high as usize > storage_bytes {
        return Err(LayoutError::OutOfBounds {
            low,
            high,
            storage_bytes,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_strides_of_huge_empty_shapes_do_not_wrap() {
        let mut out = [0isize; 3];
        let big = isize::MAX as usize;
        contiguous_strides(&[big, 0], 8, Order::F, &mut out[..2]);
        assert_eq!(out[..2], [8, 0]);
        contiguous_strides(&[0, big, big], 8, Order::C, &mut out);
        assert_eq!(out, [0, 0, 8]);
        assert!(out.iter().all(|&s| s >= 0));
    }

    fn strides(shape: &[usize], itemsize: usize, order: Order) -> Vec<isize> {
        let mut out = vec![0; shape.len()];
        contiguous_strides(shape, itemsize, order, &mut out);
        out
    }

    #[test]
    fn c_and_f_strides() {
        assert_eq!(strides(&[2, 3, 4], 8, Order::C), [96, 32, 8]);
        assert_eq!(strides(&[2, 3, 4], 8, Order::F), [8, 16, 48]);
        assert_eq!(strides(&[], 8, Order::C), Vec::<isize>::new());
        // A zero dim zeroes the strides outside it, as CPython computes them.
        assert_eq!(strides(&[3, 0, 2], 4, Order::C), [0, 8, 4]);
        assert_eq!(strides(&[3, 0, 2], 4, Order::F), [4, 12, 0]);
    }

    #[test]
    fn contiguity_is_cpythons() {
        // Both orders for 1-d, 0-d, and shapes with at most one dim > 1.
        for shape in [&[5][..], &[], &[1, 5, 1], &[1, 1]] {
            let s = strides(shape, 4, Order::C);
            assert!(
                is_c_contiguous(shape, &s, 4) && is_f_contiguous(shape, &s, 4),
                "{shape:?}"
            );
        }
        let c = strides(&[2, 3], 8, Order::C);
        assert!(is_c_contiguous(&[2, 3], &c, 8) && !is_f_contiguous(&[2, 3], &c, 8));
        let f = strides(&[2, 3], 8, Order::F);
        assert!(!is_c_contiguous(&[2, 3], &f, 8) && is_f_contiguous(&[2, 3], &f, 8));
        // Length-1 dims ignore their stride.
        assert!(is_c_contiguous(&[1, 3], &[999, 8], 8));
        // Zero-size buffers are contiguous whatever the strides.
        assert!(is_c_contiguous(&[0, 3], &[7, -5], 8) && is_f_contiguous(&[0, 3], &[7, -5], 8));
        // A row pitch breaks C contiguity.
        assert!(!is_c_contiguous(&[2, 3], &[32, 8], 8));
        // A contiguous layout is contiguous in both orders exactly along a single axis.
        for shape in [
            &[2usize, 3][..],
            &[1, 4, 1],
            &[0, 3, 5],
            &[],
            &[7],
            &[2, 1, 2],
        ] {
            let (c, f) = (strides(shape, 8, Order::C), strides(shape, 8, Order::F));
            assert_eq!(
                is_single_axis(shape),
                is_f_contiguous(shape, &c, 8),
                "{shape:?}"
            );
            assert_eq!(
                is_single_axis(shape),
                is_c_contiguous(shape, &f, 8),
                "{shape:?}"
            );
        }
        // Negative strides are never contiguous when the dim has more than one element.
        assert!(!is_c_contiguous(&[3], &[-8], 8));
    }

    /// The crate's contiguity against CPython's own `PyBuffer_IsContiguous`, on every shape of
    /// up to 3 dims of lengths 0..=3 with every combination of strides from a set of 8 (zero,
    /// negative, itemsize multiples, a pitch): ~38,000 layouts, both orders.
    #[test]
    fn contiguity_agrees_with_pybuffer_iscontiguous() {
        use pyo3::ffi;
        const ITEM: usize = 4;
        let stride_set: [isize; 8] = [-4, 0, 4, 8, 12, 16, 20, 48];
        pyo3::Python::attach(|_py| {
            let mut checked = 0;
            for ndim in 0..=3usize {
                let shapes = 4usize.pow(ndim as u32);
                let strides_n = stride_set.len().pow(ndim as u32);
                for si in 0..shapes {
                    let shape: Vec<usize> =
                        (0..ndim).map(|d| (si / 4usize.pow(d as u32)) % 4).collect();
                    for ti in 0..strides_n {
                        let strides: Vec<isize> = (0..ndim)
                            .map(|d| stride_set[(ti / 8usize.pow(d as u32)) % 8])
                            .collect();
                        let mut shape_c: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
                        let mut strides_c = strides.clone();
                        let mut view = ffi::Py_buffer::new();
                        view.itemsize = ITEM as isize;
                        view.ndim = ndim as i32;
                        view.len = (shape.iter().product::<usize>() * ITEM) as isize;
                        view.shape = if ndim > 0 {
                            shape_c.as_mut_ptr()
                        } else {
                            std::ptr::null_mut()
                        };
                        view.strides = if ndim > 0 {
                            strides_c.as_mut_ptr()
                        } else {
                            std::ptr::null_mut()
                        };
                        // SAFETY: a complete view (shape/strides have `ndim` entries, or are NULL
                        // for ndim 0); PyBuffer_IsContiguous only reads these fields.
                        let c = unsafe { ffi::PyBuffer_IsContiguous(&view, b'C' as _) } == 1;
                        // SAFETY: as above.
                        let f = unsafe { ffi::PyBuffer_IsContiguous(&view, b'F' as _) } == 1;
                        assert_eq!(
                            is_c_contiguous(&shape, &strides, ITEM),
                            c,
                            "C: shape {shape:?} strides {strides:?}"
                        );
                        assert_eq!(
                            is_f_contiguous(&shape, &strides, ITEM),
                            f,
                            "F: shape {shape:?} strides {strides:?}"
                        );
                        checked += 1;
                    }
                }
            }
            assert_eq!(checked, 1 + 4 * 8 + 16 * 64 + 64 * 512);
        });
    }

    #[test]
    fn extents_and_bounds() {
        assert_eq!(byte_extent(&[2, 3], &[32, 8], 8), Some((0, 32 + 16 + 8)));
        assert_eq!(byte_extent(&[3], &[-8], 8), Some((-16, 8)));
        assert_eq!(byte_extent(&[0, 3], &[8, 8], 8), Some((0, 0)));
        assert_eq!(byte_extent(&[], &[], 8), Some((0, 8)));
        assert!(check_bounds(&[2, 3], &[32, 8], 8, 0, 56).is_ok());
        assert!(check_bounds(&[2, 3], &[32, 8], 8, 0, 55).is_err());
        assert!(check_bounds(&[3], &[-8], 8, 16, 24).is_ok());
        assert!(check_bounds(&[3], &[-8], 8, 8, 24).is_err());
        assert!(check_bounds(&[usize::MAX / 2], &[8], 8, 0, 64).is_err());
        assert!(check_bounds(&[0], &[8], 8, 1000, 0).is_ok());
    }

    #[test]
    fn counts() {
        assert_eq!(element_count(&[]), Some(1));
        assert_eq!(element_count(&[2, 0, 5]), Some(0));
        assert_eq!(element_count(&[usize::MAX, 2]), None);
        assert_eq!(element_count(&[1 << 40, 1 << 30]), None);
        assert_eq!(element_count(&[1 << 40, 1 << 30, 0]), Some(0));
    }
}
