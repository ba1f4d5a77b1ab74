// Explicit byte strides and offset over a fixed-size array, with a renamed runtime.
#[pyclass(frozen)]
#[derive(PyBuffer)]
#[buffer(crate = "::my_runtime")]
struct Flipped {
    #[buffer(shape = [2, 3], strides = [-24, 8], offset = 24, readonly)]
    cells: [[f64; 3]; 2],
}

#[buffer_methods(crate = "::my_runtime")]
#[pymethods]
impl Flipped {}
