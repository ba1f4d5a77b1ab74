//! `sum_array`: a buffer consumer that sums native int32 elements in place.

use buffer_runtime::view::PyView;
use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;

/// The sum of any buffer of native int32, of any shape and strides, read without a copy.
/// Any other format (another type, or a non-native byte order) is a `TypeError`.
#[pyfunction]
pub fn sum_array(obj: PyView<i32>) -> PyResult<i64> {
    let mut sum = Some(0i64);
    obj.for_each(|x| sum = sum.and_then(|s| s.checked_add(i64::from(x))));
    sum.ok_or_else(|| PyOverflowError::new_err("sum overflows int64"))
}
