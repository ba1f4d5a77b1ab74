// A constant shape over a fixed-size array: checked against the array's count at compile time.
#[pyclass]
#[derive(PyBuffer)]
struct Mat4 {
    #[buffer(shape = [16], writable)]
    cells: SharedArray<[[f32; 4]; 4]>,
}
