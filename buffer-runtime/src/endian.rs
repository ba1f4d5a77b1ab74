//! Elements with an explicit byte order: [`Le<T>`] and [`Be<T>`], for file formats and
//! network data. Their formats are `<i`, `>d`, ... (numpy `<i4`, `>f8`, ...).
//!
//! Both are stored as plain bytes, so they have alignment 1, every bit pattern is valid, and
//! they fit at any offset of a packed record.

use std::ffi::CStr;
use std::fmt;

use crate::element::Element;

mod sealed {
    pub trait Sealed {}
}

/// A number that [`Le`] and [`Be`] can hold: `i16`..`i64`, `u16`..`u64`, `f32`, `f64`, and
/// `half::f16` with the `half` feature.
pub trait EndianScalar: Copy + Send + Sync + 'static + sealed::Sealed {
    /// The value's bytes: `[u8; size_of::<Self>()]`.
    #[doc(hidden)]
    type Bytes: Copy + Send + Sync + 'static + PartialEq + Eq + fmt::Debug;
    /// Little-endian format, e.g. `c"<i"`.
    const LE_FORMAT: &'static CStr;
    /// Big-endian format, e.g. `c">i"`.
    const BE_FORMAT: &'static CStr;
    #[doc(hidden)]
    fn to_le(self) -> Self::Bytes;
    #[doc(hidden)]
    fn from_le(bytes: Self::Bytes) -> Self;
    #[doc(hidden)]
    fn to_be(self) -> Self::Bytes;
    #[doc(hidden)]
    fn from_be(bytes: Self::Bytes) -> Self;
}

/// `EndianScalar` for primitive numbers. An entry may carry `#[cfg(...)]`s (a feature), which
/// also become the impl's documentation badge.
macro_rules! endian_scalars {
    ($($(#[$cfg:meta])* $ty:ty => $le:literal, $be:literal;)*) => {$(
        $(#[$cfg])*
        impl sealed::Sealed for $ty {}
        $(#[$cfg])*
        $(#[cfg_attr(docsrs, doc($cfg))])*
        impl EndianScalar for $ty {
            type Bytes = [u8; std::mem::size_of::<$ty>()];
            const LE_FORMAT: &'static CStr = $le;
            const BE_FORMAT: &'static CStr = $be;
            #[inline]
            fn to_le(self) -> Self::Bytes { self.to_le_bytes() }
            #[inline]
            fn from_le(bytes: Self::Bytes) -> Self { <$ty>::from_le_bytes(bytes) }
            #[inline]
            fn to_be(self) -> Self::Bytes { self.to_be_bytes() }
            #[inline]
            fn from_be(bytes: Self::Bytes) -> Self { <$ty>::from_be_bytes(bytes) }
        }
    )*};
}

endian_scalars! {
    i16 => c"<h", c">h";
    u16 => c"<H", c">H";
    i32 => c"<i", c">i";
    u32 => c"<I", c">I";
    i64 => c"<q", c">q";
    u64 => c"<Q", c">Q";
    f32 => c"<f", c">f";
    f64 => c"<d", c">d";
}

endian_scalars! {
    #[cfg(feature = "half")] half::f16 => c"<e", c">e";
}

macro_rules! endian_wrapper {
    ($name:ident, $to:ident, $from:ident, $fmt:ident, $what:literal, $ex:literal) => {
        #[doc = concat!("A `T` stored ", $what, " whatever the machine: format `", $ex, "`.")]
        ///
        /// Alignment 1, any bytes are a valid value; convert with [`new`](Self::new) /
        /// [`get`](Self::get) or `From`.
        #[repr(transparent)]
        pub struct $name<T: EndianScalar>(T::Bytes);

        impl<T: EndianScalar> $name<T> {
            /// Stores `value` in this byte order.
            #[inline]
            pub fn new(value: T) -> Self {
                $name(value.$to())
            }

            /// The stored value, in the machine's order.
            #[inline]
            pub fn get(self) -> T {
                T::$from(self.0)
            }

            /// The stored bytes.
            #[inline]
            pub fn to_bytes(self) -> T::Bytes {
                self.0
            }

            /// A value from its stored bytes.
            #[inline]
            pub fn from_bytes(bytes: T::Bytes) -> Self {
                $name(bytes)
            }
        }

        impl<T: EndianScalar> Clone for $name<T> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<T: EndianScalar> Copy for $name<T> {}

        impl<T: EndianScalar> PartialEq for $name<T> {
            /// Compares the stored bytes (so `NaN == NaN` when the bits are equal).
            fn eq(&self, other: &Self) -> bool {
                self.0 == other.0
            }
        }
        impl<T: EndianScalar> Eq for $name<T> {}

        impl<T: EndianScalar + Default> Default for $name<T> {
            fn default() -> Self {
                Self::new(T::default())
            }
        }

        impl<T: EndianScalar + fmt::Debug> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.get()).finish()
            }
        }

        impl<T: EndianScalar> From<T> for $name<T> {
            fn from(value: T) -> Self {
                Self::new(value)
            }
        }

        // SAFETY: `$name<T>` is `T::Bytes` = `[u8; size_of::<T>()]` (transparent), which is
        // what the format `<code>` / `>code>` describes in the `struct` module's standard
        // sizes (equal to the native sizes of these types); any bytes are a valid value.
        unsafe impl<T: EndianScalar> Element for $name<T> {
            const FORMAT: &'static CStr = T::$fmt;
            const ANY_BITS: bool = true;
            #[inline]
            unsafe fn load(p: *const Self) -> Self {
                // SAFETY: the caller guarantees `p` is valid for reads; a byte array has
                // alignment 1 and no invalid values.
                unsafe { p.read() }
            }
        }
    };
}

endian_wrapper!(Le, to_le, from_le, LE_FORMAT, "little-endian", "<i");
endian_wrapper!(Be, to_be, from_be, BE_FORMAT, "big-endian", ">i");

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, size_of};

    #[test]
    fn stores_in_the_stated_order() {
        assert_eq!(Be::new(0x0102_0304i32).to_bytes(), [1, 2, 3, 4]);
        assert_eq!(Le::new(0x0102_0304i32).to_bytes(), [4, 3, 2, 1]);
        assert_eq!(Be::new(1.5f64).get(), 1.5);
        assert_eq!(Le::<u16>::from_bytes([0x34, 0x12]).get(), 0x1234);
        assert_eq!(Be::<u16>::from_bytes([0x12, 0x34]).get(), 0x1234);
    }

    #[test]
    fn layout_and_formats() {
        assert_eq!((size_of::<Be<f64>>(), align_of::<Be<f64>>()), (8, 1));
        assert_eq!((size_of::<Le<i16>>(), align_of::<Le<i16>>()), (2, 1));
        let cases: [(&CStr, &CStr); 6] = [
            (<Le<i32>>::FORMAT, c"<i"),
            (<Be<i32>>::FORMAT, c">i"),
            (<Be<u64>>::FORMAT, c">Q"),
            (<Le<f32>>::FORMAT, c"<f"),
            (<Be<f64>>::FORMAT, c">d"),
            (<Le<u16>>::FORMAT, c"<H"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}
