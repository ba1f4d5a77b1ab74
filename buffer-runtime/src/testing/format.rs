//! The kit's own reading of PEP 3118 format strings, independent of the provider.
//!
//! `struct.calcsize` is the judge of every format it can parse. For the PEP 3118 additions it
//! cannot (`T{...}` records, `:name:`, `(2,3)` subarrays, `Z` complex codes, `w` and `u`
//! characters), this parser follows numpy's reading (`numpy._core._internal._dtype_from_pep3118`,
//! the consumer that reads records): the last byte-order mark is sticky, even out of a `T{}`;
//! under `@` every item is aligned to its natural alignment, repeated items are padded to it,
//! and a `T{}` ends padded to the largest alignment inside it. A string neither reads is not a
//! format, and the kit fails it.
//!
//! Besides the item size, the parser gives every non-padding primitive of the item with its
//! offset, kind, size and byte order: two formats describe the same item exactly when these
//! lists are equal (`i` and `<i` on a little-endian machine, `q` and `l` on LP64, `2i` and `ii`).

use std::os::raw::{c_long, c_short};

/// One primitive of an item: where it is and how to read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    pub offset: usize,
    /// `i` signed integer, `u` unsigned, `f` float, `c` complex, `b` bool, `S` bytes (`c`, `s`,
    /// `p`), `U` characters (`u`, `w`), `O` object pointer, `P` pointer.
    pub kind: char,
    pub size: usize,
    /// Big-endian (only meaningful for multi-byte numbers).
    pub big: bool,
    /// The `:name:`s on the way to the field, joined with `.` (empty if none).
    pub name: String,
}

/// A parsed format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub itemsize: usize,
    pub fields: Vec<Field>,
}

impl Parsed {
    /// The fields without their names (records compare by layout; a name differs only where a
    /// consumer would show another label).
    pub fn layout(&self) -> Vec<(usize, char, usize, bool)> {
        self.fields
            .iter()
            .map(|f| {
                (
                    f.offset,
                    f.kind,
                    f.size,
                    f.big && f.size > 1 && f.kind != 'S',
                )
            })
            .collect()
    }

    /// Byte `i` of an item is padding (belongs to no field).
    pub fn padding_mask(&self) -> Vec<bool> {
        let mut pad = vec![true; self.itemsize];
        for f in &self.fields {
            for b in pad.iter_mut().skip(f.offset).take(f.size) {
                *b = false;
            }
        }
        pad
    }
}

const NATIVE_BIG: bool = cfg!(target_endian = "big");

#[cfg(any(
    all(target_arch = "x86_64", not(windows)),
    all(target_arch = "aarch64", target_os = "linux")
))]
const LONG_DOUBLE: usize = 16;
#[cfg(not(any(
    all(target_arch = "x86_64", not(windows)),
    all(target_arch = "aarch64", target_os = "linux")
)))]
const LONG_DOUBLE: usize = 8;

/// Size, alignment and kind of a one-character code under the current byte-order mode.
fn primitive(code: u8, native: bool) -> Option<(usize, usize, char)> {
    let ptr = std::mem::size_of::<usize>();
    let long = std::mem::size_of::<c_long>();
    let short = std::mem::size_of::<c_short>();
    let (size, kind) = match code {
        b'c' => (1, 'S'),
        b'b' => (1, 'i'),
        b'B' => (1, 'u'),
        b'?' => (1, 'b'),
        b'h' => (if native { short } else { 2 }, 'i'),
        b'H' => (if native { short } else { 2 }, 'u'),
        b'i' => (4, 'i'),
        b'I' => (4, 'u'),
        b'l' => (if native { long } else { 4 }, 'i'),
        b'L' => (if native { long } else { 4 }, 'u'),
        b'q' => (8, 'i'),
        b'Q' => (8, 'u'),
        b'n' if native => (ptr, 'i'),
        b'N' if native => (ptr, 'u'),
        b'e' => (2, 'f'),
        b'f' => (4, 'f'),
        b'd' => (8, 'f'),
        b'g' if native => (LONG_DOUBLE, 'f'),
        b'P' if native => (ptr, 'P'),
        b'O' => (ptr, 'O'),
        b'u' => (2, 'U'),
        b'w' => (4, 'U'),
        _ => return None,
    };
    Some((size, size, kind))
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    /// The sticky byte-order mark: `@`, `=`, `<`, `>` or `^` (`!` is stored as `>`).
    order: u8,
}

