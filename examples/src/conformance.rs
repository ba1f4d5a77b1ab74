//! `buffer_examples.check_provider(obj)`: the runtime's conformance kit, exported for pytest.
//! Returns the report as a string, or raises `AssertionError` carrying it.

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(
        buffer_runtime::testing::check_provider_py,
        m
    )?)
}
