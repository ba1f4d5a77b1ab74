use buffer_runtime::Element;

#[derive(Clone, Copy, Element)]
#[repr(C)]
enum Kind {
    A,
    B,
}

fn main() {}
