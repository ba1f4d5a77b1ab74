//! [`SharedAnyVec`]: shared, writable storage whose element type is chosen at run time (say,
//! from a numpy dtype name), built only from a typed [`SharedVec<T>`] so that its format and
//! item size always match its bytes.

use std::ffi::CStr;
use std::fmt;

use crate::direct::{Checked, DirectExport, NdHit, NdLayout};
use crate::element::Element;
use crate::endian::{Be, Le};
use crate::hold::Hold;
use crate::shared::SharedVec;
use crate::storage::{NaturalShape, RawParts, Storage, WritableStorage};

mod sealed {
    pub trait Sealed {}
}

/// An element type [`SharedAnyVec`] can hold: see [`ElementKind`] for the list.
pub trait AnyElement: Element + Default + sealed::Sealed {
    /// This type's kind.
    const KIND: ElementKind;
    /// Wraps typed storage.
    fn wrap(v: SharedVec<Self>) -> SharedAnyVec;
    /// The typed storage, if `v` holds this type.
    fn peek(v: &SharedAnyVec) -> Option<&SharedVec<Self>>;
    /// The typed storage, if `v` holds this type.
    fn peek_mut(v: &mut SharedAnyVec) -> Option<&mut SharedVec<Self>>;
}

macro_rules! any_elements {
    ($($(#[$cfg:meta])* $variant:ident($ty:ty) = $name:literal, $what:literal;)*) => {
        /// The element types a [`SharedAnyVec`] can hold, named as numpy names the dtype.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ElementKind {
            $($(#[$cfg])* $(#[cfg_attr(docsrs, doc($cfg))])* #[doc = concat!("`", $what, "`: numpy `", $name, "`")] $variant,)*
        }

        impl ElementKind {
            /// Every kind this build supports.
            pub const ALL: &'static [ElementKind] = &[$($(#[$cfg])* ElementKind::$variant,)*];

            /// The numpy dtype name: `"int32"`, `"float16"`, `">i4"`, ...
            pub const fn numpy_name(self) -> &'static str {
                match self {
                    $($(#[$cfg])* ElementKind::$variant => $name,)*
                }
            }

            /// The kind with this numpy dtype name (as [`numpy_name`](Self::numpy_name)
            /// spells it), if this build supports it.
            pub fn from_numpy_name(name: &str) -> Option<ElementKind> {
                Self::ALL.iter().copied().find(|k| k.numpy_name() == name)
            }

            /// The element's format.
            pub fn format(self) -> &'static CStr {
                match self {
                    $($(#[$cfg])* ElementKind::$variant => <$ty as Element>::FORMAT,)*
                }
            }

            /// The element's size in bytes.
            pub const fn itemsize(self) -> usize {
                match self {
                    $($(#[$cfg])* ElementKind::$variant => std::mem::size_of::<$ty>(),)*
                }
            }
        }

        /// Shared, writable storage of one of the [`ElementKind`] types, chosen at run time:
        /// one `SharedVec<T>` per kind. Export it like a `SharedVec`; the format is the one of
        /// the `T` it holds.
        ///
        /// ```
        /// use buffer_runtime::{ElementKind, SharedAnyVec, SharedVec};
        /// let v = SharedAnyVec::from(SharedVec::from(vec![1.5f32, 2.5]));
        /// assert_eq!(v.kind(), ElementKind::F32);
        /// let z = SharedAnyVec::zeros(ElementKind::from_numpy_name(">i4").unwrap(), 3);
        /// assert_eq!((z.len(), z.kind().numpy_name()), (3, ">i4"));
        /// ```
        #[non_exhaustive]
        pub enum SharedAnyVec {
            $($(#[$cfg])* $(#[cfg_attr(docsrs, doc($cfg))])* #[doc = concat!("`", $what, "`")] $variant(SharedVec<$ty>),)*
        }

        /// Runs `$body` with `$v` bound to the typed `SharedVec` inside `$e`.
        macro_rules! each {
            ($e:expr, $v:ident => $body:expr) => {
                match $e {
                    $($(#[$cfg])* SharedAnyVec::$variant($v) => $body,)*
                }
            };
        }

        impl SharedAnyVec {
            /// `len` default values (zeros, `false`) of the given kind. Aborts if the memory
            /// cannot be had, like `vec!`; see [`try_zeros`](Self::try_zeros).
            pub fn zeros(kind: ElementKind, len: usize) -> SharedAnyVec {
                match kind {
                    $($(#[$cfg])* ElementKind::$variant => {
                        SharedAnyVec::$variant(SharedVec::from(vec![<$ty>::default(); len]))
                    })*
                }
            }

            /// [`zeros`](Self::zeros) that reports allocation failure (`MemoryError` in Python).
            pub fn try_zeros(kind: ElementKind, len: usize) -> Result<SharedAnyVec, crate::GrowError> {
                match kind {
                    $($(#[$cfg])* ElementKind::$variant => {
                        let mut v = SharedVec::new();
                        v.try_resize(len, <$ty>::default())?;
                        Ok(SharedAnyVec::$variant(v))
                    })*
                }
            }

            /// The kind of the elements.
            pub fn kind(&self) -> ElementKind {
                match self {
                    $($(#[$cfg])* SharedAnyVec::$variant(_) => ElementKind::$variant,)*
                }
            }
        }

        $(
            $(#[$cfg])*
            impl sealed::Sealed for $ty {}
            // `Storage for SharedAnyVec` keeps the default `HAS_PADDING = false`: true of every
            // kind, checked here.
            $(#[$cfg])*
            const _: () = assert!(!<$ty as Element>::HAS_PADDING, "an AnyElement type has padding");
            $(#[$cfg])*
            $(#[cfg_attr(docsrs, doc($cfg))])*
            impl AnyElement for $ty {
                const KIND: ElementKind = ElementKind::$variant;
                fn wrap(v: SharedVec<Self>) -> SharedAnyVec {
                    SharedAnyVec::$variant(v)
                }
                fn peek(v: &SharedAnyVec) -> Option<&SharedVec<Self>> {
                    match v {
                        SharedAnyVec::$variant(v) => Some(v),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
                fn peek_mut(v: &mut SharedAnyVec) -> Option<&mut SharedVec<Self>> {
                    match v {
                        SharedAnyVec::$variant(v) => Some(v),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        )*
    };
}

any_elements! {
    Bool(bool) = "bool", "bool";
    I8(i8) = "int8", "i8";
    U8(u8) = "uint8", "u8";
    I16(i16) = "int16", "i16";
    U16(u16) = "uint16", "u16";
    I32(i32) = "int32", "i32";
    U32(u32) = "uint32", "u32";
    I64(i64) = "int64", "i64";
    U64(u64) = "uint64", "u64";
    #[cfg(feature = "half")]
    F16(half::f16) = "float16", "half::f16";
    F32(f32) = "float32", "f32";
    F64(f64) = "float64", "f64";
    #[cfg(feature = "num-complex")]
    C64(num_complex::Complex<f32>) = "complex64", "Complex<f32>";
    #[cfg(feature = "num-complex")]
    C128(num_complex::Complex<f64>) = "complex128", "Complex<f64>";
    LeI16(Le<i16>) = "<i2", "Le<i16>";
    BeI16(Be<i16>) = ">i2", "Be<i16>";
    LeU16(Le<u16>) = "<u2", "Le<u16>";
    BeU16(Be<u16>) = ">u2", "Be<u16>";
    LeI32(Le<i32>) = "<i4", "Le<i32>";
    BeI32(Be<i32>) = ">i4", "Be<i32>";
    LeU32(Le<u32>) = "<u4", "Le<u32>";
    BeU32(Be<u32>) = ">u4", "Be<u32>";
    LeI64(Le<i64>) = "<i8", "Le<i64>";
    BeI64(Be<i64>) = ">i8", "Be<i64>";
    LeU64(Le<u64>) = "<u8", "Le<u64>";
    BeU64(Be<u64>) = ">u8", "Be<u64>";
    #[cfg(feature = "half")]
    LeF16(Le<half::f16>) = "<f2", "Le<f16>";
    #[cfg(feature = "half")]
    BeF16(Be<half::f16>) = ">f2", "Be<f16>";
    LeF32(Le<f32>) = "<f4", "Le<f32>";
    BeF32(Be<f32>) = ">f4", "Be<f32>";
    LeF64(Le<f64>) = "<f8", "Le<f64>";
    BeF64(Be<f64>) = ">f8", "Be<f64>";
}

impl SharedAnyVec {
    /// Number of elements.
    pub fn len(&self) -> usize {
        each!(self, v => v.len())
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Live exports of this storage.
    pub fn exports(&self) -> usize {
        each!(self, v => v.exports())
    }

    /// The typed storage, if it holds `T`s.
    pub fn downcast_ref<T: AnyElement>(&self) -> Option<&SharedVec<T>> {
        T::peek(self)
    }

    /// The typed storage, if it holds `T`s.
    pub fn downcast_mut<T: AnyElement>(&mut self) -> Option<&mut SharedVec<T>> {
        T::peek_mut(self)
    }
}

impl<T: AnyElement> From<SharedVec<T>> for SharedAnyVec {
    fn from(v: SharedVec<T>) -> Self {
        T::wrap(v)
    }
}

impl<T: AnyElement> From<Vec<T>> for SharedAnyVec {
    fn from(v: Vec<T>) -> Self {
        T::wrap(SharedVec::from(v))
    }
}

impl Clone for SharedAnyVec {
    /// A deep copy, as `SharedVec::clone`.
    fn clone(&self) -> Self {
        each!(self, v => SharedAnyVec::from(v.clone()))
    }
}

impl fmt::Debug for SharedAnyVec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SharedAnyVec<{}>(len {})",
            self.kind().numpy_name(),
            self.len()
        )
    }
}

// SAFETY: every method forwards to the one `SharedVec<T>` inside, so the format, item size and
// memory are that storage's own (its `shaped_items!`), which meets the contract. `HAS_PADDING`
// keeps its default, `false`, which every kind's `T` has (asserted with the kinds above).
unsafe impl Storage for SharedAnyVec {
    fn itemsize(&self) -> usize {
        each!(self, v => v.itemsize())
    }
    fn format(&self) -> &CStr {
        each!(self, v => v.format())
    }
    const SHARED: bool = true;
    const FIXED_COUNT: Option<usize> = None;
    fn natural_shape(&self) -> NaturalShape {
        each!(self, v => v.natural_shape())
    }
    fn raw_parts(&self) -> RawParts {
        each!(self, v => v.raw_parts())
    }
    fn keep_alive(&self) -> Option<Hold> {
        each!(self, v => v.keep_alive())
    }
    unsafe fn export_hold(&self) -> Option<Hold> {
        // SAFETY: forwarded contract (attached).
        each!(self, v => unsafe { v.export_hold() })
    }
    unsafe fn direct(&self) -> Option<DirectExport> {
        // SAFETY: forwarded contract (attached).
        each!(self, v => unsafe { v.direct() })
    }
    unsafe fn direct_nd(
        &self,
        layout: &NdLayout<'_>,
        checked: Checked,
        with_tables: bool,
    ) -> Option<DirectExport> {
        // SAFETY: forwarded contract (attached).
        each!(self, v => unsafe { v.direct_nd(layout, checked, with_tables) })
    }
    unsafe fn nd_checked(&self, layout: &NdLayout<'_>) -> Option<NdHit> {
        // SAFETY: forwarded contract (attached).
        each!(self, v => unsafe { v.nd_checked(layout) })
    }
}

// SAFETY: the inner `SharedVec` never references its elements while exported.
unsafe impl WritableStorage for SharedAnyVec {}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a numpy dtype name says, read from the name itself (numpy's spelling, not this
    /// crate's table): item size, kind (`b`ool, `i`nt, `u`int, `f`loat, `c`omplex) and byte
    /// order (`Some(true)` big-endian, `Some(false)` little, `None` native).
    fn from_name(name: &str) -> (usize, char, Option<bool>) {
        if name == "bool" {
            return (1, 'b', None);
        }
        if let Some(order @ ('<' | '>')) = name.chars().next() {
            let kind = name[1..2].chars().next().unwrap();
            return (name[2..].parse().unwrap(), kind, Some(order == '>'));
        }
        for (prefix, kind) in [
            ("uint", 'u'),
            ("int", 'i'),
            ("float", 'f'),
            ("complex", 'c'),
        ] {
            if let Some(bits) = name.strip_prefix(prefix) {
                return (bits.parse::<usize>().unwrap() / 8, kind, None);
            }
        }
        panic!("not a numpy name: {name}");
    }

    #[test]
    fn names_round_trip_and_match_sizes() {
        use pyo3::prelude::*;
        Python::attach(|py| {
            let calcsize = py.import("struct").unwrap().getattr("calcsize").unwrap();
            for &k in ElementKind::ALL {
                assert_eq!(ElementKind::from_numpy_name(k.numpy_name()), Some(k));
                let v = SharedAnyVec::zeros(k, 3);
                assert_eq!(
                    (v.kind(), v.itemsize(), v.format()),
                    (k, k.itemsize(), k.format())
                );
                assert_eq!(v.raw_parts().count, 3);
                // Against the name itself: size, kind and byte order of the one field the
                // format describes (read by the conformance kit's PEP 3118 parser), and
                // struct.calcsize wherever struct reads the format.
                let (size, kind, big) = from_name(k.numpy_name());
                let fmt = k.format().to_str().unwrap();
                assert_eq!(k.itemsize(), size, "{}", k.numpy_name());
                let layout = crate::testing::format_layout(fmt).unwrap();
                assert_eq!(layout.len(), 1, "{fmt}");
                let (offset, fkind, fsize, fbig) = layout[0];
                assert_eq!(
                    (offset, fkind, fsize),
                    (0, kind, size),
                    "{}: {fmt}",
                    k.numpy_name()
                );
                if let Some(big) = big {
                    assert_eq!(fbig, big, "{}: {fmt}", k.numpy_name());
                }
                if let Ok(n) = calcsize.call1((fmt,)) {
                    assert_eq!(n.extract::<usize>().unwrap(), size, "{fmt}");
                }
            }
        });
        assert_eq!(ElementKind::from_numpy_name("int128"), None);
    }

    #[test]
    fn typed_access() {
        let mut v = SharedAnyVec::from(vec![Be::new(7i32), Be::new(-1)]);
        assert_eq!(v.format(), c">i");
        assert!(v.downcast_ref::<i32>().is_none());
        let typed = v.downcast_mut::<Be<i32>>().unwrap();
        typed.set(0, Be::new(9));
        assert_eq!(typed.get(0).map(Be::get), Some(9));
        let hold = v.keep_alive();
        assert_eq!(v.exports(), 1);
        drop(hold);
        assert_eq!(v.exports(), 0);
    }
}
