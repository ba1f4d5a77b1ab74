use buffer_runtime::Element;

#[derive(Clone, Copy, Element)]
#[repr(C)]
struct Pair<T> {
    a: T,
    b: T,
}

fn main() {}
