//! Matching an exporter's format string against an element type, and naming formats the way
//! numpy users read them (`uint8`, `'<i4'`).

use std::ffi::CStr;
use std::mem::size_of;

use crate::element::Element;

/// Kind, size and byte order of a single-item `struct` format.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Scalar {
    /// `b'i'` signed, `b'u'` unsigned, `b'f'` float, `b'?'` bool, `b'c'` complex.
    pub kind: u8,
    pub size: usize,
    pub little: bool,
}

/// Parses a single-item format such as `i`, `@i`, `=l`, `<d`, `>Zf`, resolving native sizes
/// and byte order. `None` for anything else (records, repeat counts other than 1).
pub(crate) fn parse_scalar(fmt: &[u8]) -> Option<Scalar> {
    use std::os::raw::{c_long, c_longlong};
    let native_little = cfg!(target_endian = "little");
    let (native, little, code) = match fmt {
        [b'@', rest @ ..] => (true, native_little, rest),
        [b'=', rest @ ..] => (false, native_little, rest),
        [b'<', rest @ ..] => (false, true, rest),
        [b'>' | b'!', rest @ ..] => (false, false, rest),
        rest => (true, native_little, rest),
    };
    // A repeat count of one is the item itself (`struct.calcsize("1i") == 4`).
    let code = match code {
        [b'1', rest @ ..] if rest.first().is_some_and(|c| !c.is_ascii_digit()) => rest,
        _ => code,
    };
    let (complex, code) = match code {
        [c] => (false, *c),
        [b'Z', c @ (b'e' | b'f' | b'd')] => (true, *c),
        _ => return None,
    };
    let long = if native { size_of::<c_long>() } else { 4 };
    let (kind, size) = match code {
        b'b' => (b'i', 1),
        b'B' => (b'u', 1),
        b'?' => (b'?', 1),
        b'h' => (b'i', 2),
        b'H' => (b'u', 2),
        b'i' => (b'i', 4),
        b'I' => (b'u', 4),
        b'l' => (b'i', long),
        b'L' => (b'u', long),
        b'q' => (b'i', if native { size_of::<c_longlong>() } else { 8 }),
        b'Q' => (b'u', if native { size_of::<c_longlong>() } else { 8 }),
        b'n' if native => (b'i', size_of::<isize>()),
        b'N' if native => (b'u', size_of::<usize>()),
        b'e' => (b'f', 2),
        b'f' => (b'f', 4),
        b'd' => (b'f', 8),
        _ => return None,
    };
    let (kind, size) = if complex {
        (b'c', size * 2)
    } else {
        (kind, size)
    };
    let little = little || size == 1; // byte order is moot for one byte
    Some(Scalar { kind, size, little })
}

/// The format a view reports when the exporter gave none (`PyBUF_FORMAT` unset or ignored).
pub(crate) fn or_unsigned_bytes(format: Option<&CStr>) -> &CStr {
    format.unwrap_or(c"B")
}

/// Whether items of `format` and `itemsize` are `T`s: the same scalar kind, size and byte
/// order (so `'<i'`, `'=i'`, `'i'` and `'l'` where it is 4 bytes all match `i32`), or, for
/// records and other formats, the same format string.
pub(crate) fn matches<T: Element>(format: &CStr, itemsize: usize) -> bool {
    if itemsize != size_of::<T>() {
        return false;
    }
    match parse_scalar(T::FORMAT.to_bytes()) {
        Some(want) => format == T::FORMAT || parse_scalar(format.to_bytes()) == Some(want),
        None => format == T::FORMAT,
    }
}

/// numpy's name of a native scalar (`uint8`, `float64`), or `None`.
pub(crate) fn dtype_name(format: &CStr) -> Option<String> {
    let s = parse_scalar(format.to_bytes())?;
    if s.size > 1 && s.little != cfg!(target_endian = "little") {
        return None;
    }
    Some(match s.kind {
        b'?' => "bool".to_owned(),
        b'i' => format!("int{}", s.size * 8),
        b'u' => format!("uint{}", s.size * 8),
        b'f' => format!("float{}", s.size * 8),
        _ => format!("complex{}", s.size * 8),
    })
}

