// The simplest provider: the storage's own shape, read-only (plain storage).
#[pyclass]
#[derive(PyBuffer)]
struct Readings {
    #[buffer]
    values: Vec<f64>,
}

#[buffer_methods]
#[pymethods]
impl Readings {}
