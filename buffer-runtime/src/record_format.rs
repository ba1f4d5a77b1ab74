//! The PEP 3118 record format `T{...}` of a `#[derive(Element)]` struct, built at compile time
//! from the compiler's own layout (`offset_of!`, `size_of`, `align_of`).
//!
//! The output is written for numpy's parser (`numpy/_core/_internal.py`), which is the one
//! consumer that reads records:
//! - every gap between fields, and the end of the struct, is spelled with `x`, so the item
//!   size is exactly `size_of::<T>()` (numpy drops implicit trailing padding);
//! - array fields are subarrays, shape first: `(3)f`, `(2,4)d`;
//! - `n` / `N` become the same-size `q` / `Q` (`i` / `I` on 32-bit): numpy has no `n` in
//!   records;
//! - numpy's byte order is sticky (it leaks out of `T{}`) and `@` makes it insert alignment
//!   padding. So a record whose fields are all native and aligned has no byte order marks at
//!   all; once any field (or nested field) names a byte order, every field states its own
//!   (`@` for native ones); and a packed record uses `=` (native order, no alignment) for
//!   native fields, nested ones included.

use std::ffi::CStr;
use std::mem::{align_of, size_of};

use crate::element::{ArrayDims, Element, Shaped};

/// One field of a record, as the derive describes it (`'static`), or a test builds it.
#[derive(Clone, Copy, Debug)]
pub struct Field<'a> {
    /// The field's name (`""` for a tuple struct field: numpy then names it `f0`, `f1`...).
    pub name: &'a str,
    /// `offset_of!(T, field)`.
    pub offset: usize,
    /// `size_of` the field type.
    pub size: usize,
    /// `align_of` the field type.
    pub align: usize,
    /// The field's element format.
    pub format: &'a CStr,
    /// Array dimensions of the field (none for a single element).
    pub dims: ArrayDims,
    /// Whether the field's own elements have padding (nested records).
    pub padding: bool,
}

impl Field<'static> {
    /// The field `name` of type `F` at `offset`.
    pub const fn new<F: Shaped>(name: &'static str, offset: usize) -> Field<'static> {
        Field {
            name,
            offset,
            size: size_of::<F>(),
            align: align_of::<F>(),
            format: <F::Elem as Element>::FORMAT,
            dims: F::DIMS,
            padding: F::HAS_PADDING,
        }
    }
}

/// How fields state their byte order (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// All native and aligned: no marks.
    Plain,
    /// Aligned, some field names an order: every field states one, `@` for native.
    Marked,
    /// Packed: `=` for native fields, and nested `@` become `=`.
    Packed,
}

const fn is_order(b: u8) -> bool {
    matches!(b, b'@' | b'=' | b'<' | b'>' | b'!')
}

/// Whether `fmt` contains a byte order mark outside field names.
const fn has_order(fmt: &[u8]) -> bool {
    let (mut i, mut in_name) = (0, false);
    while i < fmt.len() {
        let b = fmt[i];
        if b == b':' {
            in_name = !in_name;
        } else if !in_name && is_order(b) {
            return true;
        }
        i += 1;
    }
    false
}

/// Writes bytes into `out`, or only counts them when `out` is too short (the first pass).
struct Writer<'a> {
    out: &'a mut [u8],
    len: usize,
}

impl Writer<'_> {
    const fn byte(&mut self, b: u8) {
        if self.len < self.out.len() {
            self.out[self.len] = b;
        }
        self.len += 1;
    }

    const fn bytes(&mut self, s: &[u8]) {
        let mut i = 0;
        while i < s.len() {
            self.byte(s[i]);
            i += 1;
        }
    }

    const fn number(&mut self, n: usize) {
        let mut digits = [0u8; 20];
        let (mut k, mut n) = (0, n);
        loop {
            digits[k] = b'0' + (n % 10) as u8;
            k += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        while k > 0 {
            k -= 1;
            self.byte(digits[k]);
        }
    }

    const fn padding(&mut self, n: usize) {
        if n > 1 {
            self.number(n);
        }
        if n > 0 {
            self.byte(b'x');
        }
    }

    /// A field's format, with `n`/`N` made numpy-readable and, in packed mode, `@` made `=`.
    const fn format(&mut self, fmt: &[u8], mode: Mode) {
        let wide = size_of::<usize>() == 8;
        let (mut i, mut in_name) = (0, false);
        while i < fmt.len() {
            let mut b = fmt[i];
            if b == b':' {
                in_name = !in_name;
            } else if !in_name {
                b = match b {
                    b'n' if wide => b'q',
                    b'N' if wide => b'Q',
                    b'n' => b'i',
                    b'N' => b'I',
                    b'@' if matches!(mode, Mode::Packed) => b'=',
                    _ => b,
                };
            }
            self.byte(b);
            i += 1;
        }
    }
}

