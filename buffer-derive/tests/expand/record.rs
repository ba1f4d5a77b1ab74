// A record element: named fields with padding and a subarray, and a tuple struct under a
// renamed runtime.
#[derive(Clone, Copy, Element)]
#[repr(C)]
struct Particle {
    mass: f64,
    r#type: u8,
    pos: [f32; 3],
}

#[derive(Clone, Copy, Element)]
#[repr(C, packed)]
#[element(crate = "::my_runtime")]
struct Pair(u8, u32);