fn round_up(n: usize, align: usize) -> usize {
    n.div_ceil(align.max(1)) * align.max(1)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn lcm(a: usize, b: usize) -> usize {
    a / gcd(a, b) * b
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn err(&self, what: &str) -> String {
        format!("{what} at position {}", self.i)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn number(&mut self) -> Result<Option<usize>, String> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if start == self.i {
            return Ok(None);
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
        text.parse()
            .map(Some)
            .map_err(|_| self.err("repeat count too large"))
    }

    fn native(&self) -> bool {
        matches!(self.order, b'@' | b'^')
    }

    fn big(&self) -> bool {
        match self.order {
            b'>' => true,
            b'<' => false,
            _ => NATIVE_BIG,
        }
    }

    /// The items up to the end (top level) or up to the closing `}` (nested). Returns the size
    /// and the common alignment; pushes the fields, shifted by `base`, named under `prefix`.
    fn items(
        &mut self,
        nested: bool,
        base: usize,
        prefix: &str,
        out: &mut Vec<Field>,
    ) -> Result<(usize, usize), String> {
        let mut offset = 0usize;
        let mut common = 1usize;
        let mut any = false;
        loop {
            self.skip_ws();
            match self.peek() {
                None if nested => return Err(self.err("unterminated T{")),
                None => break,
                Some(b'}') if nested => {
                    self.i += 1;
                    break;
                }
                Some(b'}') => return Err(self.err("unmatched '}'")),
                _ => {}
            }
            // (shape), byte order, repeat, code, :name: -- numpy's order within an item.
            let mut dims = 1usize;
            let mut has_dims = false;
            if self.peek() == Some(b'(') {
                self.i += 1;
                has_dims = true;
                loop {
                    self.skip_ws();
                    let n = self
                        .number()?
                        .ok_or_else(|| self.err("expected a dimension in (...)"))?;
                    dims = dims
                        .checked_mul(n)
                        .ok_or_else(|| self.err("subarray too large"))?;
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b')') => {
                            self.i += 1;
                            break;
                        }
                        _ => return Err(self.err("expected ',' or ')' in a subarray shape")),
                    }
                }
            }
            if let Some(c @ (b'@' | b'=' | b'<' | b'>' | b'!' | b'^')) = self.peek() {
                self.order = if c == b'!' { b'>' } else { c };
                self.i += 1;
                if !has_dims && matches!(self.peek(), None | Some(b'}')) {
                    continue; // a mark with nothing after it
                }
            }
            let count = self.number()?;
            let code = self
                .peek()
                .ok_or_else(|| self.err("expected a type code"))?;
            self.i += 1;
            let native = self.native();
            let start = out.len();
            let (size, align, kind, repeat) = match code {
                b'T' => {
                    if self.peek() != Some(b'{') {
                        return Err(self.err("expected '{' after 'T'"));
                    }
                    self.i += 1;
                    let mut inner = Vec::new();
                    let (size, align) = self.items(true, 0, "", &mut inner)?;
                    out.extend(inner);
                    (size, align, 'T', count.unwrap_or(1))
                }
                b'Z' => {
                    let c = self
                        .peek()
                        .ok_or_else(|| self.err("expected e, f, d or g after 'Z'"))?;
                    self.i += 1;
                    let (size, align) = match c {
                        b'e' => (2, 2),
                        b'f' => (4, 4),
                        b'd' => (8, 8),
                        b'g' if native => (LONG_DOUBLE, LONG_DOUBLE),
                        _ => return Err(self.err("expected e, f, d or g after 'Z'")),
                    };
                    (2 * size, align, 'c', count.unwrap_or(1))
                }
                b'x' => (1, 1, 'x', count.unwrap_or(1)),
                // The count of a string code is its length: one field.
                b's' | b'p' => (count.unwrap_or(1), 1, 'S', 1),
                b'w' | b'u' if count.is_some() => {
                    let unit = if code == b'w' { 4 } else { 2 };
                    (unit * count.unwrap_or(1), unit, 'U', 1)
                }
                b'&' => {
                    // A pointer to whatever follows (one code): pointer-sized.
                    let next = self
                        .peek()
                        .ok_or_else(|| self.err("expected a code after '&'"))?;
                    self.i += 1;
                    if primitive(next, true).is_none() {
                        return Err(self.err("expected a type code after '&'"));
                    }
                    let p = std::mem::size_of::<usize>();
                    (p, p, 'P', count.unwrap_or(1))
                }
                c => match primitive(c, native) {
                    Some((size, align, kind)) => (size, align, kind, count.unwrap_or(1)),
                    None if c.is_ascii_graphic() => {
                        return Err(format!(
                            "unknown type code {:?} at position {}",
                            c as char,
                            self.i - 1
                        ))
                    }
                    None => {
                        return Err(format!(
                            "byte 0x{c:02x} at position {} is not a type code",
                            self.i - 1
                        ))
                    }
                },
            };
            let mut name = String::new();
            if self.peek() == Some(b':') {
                self.i += 1;
                let from = self.i;
                while self.peek().is_some_and(|c| c != b':') {
                    self.i += 1;
                }
                if self.peek() != Some(b':') {
                    return Err(self.err("unterminated :name:"));
                }
                name = String::from_utf8_lossy(&self.s[from..self.i]).into_owned();
                self.i += 1;
            }
            let n = repeat
                .checked_mul(dims)
                .ok_or_else(|| self.err("item too large"))?;
            let step = if self.order == b'@' {
                round_up(size, align)
            } else {
                size
            };
            if self.order == b'@' {
                offset = round_up(offset, align);
                common = lcm(common, align);
            }
            let path = match (prefix.is_empty(), name.is_empty()) {
                (_, true) => prefix.to_string(),
                (true, false) => name.clone(),
                (false, false) => format!("{prefix}.{name}"),
            };
            let big = self.big();
            if kind == 'T' {
                let inner: Vec<Field> = out.drain(start..).collect();
                for k in 0..n.min(1 << 16) {
                    for f in &inner {
                        let name = match (path.is_empty(), f.name.is_empty()) {
                            (true, _) => f.name.clone(),
                            (false, true) => path.clone(),
                            (false, false) => format!("{path}.{}", f.name),
                        };
                        out.push(Field {
                            offset: base + offset + k * step + f.offset,
                            name,
                            ..f.clone()
                        });
                    }
                }
            } else if kind != 'x' {
                for k in 0..n.min(1 << 16) {
                    out.push(Field {
                        offset: base + offset + k * step,
                        kind,
                        size,
                        big,
                        name: path.clone(),
                    });
                }
            }
            offset = step
                .checked_mul(n)
                .and_then(|b| offset.checked_add(b))
                .ok_or_else(|| self.err("item too large"))?;
            any = true;
        }
        if nested && !any {
            return Err(self.err("empty T{}"));
        }
        if nested && self.order == b'@' {
            offset = round_up(offset, common);
        }
        Ok((offset, common))
    }
}

