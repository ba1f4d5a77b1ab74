//! The record-format builder (`__private::format_string`, `has_padding`, `clear_gaps`: what
//! `#[derive(Element)]` calls at compile time) over fuzzed records, checked by numpy's own
//! PEP 3118 parser.
//!
//! The fuzzer describes a struct the way rustc would lay it out: fields of scalar types
//! (native, `Le<T>`, `Be<T>`), fixed-size arrays of them, or nested records, in a `repr(C)`,
//! `repr(C, packed(N))` or `repr(C, align(N))` struct, with names or as a tuple struct. The
//! offsets, sizes and alignments are computed as rustc does, then:
//! - the builder does not panic, `format_len` is the string's length plus the NUL, the format
//!   is ASCII-or-UTF-8 with balanced braces;
//! - `has_padding` is true exactly when some byte belongs to no field (or a field has padding
//!   of its own), and `clear_gaps` zeroes exactly the bytes outside every field;
//! - numpy (`numpy._core._internal._dtype_from_pep3118`, what `np.asarray` uses) reads the
//!   format as a dtype with the struct's itemsize, the field names (`f0`, `f1`... for a tuple
//!   struct), offsets, subarray shapes, and each scalar's kind, size and byte order.
#![no_main]

use std::ffi::{CStr, CString};

use buffer_runtime::__private::{clear_gaps, format_len, format_string, has_padding, Field};
use buffer_runtime::ArrayDims;
use libfuzzer_sys::fuzz_target;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyTuple};

#[path = "common/bytes.rs"]
mod bytes;
use bytes::Bytes;

#[derive(Clone, Copy, Debug, PartialEq)]
enum ByteOrder {
    Native,
    Little,
    Big,
}

/// A scalar element: its format, size, alignment, numpy kind and byte order.
#[derive(Clone, Copy, Debug)]
struct Scalar {
    format: &'static CStr,
    size: usize,
    align: usize,
    kind: char,
    order: ByteOrder,
}

const fn s(format: &'static CStr, size: usize, align: usize, kind: char, order: ByteOrder) -> Scalar {
    Scalar { format, size, align, kind, order }
}

use ByteOrder::{Big as B, Little as L, Native as N};

/// The element types of `docs/elements.md` (their `FORMAT`, `size_of`, `align_of`).
const SCALARS: &[Scalar] = &[
    s(c"b", 1, 1, 'i', N),
    s(c"B", 1, 1, 'u', N),
    s(c"?", 1, 1, 'b', N),
    s(c"h", 2, 2, 'i', N),
    s(c"H", 2, 2, 'u', N),
    s(c"i", 4, 4, 'i', N),
    s(c"I", 4, 4, 'u', N),
    s(c"q", 8, 8, 'i', N),
    s(c"Q", 8, 8, 'u', N),
    s(c"n", 8, 8, 'i', N),
    s(c"N", 8, 8, 'u', N),
    s(c"e", 2, 2, 'f', N),
    s(c"f", 4, 4, 'f', N),
    s(c"d", 8, 8, 'f', N),
    s(c"Zf", 8, 4, 'c', N),
    s(c"Zd", 16, 8, 'c', N),
    // Le<T> / Be<T>: stored as bytes, alignment 1.
    s(c"<h", 2, 1, 'i', L),
    s(c">h", 2, 1, 'i', B),
    s(c"<H", 2, 1, 'u', L),
    s(c">H", 2, 1, 'u', B),
    s(c"<i", 4, 1, 'i', L),
    s(c">i", 4, 1, 'i', B),
    s(c"<I", 4, 1, 'u', L),
    s(c">I", 4, 1, 'u', B),
    s(c"<q", 8, 1, 'i', L),
    s(c">q", 8, 1, 'i', B),
    s(c"<Q", 8, 1, 'u', L),
    s(c">Q", 8, 1, 'u', B),
    s(c"<e", 2, 1, 'f', L),
    s(c">e", 2, 1, 'f', B),
    s(c"<f", 4, 1, 'f', L),
    s(c">f", 4, 1, 'f', B),
    s(c"<d", 8, 1, 'f', L),
    s(c">d", 8, 1, 'f', B),
];

const NAMES: &[&str] = &["a", "b", "c", "x", "y", "z", "mass", "id", "n", "nN", "f0", "f1", "type", "é", "q_", "T"];

/// One field of a generated record.
struct Spec {
    name: &'static str,
    offset: usize,
    size: usize,
    align: usize,
    leaf: Leaf,
    dims: ArrayDims,
    padding: bool,
}

enum Leaf {
    Scalar(Scalar),
    /// Index into `Record::nested`.
    Record(usize),
}

/// A generated record: its fields, the format the builder made of them, and its layout.
struct Record {
    nested: Vec<Record>,
    specs: Vec<Spec>,
    format: CString,
    size: usize,
    align: usize,
    padded: bool,
}

