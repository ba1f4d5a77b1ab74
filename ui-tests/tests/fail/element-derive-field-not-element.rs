use buffer_runtime::Element;

// Two bad fields, two errors: one each, on the field's type.
#[derive(Clone, Copy, Element)]
#[repr(C)]
struct Tagged {
    value: f64,
    tag: char,
    name: &'static str,
}

fn main() {}
