use buffer_runtime::Element;

#[derive(Clone, Copy, Element)]
#[repr(C)]
#[element(crate = "::buffer_runtime", krate = "::buffer_runtime")]
struct Point {
    x: f32,
    y: f32,
}

fn main() {}