/// The fields as the derive describes them (`Field::new::<F>(name, offset_of!(..))`).
fn fields_of<'a>(nested: &'a [Record], specs: &[Spec]) -> Vec<Field<'a>> {
    specs
        .iter()
        .map(|s| Field {
            name: s.name,
            offset: s.offset,
            size: s.size,
            align: s.align,
            format: match s.leaf {
                Leaf::Scalar(sc) => sc.format,
                Leaf::Record(i) => nested[i].format.as_c_str(),
            },
            dims: s.dims,
            padding: s.padding,
        })
        .collect()
}

impl Record {
    fn fields(&self) -> Vec<Field<'_>> {
        fields_of(&self.nested, &self.specs)
    }
}

fn round_up(n: usize, a: usize) -> usize {
    n.div_ceil(a) * a
}

/// A record of 1..=6 fields, nested up to `depth` levels, laid out as rustc lays out the
/// struct. `None` for a zero-sized struct (a compile error in the derive).
fn gen_record(b: &mut Bytes<'_>, depth: u32) -> Option<Record> {
    let nfields = 1 + usize::from(b.u8() % 6);
    let named = !b.u8().is_multiple_of(4);
    // Layout: 0 repr(C), 1 packed, 2 packed(2), 3 packed(4), 4 align(8), 5 align(16).
    let repr = b.u8() % 6;
    let mut nested = Vec::new();
    let mut specs = Vec::new();
    let mut used = Vec::new();
    let mut end = 0usize;
    let mut max_align = 1usize;
    for _ in 0..nfields {
        let (leaf, esize, ealign, epadded) = if depth > 0 && b.u8().is_multiple_of(5) {
            let r = gen_record(b, depth - 1)?;
            let facts = (r.size, r.align, r.padded);
            nested.push(r);
            (Leaf::Record(nested.len() - 1), facts.0, facts.1, facts.2)
        } else {
            let sc = SCALARS[usize::from(b.u8()) % SCALARS.len()];
            (Leaf::Scalar(sc), sc.size, sc.align, false)
        };
        // Array dims: none mostly, else 1 or 2 dims of 0..=3 (outermost first).
        let mut dims = ArrayDims::SCALAR;
        let mut count = 1;
        if b.u8().is_multiple_of(4) {
            let nd = 1 + b.u8() % 2;
            let ds: Vec<usize> = (0..nd).map(|_| usize::from(b.u8() % 4)).collect();
            for &d in ds.iter().rev() {
                dims = ArrayDims::outer(d, dims);
                count *= d;
            }
        }
        let size = esize * count;
        let eff_align = match repr {
            1 => 1,
            2 => ealign.min(2),
            3 => ealign.min(4),
            _ => ealign,
        };
        let offset = round_up(end, eff_align);
        end = offset + size;
        max_align = max_align.max(eff_align);
        let name = if named {
            let mut k = usize::from(b.u8()) % NAMES.len();
            while used.contains(&k) {
                k = (k + 1) % NAMES.len();
            }
            used.push(k);
            NAMES[k]
        } else {
            ""
        };
        // `Field::new::<[S; N]>` reports the alignment of `S` and the padding of its element.
        specs.push(Spec { name, offset, size, align: ealign, leaf, dims, padding: epadded });
    }
    let align = match repr {
        4 => max_align.max(8),
        5 => max_align.max(16),
        _ => max_align,
    };
    let size = round_up(end, align);
    if size == 0 {
        return None;
    }
    let fields = fields_of(&nested, &specs);
    let text = format_string(&fields, size, align);
    assert_eq!(format_len(&fields, size, align), text.len() + 1, "format_len of {text}");
    let padded = has_padding(&fields, size);
    drop(fields);
    let format = CString::new(text.clone()).unwrap_or_else(|_| panic!("a NUL inside the format {text:?}"));
    Some(Record { nested, specs, format, size, align, padded })
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes::new(data);
    let Some(r) = gen_record(&mut b, 2) else { return };
    let text = r.format.to_str().expect("the format is UTF-8");
    check_rust(&r, text);
    Python::attach(|py| check_numpy(py, &r, text));
});

