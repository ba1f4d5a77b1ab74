//! Conversions from the fields an annotation names to dimensions and byte strides.

use crate::error::ExportError;

/// An integer field usable as one entry of `shape = [...]`.
#[diagnostic::on_unimplemented(
    message = "a field of type `{Self}` cannot be a dimension, stride or offset",
    label = "expected an integer field",
    note = "entries of `shape`, `strides` and `offset` are integer fields (`usize`, `u32`, `i64`, ...), integer literals or constant blocks"
)]
pub trait Dim: Copy {
    /// The value as a dimension; `None` if negative or too large.
    fn to_dim(self) -> Option<usize>;
    /// The value as a byte stride; `None` if out of `isize` range.
    fn to_stride(self) -> Option<isize>;
    #[doc(hidden)]
    fn to_i128(self) -> i128;
    /// The value as a dimension, once [`to_dim`](Self::to_dim) has accepted it: the generated
    /// export tests every field entry first, in one test, then converts them with this.
    #[doc(hidden)]
    #[inline(always)]
    fn to_dim_tested(self) -> usize {
        self.to_dim().unwrap_or(0)
    }
    /// The value as a byte stride, once [`to_stride`](Self::to_stride) has accepted it (as
    /// [`to_dim_tested`](Self::to_dim_tested)).
    #[doc(hidden)]
    #[inline(always)]
    fn to_stride_tested(self) -> isize {
        self.to_stride().unwrap_or(0)
    }
}

macro_rules! int_dims {
    ($($t:ty),*) => {$(
        impl Dim for $t {
            #[inline]
            fn to_dim(self) -> Option<usize> {
                usize::try_from(self).ok().filter(|&d| d <= isize::MAX as usize)
            }
            #[inline]
            fn to_stride(self) -> Option<isize> {
                isize::try_from(self).ok()
            }
            fn to_i128(self) -> i128 {
                self as i128
            }
            #[inline(always)]
            fn to_dim_tested(self) -> usize {
                self as usize // in range (`to_dim` accepted it): exact
            }
            #[inline(always)]
            fn to_stride_tested(self) -> isize {
                self as isize // in range (`to_stride` accepted it): exact
            }
        }
    )*};
}
int_dims!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// A field holding a whole shape (`shape = field`), e.g. `Vec<usize>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold a whole shape",
    label = "expected `Vec<usize>`, `Box<[usize]>` or `[usize; N]`"
)]
pub trait DimsField {
    /// The shape, in elements.
    fn dims(&self) -> &[usize];
}

/// A field holding all byte strides (`strides = field`), e.g. `Vec<isize>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold byte strides",
    label = "expected `Vec<isize>`, `Box<[isize]>` or `[isize; N]`"
)]
pub trait StridesField {
    /// The byte strides, one per dimension.
    fn strides(&self) -> &[isize];
}

impl DimsField for Vec<usize> {
    fn dims(&self) -> &[usize] {
        self
    }
}
impl DimsField for Box<[usize]> {
    fn dims(&self) -> &[usize] {
        self
    }
}
impl<const N: usize> DimsField for [usize; N] {
    fn dims(&self) -> &[usize] {
        self
    }
}
impl StridesField for Vec<isize> {
    fn strides(&self) -> &[isize] {
        self
    }
}
impl StridesField for Box<[isize]> {
    fn strides(&self) -> &[isize] {
        self
    }
}
impl<const N: usize> StridesField for [isize; N] {
    fn strides(&self) -> &[isize] {
        self
    }
}

/// One shape entry from field `field`.
#[doc(hidden)]
#[inline]
pub fn dim<D: Dim>(value: D, field: &'static str) -> Result<usize, ExportError> {
    // Lazily: an `ExportError` built on the success path would be dropped on it too.
    value.to_dim().ok_or_else(|| ExportError::BadField {
        field,
        value: value.to_i128(),
    })
}

/// One byte stride (or offset) from field `field`.
#[doc(hidden)]
#[inline]
pub fn stride<D: Dim>(value: D, field: &'static str) -> Result<isize, ExportError> {
    value.to_stride().ok_or_else(|| ExportError::BadField {
        field,
        value: value.to_i128(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(dim(3u8, "a").unwrap(), 3);
        assert!(matches!(
            dim(-1i64, "rows"),
            Err(ExportError::BadField {
                field: "rows",
                value: -1
            })
        ));
        assert!(dim(u64::MAX, "a").is_err());
        assert_eq!(stride(-8i32, "s").unwrap(), -8);
        assert!(stride(u64::MAX, "s").is_err());
    }
}
