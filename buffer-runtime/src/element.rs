//! Element types: what one buffer item is ([`Element`]) and fixed-size blocks of them
//! ([`Shaped`]: an element, or nested arrays whose lengths become trailing dimensions).

use std::ffi::CStr;

/// A type whose values can be buffer items, described by a PEP 3118 (`struct` module) format.
///
/// Implemented for `i8..i64`, `u8..u64`, `isize`, `usize`, `f32`, `f64`, `bool`, the
/// explicit byte order wrappers [`Le<T>`](crate::Le) / [`Be<T>`](crate::Be), `half::f16`
/// (feature `half`), `num_complex::Complex<f32>` / `Complex<f64>` (feature `num-complex`), and
/// `#[repr(C)]` structs with `#[derive(Element)]` (records). The table of formats and numpy
/// dtypes is in `docs/elements.md`.
///
/// ```
/// use buffer_runtime::{Be, Element};
///
/// #[derive(Clone, Copy, Element)]
/// #[repr(C)]
/// struct Particle { x: f32, y: f32, z: f32, mass: f64, id: u32 }
/// assert_eq!(Particle::FORMAT, c"T{f:x:f:y:f:z:4xd:mass:I:id:4x}");
///
/// #[derive(Clone, Copy, Element)]
/// #[repr(C, packed)]
/// struct Header { tag: u8, len: u32, port: Be<u16> }
/// assert_eq!(Header::FORMAT, c"T{=B:tag:=I:len:>H:port:}");
/// ```
///
/// # Safety
/// - `FORMAT` describes exactly the layout of `Self`: the PEP 3118 item size of `FORMAT` equals
///   `size_of::<Self>()` (`struct.calcsize(FORMAT)` where the `struct` module knows the
///   codes), in native byte order unless `FORMAT` names one.
/// - `load` returns a valid `Self` for *any* bytes at `p`: a consumer may write any bytes
///   through a writable view (a `bool` must be read as a byte and normalised, say).
/// - `ANY_BITS` is `true` only if every byte pattern of `size_of::<Self>()` bytes is a valid
///   `Self` and `load` is a plain read.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a buffer element",
    label = "not a buffer element",
    note = "buffer elements are `i8`..`i64`, `u8`..`u64`, `isize`, `usize`, `f32`, `f64`, `bool`, `Le<T>`, `Be<T>`, `#[derive(Element)]` records, and with features `half::f16`, `num_complex::Complex<f32 | f64>`"
)]
pub unsafe trait Element: Copy + Send + Sync + 'static {
    /// The NUL-terminated format string, e.g. `c"d"` for `f64`.
    const FORMAT: &'static CStr;

    /// Reads an element from memory that a consumer may have written.
    ///
    /// # Safety
    /// `p` is valid for reads of `size_of::<Self>()` bytes and aligned for `Self`.
    unsafe fn load(p: *const Self) -> Self;

    /// Whether every byte pattern is a valid `Self` (integers, floats): consumer views then
    /// copy runs of elements as bytes instead of one `load` at a time.
    const ANY_BITS: bool = false;

    /// Whether some bytes of `Self` belong to no field (a record's padding). Rust leaves such
    /// bytes uninitialised, so storage zeroes them before a consumer can read them.
    const HAS_PADDING: bool = false;

    /// Zeroes the padding bytes of the element at `p` (nothing for types without padding).
    ///
    /// # Safety
    /// `p` is valid for writes of `size_of::<Self>()` bytes and aligned for `Self`.
    #[inline]
    unsafe fn clear_padding(p: *mut Self) {
        let _ = p;
    }
}