/// Parses `fmt`; `Err` says why it is not a format.
pub(crate) fn parse(fmt: &str) -> Result<Parsed, String> {
    let mut p = Parser {
        s: fmt.as_bytes(),
        i: 0,
        order: b'@',
    };
    let mut fields = Vec::new();
    let (itemsize, _) = p.items(false, 0, "", &mut fields)?;
    Ok(Parsed { itemsize, fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(f: &str) -> usize {
        parse(f).unwrap_or_else(|e| panic!("{f}: {e}")).itemsize
    }

    #[test]
    fn sizes_agree_with_struct_and_numpy() {
        // struct.calcsize for these (CPython 3.11, x86_64 Linux).
        for (f, n) in [
            ("i", 4),
            ("<i", 4),
            ("3i", 12),
            ("bi", 8),
            ("=bi", 5),
            ("^bi", 5),
            ("?", 1),
            ("10s", 10),
            ("e", 2),
            ("q", 8),
            ("dB", 9),
            ("2x", 2),
        ] {
            assert_eq!(size(f), n, "{f}");
        }
        // numpy's dtype(...).itemsize for these (np.dtype from memoryview/asarray).
        assert_eq!(size("T{i:a:}"), 4);
        assert_eq!(size("T{d:a:B:b:}"), 16); // a T{} ends padded to its alignment
        assert_eq!(size("T{f:x:f:y:f:z:4xd:mass:I:id:4x}"), 32);
        assert_eq!(size("Zd"), 16);
        assert_eq!(size("Zf"), 8);
        assert_eq!(size("(2,3)f"), 24);
        assert_eq!(size("T{<i:a:>d:b:}"), 12); // byte order without '@': no alignment
        assert_eq!(size("2T{d:a:B:b:}"), 32);
        assert_eq!(size("T{=B:a:T{@d:b:}:c:}"), 16); // '@' inside: sticky from there on
    }

    #[test]
    fn not_formats_are_refused() {
        for f in [
            "!!not a format",
            "T{i:a:",
            "T{}",
            "}",
            "i:a",
            "(2i",
            "Zq",
            "y",
            "i\u{1}",
        ] {
            assert!(parse(f).is_err(), "{f:?} parsed");
        }
    }

    #[test]
    fn equivalent_formats_have_the_same_layout() {
        let l = |f: &str| parse(f).unwrap().layout();
        assert_eq!(l("2i"), l("ii"));
        assert_eq!(l("(2)i"), l("ii"));
        if !NATIVE_BIG {
            assert_eq!(l("i"), l("<i"));
            assert_ne!(l("i"), l(">i"));
        }
        assert_ne!(l("i"), l("f"));
        assert_ne!(l("i"), l("I"));
        assert_eq!(l("T{i:a:}"), l("i"));
        let p = parse("T{B:a:3xi:b:}").unwrap();
        assert_eq!(
            p.padding_mask(),
            vec![false, true, true, true, false, false, false, false]
        );
    }
}