/// numpy's type string of a scalar format (`'<i4'`, `'|u1'`, `'>f8'`), or the format itself.
pub(crate) fn typestr(format: &CStr) -> String {
    let raw = format.to_string_lossy();
    let Some(s) = parse_scalar(format.to_bytes()) else {
        return raw.into_owned();
    };
    let order = match (s.size, s.little) {
        (1, _) => '|',
        (_, true) => '<',
        (_, false) => '>',
    };
    let kind = match s.kind {
        b'?' => 'b',
        other => other as char,
    };
    format!("{order}{kind}{}", s.size)
}

/// How an element type reads in an error message: `uint8 ('B')`, or its format for records.
pub(crate) fn describe_element<T: Element>() -> String {
    let raw = T::FORMAT.to_string_lossy();
    match dtype_name(T::FORMAT) {
        Some(name) => format!("{name} ('{raw}')"),
        None => format!("'{raw}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_formats() {
        let i32_ = parse_scalar(b"i");
        let le = cfg!(target_endian = "little");
        assert_eq!(
            i32_,
            Some(Scalar {
                kind: b'i',
                size: 4,
                little: le
            })
        );
        assert_eq!(parse_scalar(b"@i"), i32_);
        assert_eq!(parse_scalar(b"=i"), i32_);
        assert_eq!(parse_scalar(b"=l"), i32_);
        assert_ne!(parse_scalar(b"I"), i32_);
        assert_eq!(parse_scalar(b"2i"), None);
        assert_eq!(parse_scalar(b"1i"), i32_);
        assert_eq!(parse_scalar(b"11i"), None);
        assert_eq!(parse_scalar(b"T{i}"), None);
        if le {
            assert_eq!(parse_scalar(b"<i"), i32_);
            assert_ne!(parse_scalar(b">i"), i32_);
            assert_eq!(parse_scalar(b">i"), parse_scalar(b"!i"));
        }
        assert_eq!(parse_scalar(b"=n"), None);
        assert_eq!(
            parse_scalar(b"Zd").map(|s| (s.kind, s.size)),
            Some((b'c', 16))
        );
        assert_eq!(parse_scalar(b"<B"), parse_scalar(b">B"));
    }

    #[test]
    fn names_as_numpy_prints_them() {
        // Expected strings are numpy's own `np.dtype(fmt).name` / `.str` for these codes.
        assert_eq!(dtype_name(c"B").as_deref(), Some("uint8"));
        assert_eq!(dtype_name(c"d").as_deref(), Some("float64"));
        assert_eq!(dtype_name(c"Zf").as_deref(), Some("complex64"));
        assert_eq!(dtype_name(c"?").as_deref(), Some("bool"));
        assert_eq!(typestr(c"B"), "|u1");
        assert_eq!(typestr(c"?"), "|b1");
        assert_eq!(typestr(c">d"), ">f8");
        assert_eq!(typestr(c"T{i:a:}"), "T{i:a:}");
        if cfg!(target_endian = "little") {
            assert_eq!(typestr(c"i"), "<i4");
            assert_eq!(dtype_name(c">i"), None);
        }
        assert_eq!(describe_element::<u8>(), "uint8 ('B')");
    }

    #[test]
    fn matching() {
        assert!(matches::<i32>(c"<i", 4) == cfg!(target_endian = "little"));
        assert!(matches::<i32>(c"=l", 4));
        assert!(!matches::<i32>(c"I", 4));
        assert!(!matches::<i32>(c"i", 8));
        assert!(matches::<u8>(c"B", 1));
        assert!(!matches::<u8>(c"b", 1));
        assert!(!matches::<u8>(c"c", 1));
    }
}
