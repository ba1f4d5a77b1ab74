use buffer_runtime::Element;

// Rust's default layout may reorder the fields: the record format would lie.
#[derive(Clone, Copy, Element)]
struct Point {
    x: f32,
    y: f32,
}

fn main() {}
