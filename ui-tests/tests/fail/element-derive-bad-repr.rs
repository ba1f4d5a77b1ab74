use buffer_runtime::Element;

#[derive(Clone, Copy, Element)]
#[repr(C, = 4)]
struct Point {
    x: f32,
}

fn main() {}