/// `Element` for types whose every bit pattern is valid, read by a plain read. An entry may
/// carry `#[cfg(...)]`s (a feature), which also become the impl's documentation badge.
macro_rules! plain_elements {
    ($($(#[$cfg:meta])* $ty:ty => $fmt:literal),* $(,)?) => {$(
        $(#[$cfg])*
        $(#[cfg_attr(docsrs, doc($cfg))])*
        // SAFETY: the format is the `struct` module's native code for this type, and every bit
        // pattern is a valid value.
        unsafe impl Element for $ty {
            const FORMAT: &'static CStr = $fmt;
            const ANY_BITS: bool = true;
            #[inline]
            unsafe fn load(p: *const Self) -> Self {
                // SAFETY: the caller guarantees `p` is valid and aligned.
                unsafe { p.read() }
            }
        }
    )*};
}

plain_elements! {
    i8 => c"b", u8 => c"B", i16 => c"h", u16 => c"H", i32 => c"i", u32 => c"I",
    i64 => c"q", u64 => c"Q", isize => c"n", usize => c"N", f32 => c"f", f64 => c"d",
}

// SAFETY: `?` is the `struct` module's one-byte bool. A consumer may store any byte, so the
// byte is read as `u8` and normalised instead of being reinterpreted.
unsafe impl Element for bool {
    const FORMAT: &'static CStr = c"?";
    #[inline]
    unsafe fn load(p: *const Self) -> Self {
        // SAFETY: `bool` is one byte; the caller guarantees `p` is valid.
        unsafe { p.cast::<u8>().read() != 0 }
    }
}

plain_elements! { #[cfg(feature = "half")] half::f16 => c"e" }

// SAFETY: `Complex<T>` is `#[repr(C)] { re: T, im: T }`, which is what `Zf` / `Zd` (a complex
// of two `f` / `d`) describe; every bit pattern is valid.
plain_elements! {
    #[cfg(feature = "num-complex")] num_complex::Complex<f32> => c"Zf",
    #[cfg(feature = "num-complex")] num_complex::Complex<f64> => c"Zd",
}

/// The most array nesting levels a [`Shaped`] type may have.
pub const MAX_ARRAY_DEPTH: usize = 16;

/// Dimensions contributed by a [`Shaped`] type, outermost first.
#[derive(Clone, Copy, Debug)]
pub struct ArrayDims {
    len: usize,
    dims: [usize; MAX_ARRAY_DEPTH],
}

impl ArrayDims {
    /// No dimension: a single element.
    pub const SCALAR: ArrayDims = ArrayDims {
        len: 0,
        dims: [0; MAX_ARRAY_DEPTH],
    };

    /// `[inner; n]`: `n` in front of `inner`'s dimensions.
    pub const fn outer(n: usize, inner: ArrayDims) -> ArrayDims {
        assert!(
            inner.len < MAX_ARRAY_DEPTH,
            "arrays nested too deeply for a buffer element"
        );
        let mut dims = [0; MAX_ARRAY_DEPTH];
        dims[0] = n;
        let mut i = 0;
        while i < inner.len {
            dims[i + 1] = inner.dims[i];
            i += 1;
        }
        ArrayDims {
            len: inner.len + 1,
            dims,
        }
    }

    /// The dimensions, outermost first.
    pub const fn as_slice(&self) -> &[usize] {
        self.dims.split_at(self.len).0
    }

    /// How many elements: the product of the dimensions.
    pub const fn count(&self) -> usize {
        let mut n = 1;
        let mut i = 0;
        while i < self.len {
            n *= self.dims[i];
            i += 1;
        }
        n
    }
}

/// A fixed-size block of [`Element`]s: an element (no dimension) or `[S; N]` of a `Shaped`
/// `S` (dimension `N` in front of `S`'s). `[[f32; 4]; 4]` has dims `(4, 4)`.
///
/// # Safety
/// `Self` is laid out as `DIMS.count()` consecutive `Elem`s, and `load` returns a valid `Self`
/// for any bytes at `p`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a buffer element or a fixed-size array of them",
    label = "not a buffer element",
    note = "buffer elements are `i8`..`i64`, `u8`..`u64`, `isize`, `usize`, `f32`, `f64`, `bool`, `Le<T>`, `Be<T>`, and fixed-size arrays of them",
    note = "a `#[repr(C)]` struct of buffer elements becomes one with `#[derive(buffer_runtime::Element)]`"
)]
pub unsafe trait Shaped: Copy + Send + Sync + 'static {
    /// The item type.
    type Elem: Element;
    /// The trailing dimensions this type contributes.
    const DIMS: ArrayDims;

    /// Reads a value from memory that a consumer may have written.
    ///
    /// # Safety
    /// As [`Element::load`].
    unsafe fn load(p: *const Self) -> Self;

    /// Whether the elements have padding bytes ([`Element::HAS_PADDING`]).
    const HAS_PADDING: bool = <Self::Elem as Element>::HAS_PADDING;

    /// Zeroes the padding bytes of every element of the value at `p`.
    ///
    /// # Safety
    /// As [`Element::clear_padding`].
    unsafe fn clear_padding(p: *mut Self);
}

// SAFETY: an element is one element; `load` is the element's own.
unsafe impl<E: Element> Shaped for E {
    type Elem = E;
    const DIMS: ArrayDims = ArrayDims::SCALAR;
    #[inline]
    unsafe fn load(p: *const Self) -> Self {
        // SAFETY: forwarded contract.
        unsafe { E::load(p) }
    }
    #[inline]
    unsafe fn clear_padding(p: *mut Self) {
        // SAFETY: forwarded contract.
        unsafe { E::clear_padding(p) }
    }
}

// SAFETY: `[S; N]` is `N` consecutive `S` with no padding (the array layout guarantee).
unsafe impl<S: Shaped, const N: usize> Shaped for [S; N] {
    type Elem = S::Elem;
    const DIMS: ArrayDims = ArrayDims::outer(N, S::DIMS);
    #[inline]
    unsafe fn load(p: *const Self) -> Self {
        std::array::from_fn(|i| {
            // SAFETY: `i < N`, so the offset stays inside the `[S; N]` at `p` (valid for reads
            // of the whole array: the caller's contract).
            let e = unsafe { p.cast::<S>().add(i) };
            // SAFETY: element `i` of the array is valid for reads of `size_of::<S>()` bytes and
            // aligned for `S` (an array's elements are aligned when the array is).
            unsafe { S::load(e) }
        })
    }
    #[inline]
    unsafe fn clear_padding(p: *mut Self) {
        if Self::HAS_PADDING {
            (0..N).for_each(|i| {
                // SAFETY: `i < N`, so the offset stays inside the `[S; N]` at `p` (the caller's
                // contract).
                let e = unsafe { p.cast::<S>().add(i) };
                // SAFETY: element `i` is valid for writes and aligned, as the array is.
                unsafe { S::clear_padding(e) }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn dims_of_nested_arrays() {
        assert_eq!(<f64 as Shaped>::DIMS.as_slice(), &[] as &[usize]);
        assert_eq!(<[u8; 4] as Shaped>::DIMS.as_slice(), &[4]);
        assert_eq!(<[[f32; 4]; 3] as Shaped>::DIMS.as_slice(), &[3, 4]);
        assert_eq!(<[[f32; 4]; 3] as Shaped>::DIMS.count(), 12);
        assert_eq!(<[[f32; 0]; 3] as Shaped>::DIMS.count(), 0);
    }

    #[test]
    fn formats_match_struct_sizes() {
        fn size(fmt: &CStr) -> usize {
            match fmt.to_bytes() {
                b"b" | b"B" | b"?" => 1,
                b"h" | b"H" => 2,
                b"i" | b"I" | b"f" => 4,
                b"q" | b"Q" | b"d" => 8,
                b"n" | b"N" => size_of::<usize>(),
                other => panic!("unexpected format {other:?}"),
            }
        }
        macro_rules! check { ($($t:ty),*) => {$( assert_eq!(size(<$t>::FORMAT), size_of::<$t>()); )*} }
        check!(i8, u8, i16, u16, i32, u32, i64, u64, isize, usize, f32, f64, bool);
    }

    #[test]
    fn bool_load_normalises_any_byte() {
        let bytes = [0u8, 1, 2, 255];
        let got: Vec<bool> = bytes
            .iter()
            .map(|b| {
                // SAFETY: `b` is a live, initialised byte: valid and aligned for a `bool` read
                // of one byte, which `load` makes as a `u8`.
                unsafe { <bool as Element>::load((b as *const u8).cast()) }
            })
            .collect();
        assert_eq!(got, [false, true, true, true]);
    }
}