/// Writes the record format (with its NUL) into `out` and returns its length; with a short
/// `out`, only the length. Panics (at compile time, in a `const`) if the fields do not tile a
/// struct of `size` bytes in order.
const fn write(fields: &[Field<'_>], size: usize, align: usize, out: &mut [u8]) -> usize {
    assert!(!fields.is_empty(), "a record needs at least one field");
    assert!(size > 0, "a record cannot be zero-sized");
    let mut max_align = 1;
    let (mut marked, mut aligned) = (false, true);
    let mut i = 0;
    while i < fields.len() {
        let f = &fields[i];
        if f.align > max_align {
            max_align = f.align;
        }
        aligned &= f.offset.is_multiple_of(f.align);
        marked |= has_order(f.format.to_bytes());
        i += 1;
    }
    let mode = if !aligned || align < max_align || !size.is_multiple_of(max_align) {
        Mode::Packed
    } else if marked {
        Mode::Marked
    } else {
        Mode::Plain
    };

    let mut w = Writer { out, len: 0 };
    w.bytes(b"T{");
    let mut end = 0;
    i = 0;
    while i < fields.len() {
        let f = &fields[i];
        assert!(
            f.offset >= end,
            "record fields overlap or are out of offset order"
        );
        w.padding(f.offset - end);
        let dims = f.dims.as_slice();
        if !dims.is_empty() {
            w.byte(b'(');
            let mut d = 0;
            while d < dims.len() {
                if d > 0 {
                    w.byte(b',');
                }
                w.number(dims[d]);
                d += 1;
            }
            w.byte(b')');
        }
        let fmt = f.format.to_bytes();
        if fmt.is_empty() || !is_order(fmt[0]) {
            match mode {
                Mode::Plain => {}
                Mode::Marked => w.byte(b'@'),
                Mode::Packed => w.byte(b'='),
            }
        }
        w.format(fmt, mode);
        if !f.name.is_empty() {
            w.byte(b':');
            w.bytes(f.name.as_bytes());
            w.byte(b':');
        }
        end = f.offset + f.size;
        i += 1;
    }
    assert!(end <= size, "record fields extend past the struct");
    w.padding(size - end);
    w.byte(b'}');
    w.byte(0);
    w.len
}

/// The length of the record format, NUL included: the array size for [`format_bytes`].
pub const fn format_len(fields: &[Field<'_>], size: usize, align: usize) -> usize {
    write(fields, size, align, &mut [])
}

/// The record format, NUL-terminated, in an array of [`format_len`] bytes.
pub const fn format_bytes<const N: usize>(
    fields: &[Field<'_>],
    size: usize,
    align: usize,
) -> [u8; N] {
    let mut out = [0u8; N];
    let n = write(fields, size, align, &mut out);
    assert!(n == N, "format_bytes: N must be format_len(..)");
    out
}

/// The bytes from [`format_bytes`] as a `CStr`.
pub const fn as_cstr(bytes: &'static [u8]) -> &'static CStr {
    match CStr::from_bytes_with_nul(bytes) {
        Ok(s) => s,
        Err(_) => panic!("a record format has one NUL, at its end"),
    }
}

/// Reads field `F` at `offset` bytes into a record, aligned or not (packed records).
///
/// # Safety
/// `record + offset` is valid for reads of `size_of::<F>()` bytes.
#[inline]
pub unsafe fn load_field<F: Shaped>(record: *const u8, offset: usize) -> F {
    let mut tmp = std::mem::MaybeUninit::<F>::uninit();
    // SAFETY: the field's bytes lie inside the record (the caller guarantees it).
    let src = unsafe { record.add(offset) };
    // SAFETY: the caller guarantees the source bytes are readable; `tmp` is a separate, aligned
    // `F`-sized slot.
    unsafe { std::ptr::copy_nonoverlapping(src, tmp.as_mut_ptr().cast::<u8>(), size_of::<F>()) };
    // SAFETY: `tmp` holds `size_of::<F>()` copied bytes; `F::load` accepts any bytes.
    unsafe { F::load(tmp.as_ptr()) }
}

/// The record format of `fields` in a struct of `size` bytes aligned to `align`, built at run
/// time: for tests that check the builder against an independent layout (ctypes). The derive
/// uses the `const` functions.
pub fn format_string(fields: &[Field<'_>], size: usize, align: usize) -> String {
    let mut out = vec![0u8; format_len(fields, size, align)];
    write(fields, size, align, &mut out);
    out.pop(); // the NUL
    String::from_utf8(out).expect("formats are ASCII")
}

#[cfg(feature = "testing")]
/// [`format_string`] for fields that may not describe a struct: `Err` (what is wrong) instead
/// of the builder's panics, for layouts that only exist at run time (the conformance kit's
/// [`record_format`](crate::testing::record_format)).
pub fn try_format_string(
    fields: &[Field<'_>],
    size: usize,
    align: usize,
) -> Result<String, &'static str> {
    if fields.is_empty() {
        return Err("a record needs at least one field");
    }
    if size == 0 || align == 0 {
        return Err("a record cannot be zero-sized or zero-aligned");
    }
    let mut end = 0usize;
    for f in fields {
        if f.align == 0 {
            return Err("a field cannot be zero-aligned");
        }
        if f.offset < end {
            return Err("record fields overlap or are out of offset order");
        }
        if f.name.bytes().any(|b| b == b':' || !b.is_ascii_graphic()) {
            return Err("a field name must be printable ASCII without ':'");
        }
        end = f
            .offset
            .checked_add(f.size)
            .ok_or("a field's end overflows")?;
    }
    if end > size {
        return Err("record fields extend past the struct");
    }
    Ok(format_string(fields, size, align))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endian::{Be, Le};
    use std::mem::offset_of;

    #[allow(dead_code)]
    #[derive(Clone, Copy)]
    #[repr(C)]
    struct Particle {
        x: f32,
        y: f32,
        z: f32,
        mass: f64,
        id: u32,
    }

    #[allow(dead_code)]
    #[derive(Clone, Copy)]
    #[repr(C, packed)]
    struct Packed {
        tag: u8,
        value: u32,
        big: Be<u16>,
    }

    macro_rules! fields {
        ($t:ty { $($name:ident : $ft:ty),* }) => {
            &[$(Field::new::<$ft>(stringify!($name), offset_of!($t, $name))),*]
        };
    }

    fn fmt_of(fields: &[Field], size: usize, align: usize) -> String {
        format_string(fields, size, align)
    }

    #[test]
    fn table() {
        let particle: &[Field] = fields!(Particle {
            x: f32,
            y: f32,
            z: f32,
            mass: f64,
            id: u32
        });
        let packed: &[Field] = fields!(Packed { tag: u8, value: u32, big: Be<u16> });
        let n = |name, off| Field::new::<isize>(name, off);
        let cases: [(&str, &[Field], usize, usize, &str); 11] = [
            (
                "particle",
                particle,
                32,
                8,
                "T{f:x:f:y:f:z:4xd:mass:I:id:4x}",
            ),
            ("packed", packed, 7, 1, "T{=B:tag:=I:value:>H:big:}"),
            ("one field", &[Field::new::<f64>("v", 0)], 8, 8, "T{d:v:}"),
            ("unnamed", &[Field::new::<f64>("", 0)], 8, 8, "T{d}"),
            (
                "subarray",
                &[Field::new::<[f32; 3]>("p", 0)],
                12,
                4,
                "T{(3)f:p:}",
            ),
            (
                "nested subarray",
                &[
                    Field::new::<u8>("a", 0),
                    Field::new::<[[u16; 4]; 2]>("m", 2),
                ],
                18,
                2,
                "T{B:a:x(2,4)H:m:}",
            ),
            ("isize", &[n("n", 0)], 8, 8, "T{q:n:}"),
            (
                "marked",
                &[
                    Field::new::<Be<i32>>("b", 0),
                    Field::new::<f32>("f", 4),
                    Field::new::<Le<u16>>("l", 8),
                ],
                12,
                4,
                "T{>i:b:@f:f:<H:l:2x}",
            ),
            (
                "padding of one",
                &[Field::new::<u8>("a", 0), Field::new::<u16>("b", 2)],
                4,
                2,
                "T{B:a:xH:b:}",
            ),
            (
                "trailing 7",
                &[Field::new::<u64>("a", 0), Field::new::<u8>("b", 8)],
                16,
                8,
                "T{Q:a:B:b:7x}",
            ),
            (
                "name with n",
                &[Field::new::<u32>("nN", 0)],
                4,
                4,
                "T{I:nN:}",
            ),
        ];
        for (what, fields, size, align, want) in cases {
            assert_eq!(fmt_of(fields, size, align), want, "{what}");
        }
    }

    #[test]
    fn nested_records_follow_the_outer_mode() {
        // An inner format as the derive would produce it for { x: f32, y: isize }.
        const INNER: &CStr = c"T{f:x:4xq:y:}";
        let inner = Field {
            name: "i",
            offset: 0,
            size: 16,
            align: 8,
            format: INNER,
            dims: ArrayDims::SCALAR,
            padding: false,
        };
        // Aligned outer: copied as is.
        let outer = [inner, Field::new::<u8>("t", 16)];
        assert_eq!(fmt_of(&outer, 24, 8), "T{T{f:x:4xq:y:}:i:B:t:7x}");
        // Packed outer (inner at offset 1): `=` in front, which leaks into the inner record.
        let packed = [Field::new::<u8>("t", 0), Field { offset: 1, ..inner }];
        assert_eq!(fmt_of(&packed, 17, 1), "T{=B:t:=T{f:x:4xq:y:}:i:}");
        // An inner record with marks makes the outer one marked, and loses `@` when packed.
        const MARKED: &CStr = c"T{>i:b:@f:f:}";
        let m = Field {
            name: "m",
            offset: 0,
            size: 8,
            align: 4,
            format: MARKED,
            dims: ArrayDims::SCALAR,
            padding: false,
        };
        assert_eq!(
            fmt_of(&[m, Field::new::<u32>("u", 8)], 12, 4),
            "T{@T{>i:b:@f:f:}:m:@I:u:}"
        );
        let pm = [Field::new::<u8>("t", 0), Field { offset: 1, ..m }];
        assert_eq!(fmt_of(&pm, 9, 1), "T{=B:t:=T{>i:b:=f:f:}:m:}");
        // A subarray of records keeps the shape first.
        let arr = Field {
            dims: ArrayDims::outer(2, ArrayDims::SCALAR),
            size: 32,
            ..inner
        };
        assert_eq!(fmt_of(&[arr], 32, 8), "T{(2)T{f:x:4xq:y:}:i:}");
    }

    #[test]
    fn const_build_matches() {
        const FIELDS: &[Field] = fields!(Particle {
            x: f32,
            y: f32,
            z: f32,
            mass: f64,
            id: u32
        });
        const LEN: usize = format_len(FIELDS, size_of::<Particle>(), align_of::<Particle>());
        const BYTES: [u8; LEN] =
            format_bytes(FIELDS, size_of::<Particle>(), align_of::<Particle>());
        const FORMAT: &CStr = as_cstr(&BYTES);
        assert_eq!(FORMAT, c"T{f:x:f:y:f:z:4xd:mass:I:id:4x}");
    }

    #[test]
    fn load_field_reads_unaligned() {
        let bytes = [0u8, 0x78, 0x56, 0x34, 0x12, 1];
        // SAFETY: bytes 1..5 are inside `bytes`.
        let v: u32 = unsafe { load_field(bytes.as_ptr(), 1) };
        assert_eq!(v, u32::from_le_bytes([0x78, 0x56, 0x34, 0x12]));
        // SAFETY: byte 2 is inside `bytes`.
        let b: bool = unsafe { load_field(bytes.as_ptr(), 2) };
        assert!(b);
        // SAFETY: byte 0 is inside `bytes`.
        let z: bool = unsafe { load_field(bytes.as_ptr(), 0) };
        assert!(!z);
    }

    mod derived {
        use crate::{Be, Element, Le};
        use std::ffi::CStr;
        use std::mem::size_of;

        #[derive(Clone, Copy, Debug, PartialEq, crate::Element)]
        #[element(crate = "crate")]
        #[repr(C)]
        struct Particle {
            x: f32,
            y: f32,
            z: f32,
            mass: f64,
            id: u32,
        }

        #[derive(Clone, Copy, Debug, PartialEq, crate::Element)]
        #[element(crate = "crate")]
        #[repr(C)]
        struct Pair(u8, f64);

        #[derive(Clone, Copy, Debug, PartialEq, crate::Element)]
        #[element(crate = "crate")]
        #[repr(transparent)]
        struct Meters(f64);

        #[derive(Clone, Copy, Debug, PartialEq, crate::Element)]
        #[element(crate = "crate")]
        #[repr(C, align(16))]
        struct Aligned {
            r#type: u8,
            v: [Pair; 2],
        }

        #[derive(Clone, Copy, Debug, PartialEq, crate::Element)]
        #[element(crate = "crate")]
        #[repr(C, packed)]
        struct Header {
            magic: [u8; 2],
            len: Be<u32>,
            n: usize,
            ok: bool,
            inner: Pair,
        }

        #[derive(Clone, Copy, Debug, PartialEq, crate::Element)]
        #[element(crate = "crate")]
        #[repr(C)]
        struct Wire {
            a: Le<u16>,
            b: Be<i64>,
            c: [[f32; 2]; 3],
        }

        #[test]
        fn derived_formats() {
            let cases: [(&str, &CStr, usize, &CStr); 6] = [
                (
                    "Particle",
                    Particle::FORMAT,
                    size_of::<Particle>(),
                    c"T{f:x:f:y:f:z:4xd:mass:I:id:4x}",
                ),
                ("Pair", Pair::FORMAT, size_of::<Pair>(), c"T{B7xd}"),
                ("Meters", Meters::FORMAT, size_of::<Meters>(), c"T{d}"),
                (
                    "Aligned",
                    Aligned::FORMAT,
                    size_of::<Aligned>(),
                    c"T{B:type:7x(2)T{B7xd}:v:8x}",
                ),
                (
                    "Header",
                    Header::FORMAT,
                    size_of::<Header>(),
                    c"T{(2)=B:magic:>I:len:=Q:n:=?:ok:=T{B7xd}:inner:}",
                ),
                (
                    "Wire",
                    Wire::FORMAT,
                    size_of::<Wire>(),
                    c"T{<H:a:>q:b:2x(3,2)@f:c:}",
                ),
            ];
            // The item sizes worked out by hand from the struct definitions above.
            let by_hand = [
                32,
                16,
                8,
                1 + 7 + 2 * 16 + 8,
                2 + 4 + 8 + 1 + 16,
                2 + 8 + 2 + 3 * 2 * 4,
            ];
            for ((what, got, size, want), hand) in cases.into_iter().zip(by_hand) {
                assert_eq!(got, want, "{what}");
                assert_eq!(size, hand, "{what}: size_of");
                // The conformance kit's PEP 3118 parser (numpy's reading, independent of the
                // builder here) gives the same item size.
                let parsed = crate::testing::format_itemsize(want.to_str().unwrap());
                assert_eq!(parsed, Ok(hand), "{what}: {want:?}");
            }
            assert_eq!(size_of::<Header>(), 2 + 4 + 8 + 1 + 16);
        }

        #[test]
        fn derived_load_reads_every_field_from_any_bytes() {
            let mut bytes = [0xFFu8; size_of::<Header>()];
            bytes[6..14].copy_from_slice(&7usize.to_ne_bytes());
            // Not a valid bool: read as true.
            bytes[14] = 3;
            // SAFETY: `bytes` is a `Header`-sized buffer; `load` accepts any bytes.
            let h = unsafe { <Header as Element>::load(bytes.as_ptr().cast()) };
            assert_eq!({ h.magic }, [0xFF, 0xFF]);
            assert_eq!({ h.len }.get(), u32::MAX);
            assert_eq!({ h.n }, 7);
            assert!({ h.ok });
            let p = Particle {
                x: 1.0,
                y: 2.0,
                z: 3.0,
                mass: 4.5,
                id: 9,
            };
            // SAFETY: `&p` points at a whole `Particle`.
            assert_eq!(unsafe { <Particle as Element>::load(&p) }, p);
        }
    }

    /// The expansion names everything by absolute path.
    #[no_implicit_prelude]
    mod hygiene {
        #[derive(::core::clone::Clone, ::core::marker::Copy, crate::Element)]
        #[element(crate = "crate")]
        #[repr(C)]
        struct Point {
            x: f32,
            n: [u16; 3],
        }

        #[test]
        fn without_prelude() {
            ::std::assert_eq!(<Point as crate::Element>::FORMAT, c"T{f:x:(3)H:n:2x}");
        }
    }
}

/// Whether a record of `size` bytes with `fields` (in declaration order, as `repr(C)` lays them
/// out) has bytes that belong to no field, or fields with padding of their own.
pub const fn has_padding(fields: &[Field<'_>], size: usize) -> bool {
    let mut covered = 0;
    let mut i = 0;
    while i < fields.len() {
        if fields[i].padding || fields[i].offset != covered {
            return true;
        }
        covered = fields[i].offset + fields[i].size;
        i += 1;
    }
    covered != size
}

/// Zeroes the bytes of the record at `base` that belong to no field.
///
/// # Safety
/// `base` is valid for writes of `size` bytes; `fields` describe the record's fields in
/// declaration order.
pub unsafe fn clear_gaps(base: *mut u8, fields: &[Field<'_>], size: usize) {
    let mut covered = 0;
    for f in fields.iter().map(|f| (f.offset, f.size)).chain([(size, 0)]) {
        if f.0 > covered {
            // SAFETY: `covered..f.0` lies inside the record (contract).
            let gap = unsafe { base.add(covered) };
            // SAFETY: as above: `f.0 - covered` bytes from `gap` are writable.
            unsafe { gap.write_bytes(0, f.0 - covered) };
        }
        covered = covered.max(f.0 + f.1);
    }
}

#[cfg(test)]
mod padding_tests {
    use super::*;

    #[test]
    fn gaps_are_found_and_zeroed() {
        // { f32 @0, f64 @8, u32 @16 } in 24 bytes: gaps 4..8 and 20..24.
        let fields = [
            Field::new::<f32>("a", 0),
            Field::new::<f64>("b", 8),
            Field::new::<u32>("c", 16),
        ];
        assert!(has_padding(&fields, 24));
        let mut bytes = [0xAAu8; 24];
        // SAFETY: `bytes` is the 24-byte record the fields describe.
        unsafe { clear_gaps(bytes.as_mut_ptr(), &fields, 24) };
        let zeroed: Vec<usize> = (0..24).filter(|&i| bytes[i] == 0).collect();
        assert_eq!(zeroed, [4, 5, 6, 7, 20, 21, 22, 23]);
        // Tiled exactly: no padding.
        let tight = [Field::new::<u32>("a", 0), Field::new::<u32>("b", 4)];
        assert!(!has_padding(&tight, 8));
        // A field with padding of its own makes the record padded.
        let nested = [Field {
            padding: true,
            ..Field::new::<u64>("n", 0)
        }];
        assert!(has_padding(&nested, 8));
    }
}
