// Shape from fields and a constant, order and writability chosen per object.
#[pyclass]
#[derive(PyBuffer)]
struct Image {
    #[buffer(shape = [height, width, { CHANNELS }], order = order, readonly = locked)]
    pixels: SharedVec<u8>,
    height: u32,
    width: u32,
    order: Order,
    locked: bool,
}