fn check_rust(r: &Record, text: &str) {
    assert!(text.starts_with("T{") && text.ends_with('}'), "{text}");
    let mut depth = 0i32;
    let mut in_name = false;
    for c in text.chars() {
        match c {
            ':' => in_name = !in_name,
            '{' if !in_name => depth += 1,
            '}' if !in_name => {
                depth -= 1;
                assert!(depth >= 0, "unbalanced braces in {text}");
            }
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced braces in {text}");
    assert!(!in_name, "unterminated name in {text}");

    // Padding: bytes outside every field, or fields with padding of their own.
    let mut covered = vec![false; r.size];
    let fields = r.fields();
    for f in &fields {
        covered[f.offset..f.offset + f.size].iter_mut().for_each(|c| *c = true);
    }
    let gaps = covered.iter().any(|&c| !c);
    let want = gaps || fields.iter().any(|f| f.padding);
    assert_eq!(r.padded, want, "has_padding of {text}");
    let mut bytes = vec![0xAAu8; r.size];
    // SAFETY: `bytes` holds `size` bytes; the fields are in declaration order.
    unsafe { clear_gaps(bytes.as_mut_ptr(), &fields, r.size) };
    for (i, (&byte, &c)) in bytes.iter().zip(&covered).enumerate() {
        assert_eq!(byte == 0, !c, "clear_gaps: byte {i} of {text} ({} a field's)", if c { "is" } else { "is not" });
    }
    let _ = r.align;
}

const CHECKER: &CStr = cr#"
try:
    from numpy._core._internal import _dtype_from_pep3118
except ImportError:
    from numpy.core._internal import _dtype_from_pep3118

def check(fmt, exp):
    try:
        dt = _dtype_from_pep3118(fmt)
    except Exception as e:
        return f"numpy cannot read {fmt!r}: {type(e).__name__}: {e}"
    return record(dt, exp, fmt, top=True)

def record(dt, exp, where, top=False):
    size, fields = exp
    if dt.itemsize != size:
        return f"{where}: numpy itemsize {dt.itemsize}, struct size {size} (dtype {dt})"
    if dt.names is None:
        # numpy unwraps a top-level record of one unnamed field that fills it.
        name, offset, dims, leaf = fields[0]
        if not (top and len(fields) == 1 and name is None and offset == 0):
            return f"{where}: numpy read a plain {dt}, expected a record"
        return field(dt, dims, leaf, where)
    if len(dt.names) != len(fields):
        return f"{where}: numpy fields {dt.names}, expected {len(fields)}"
    for i, (got, (name, offset, dims, leaf)) in enumerate(zip(dt.names, fields)):
        want = name if name is not None else f"f{i}"
        if got != want:
            return f"{where}: field {i} named {got!r} by numpy, {want!r} in Rust"
        fdt, off = dt.fields[got][:2]
        if off != offset:
            return f"{where}: field {got!r} at offset {off} for numpy, {offset} in Rust"
        err = field(fdt, dims, leaf, f"{where}.{got}")
        if err:
            return err
    return None

def field(fdt, dims, leaf, where):
    if tuple(fdt.shape) != tuple(dims):
        return f"{where}: numpy shape {fdt.shape}, Rust dims {dims}"
    base = fdt.base if dims else fdt
    if leaf[0] == "r":
        return record(base, leaf[1], where)
    _, kind, size, order = leaf
    if base.kind != kind or base.itemsize != size:
        return f"{where}: numpy {base.str} (kind {base.kind}), Rust kind {kind} size {size}"
    if size > 1:
        bo = base.byteorder
        if order == "big" and bo != ">":
            return f"{where}: numpy byte order {bo!r} for a big-endian field ({base.str})"
        if order != "big" and bo not in "=<|":
            return f"{where}: numpy byte order {bo!r} for a native/little field ({base.str})"
    return None
"#;

fn expected<'py>(py: Python<'py>, r: &Record) -> PyResult<Bound<'py, PyTuple>> {
    let fields = PyList::empty(py);
    for (f, spec) in r.fields().iter().zip(&r.specs) {
        let leaf = &spec.leaf;
        let name = (!f.name.is_empty()).then_some(f.name);
        let dims = PyTuple::new(py, f.dims.as_slice())?;
        let leaf = match leaf {
            Leaf::Scalar(sc) => {
                let order = match sc.order {
                    ByteOrder::Big => "big",
                    ByteOrder::Little => "little",
                    ByteOrder::Native => "native",
                };
                ("s", sc.kind.to_string(), sc.size, order).into_pyobject(py)?.into_any()
            }
            Leaf::Record(i) => ("r", expected(py, &r.nested[*i])?).into_pyobject(py)?.into_any(),
        };
        fields.append((name, f.offset, dims, leaf))?;
    }
    (r.size, fields).into_pyobject(py)
}

fn check_numpy(py: Python<'_>, r: &Record, text: &str) {
    static CHECK: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let check = CHECK.get_or_init(py, || match PyModule::from_code(py, CHECKER, c"record_format_check.py", c"record_format_check") {
        Ok(m) => m.getattr("check").unwrap().unbind(),
        Err(e) => {
            eprintln!("record_format: numpy is not importable here ({e}); set PYTHONPATH to a site-packages with numpy");
            std::process::exit(3);
        }
    });
    let exp = expected(py, r).unwrap();
    let verdict = check.bind(py).call1((text, exp)).unwrap();
    if !verdict.is_none() {
        panic!("numpy disagrees with the record format {text:?}: {verdict}");
    }
}
