//! Request-flag decoding and layout arithmetic (`buffer_runtime::flags::Request`,
//! `buffer_runtime::layout`) against independent models: exact integer arithmetic in `i128`,
//! and, for small shapes, brute force over every index.
//!
//! Invariants:
//! - `Request` answers exactly CPython's `(flags & X) == X` for every compound bit, the bits
//!   nest (C/F/ANY contiguity ⇒ STRIDES ⇒ ND), and `Display` names what was asked;
//! - `element_count`, `byte_extent` agree with exact arithmetic, `None` exactly on overflow;
//! - `check_bounds` accepts exactly the layouts whose every element's byte range lies inside
//!   the storage (brute force), and its refusals are not spurious;
//! - `is_c_contiguous` / `is_f_contiguous` agree with the definition "element `i` sits at
//!   `i * itemsize` in C (F) index order";
//! - `contiguous_strides` gives contiguous strides (brute force), never negative ones (issue 12,
//!   finding 5: zero-size layouts got wrapped strides), and `is_single_axis` says when the
//!   strides of one order are also contiguous in the other.
#![no_main]

use buffer_runtime::flags::Request;
use buffer_runtime::layout::{self, LayoutError, Order, MAX_NDIM};
use libfuzzer_sys::fuzz_target;

#[path = "common/bytes.rs"]
mod bytes;
use bytes::Bytes;

/// Shapes with at most this many elements are also checked by brute force.
const BRUTE: u128 = 2048;

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes::new(data);
    check_request(b.flags());
    let ndim = match b.u8() {
        250..=255 => MAX_NDIM + 1,
        n => usize::from(n % 6),
    };
    let itemsize = b.itemsize();
    let shape: Vec<usize> = (0..ndim).map(|_| b.dim()).collect();
    let strides: Vec<isize> = (0..ndim).map(|_| b.stride(itemsize)).collect();
    let offset = b.offset();
    let storage = b.size();

    check_count(&shape);
    check_extent(&shape, &strides, itemsize);
    check_bounds(&shape, &strides, itemsize, offset, storage);
    check_contiguity(&shape, &strides, itemsize);
    check_contiguous_strides(&shape, itemsize);
});

fn check_request(flags: i32) {
    const WRITABLE: i32 = 0x1;
    const FORMAT: i32 = 0x4;
    const ND: i32 = 0x8;
    const STRIDES: i32 = 0x10 | ND;
    const C: i32 = 0x20 | STRIDES;
    const F: i32 = 0x40 | STRIDES;
    const ANY: i32 = 0x80 | STRIDES;
    let r = Request::new(flags);
    let has = |x: i32| flags & x == x;
    assert_eq!(r.raw(), flags);
    assert_eq!(r.writable(), has(WRITABLE), "{flags:#x}");
    assert_eq!(r.format(), has(FORMAT), "{flags:#x}");
    assert_eq!(r.nd(), has(ND), "{flags:#x}");
    assert_eq!(r.strides(), has(STRIDES), "{flags:#x}");
    assert_eq!(r.c_contiguous(), has(C), "{flags:#x}");
    assert_eq!(r.f_contiguous(), has(F), "{flags:#x}");
    assert_eq!(r.any_contiguous(), has(ANY), "{flags:#x}");
    // The bits nest.
    assert!(!(r.c_contiguous() || r.f_contiguous() || r.any_contiguous()) || r.strides());
    assert!(!r.strides() || r.nd());
    let text = r.to_string();
    assert!(text.starts_with("PyBUF_"), "{text}");
    assert_eq!(text.contains("PyBUF_WRITABLE"), r.writable(), "{text}");
    assert_eq!(text.contains("PyBUF_FORMAT"), r.format(), "{text}");
    assert_eq!(text.contains("PyBUF_C_CONTIGUOUS"), r.c_contiguous(), "{text}");
    assert_eq!(text.contains("PyBUF_F_CONTIGUOUS"), r.f_contiguous(), "{text}");
    assert_eq!(text.contains("PyBUF_ANY_CONTIGUOUS"), r.any_contiguous(), "{text}");
    assert_eq!(format!("{r:?}"), text);
}

/// The exact element count, or `None` when a dimension or the product exceeds `isize::MAX`
/// (a zero dimension makes the product 0 whatever the others are).
fn model_count(shape: &[usize]) -> Option<usize> {
    if shape.iter().any(|&d| d > isize::MAX as usize) {
        return None;
    }
    if shape.contains(&0) {
        return Some(0);
    }
    let mut n: u128 = 1;
    for &d in shape {
        n = n.checked_mul(d as u128)?;
        if n > isize::MAX as u128 {
            return None;
        }
    }
    Some(n as usize)
}

fn check_count(shape: &[usize]) {
    assert_eq!(layout::element_count(shape), model_count(shape), "element_count({shape:?})");
}

/// `[low, high)` touched relative to the first element, exactly; `None` when it does not fit
/// `isize`, or when a dimension does (such a shape is invalid whatever its strides).
fn model_extent(shape: &[usize], strides: &[isize], itemsize: usize) -> Option<(isize, isize)> {
    if shape.contains(&0) {
        return Some((0, 0));
    }
    if shape.iter().any(|&n| n - 1 > isize::MAX as usize) {
        return None;
    }
    let (mut low, mut high) = (0i128, 0i128);
    for (&n, &s) in shape.iter().zip(strides) {
        let reach = s as i128 * (n as i128 - 1);
        if reach < 0 {
            low = low.saturating_add(reach);
        } else {
            high = high.saturating_add(reach);
        }
    }
    high = high.saturating_add(itemsize as i128);
    let fits = |v: i128| v >= isize::MIN as i128 && v <= isize::MAX as i128;
    (fits(low) && fits(high)).then_some((low as isize, high as isize))
}

fn check_extent(shape: &[usize], strides: &[isize], itemsize: usize) {
    let got = layout::byte_extent(shape, strides, itemsize);
    let want = model_extent(shape, strides, itemsize);
    assert_eq!(got, want, "byte_extent({shape:?}, {strides:?}, {itemsize})");
}

/// Every index of a small shape, with its byte offset from the first element (exact).
fn each_offset(shape: &[usize], strides: &[isize], mut f: impl FnMut(&[usize], i128)) {
    let mut index = vec![0usize; shape.len()];
    if shape.contains(&0) {
        return;
    }
    loop {
        let off: i128 = index.iter().zip(strides).map(|(&i, &s)| i as i128 * s as i128).sum();
        f(&index, off);
        // Next index in C order.
        let mut k = shape.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            index[k] += 1;
            if index[k] < shape[k] {
                break;
            }
            index[k] = 0;
        }
    }
}

fn small(shape: &[usize]) -> Option<u128> {
    let n = model_count(shape)? as u128;
    (n <= BRUTE).then_some(n)
}

fn check_bounds(shape: &[usize], strides: &[isize], itemsize: usize, offset: isize, storage: usize) {
    let got = layout::check_bounds(shape, strides, itemsize, offset, storage);
    let what = || format!("check_bounds({shape:?}, {strides:?}, itemsize {itemsize}, offset {offset}, {storage} bytes) = {got:?}");
    // Model: accepted iff nothing is addressed, or every byte addressed is inside.
    let want_ok = match model_extent(shape, strides, itemsize) {
        None => false,
        Some((low, high)) if low == high => true,
        Some((low, high)) => {
            let (low, high) = (offset as i128 + low as i128, offset as i128 + high as i128);
            let fits = |v: i128| v >= isize::MIN as i128 && v <= isize::MAX as i128;
            fits(low) && fits(high) && low >= 0 && high <= storage as i128
        }
    };
    assert_eq!(got.is_ok(), want_ok, "{}", what());
    if let Err(LayoutError::OutOfBounds { low, high, storage_bytes }) = &got {
        assert_eq!(*storage_bytes, storage, "{}", what());
        assert!(*low < 0 || *high as i128 > storage as i128, "{}", what());
    }
    // Brute force: accepted ⇔ every element's bytes are inside. (Item size 0 never occurs in
    // an export: no element type is zero-sized.)
    if small(shape).is_some() && itemsize > 0 {
        let mut all_inside = true;
        each_offset(shape, strides, |_, off| {
            let start = offset as i128 + off;
            let end = start + itemsize as i128;
            if start < 0 || end > storage as i128 {
                all_inside = false;
            }
        });
        if got.is_ok() {
            assert!(all_inside, "accepted, but an element lies outside: {}", what());
        } else if !matches!(got, Err(LayoutError::Overflow)) {
            assert!(!all_inside, "refused, but every element lies inside: {}", what());
        }
    }
}

/// C (or F) contiguity by definition: the element with C-order (F-order) position `p` sits at
/// byte `p * itemsize`.
fn brute_contiguous(shape: &[usize], strides: &[isize], itemsize: usize, order: Order) -> bool {
    let mut ok = true;
    each_offset(shape, strides, |index, off| {
        let mut pos: i128 = 0;
        let dims: Vec<usize> = match order {
            Order::C => (0..shape.len()).collect(),
            Order::F => (0..shape.len()).rev().collect(),
        };
        for k in dims {
            pos = pos * shape[k] as i128 + index[k] as i128;
        }
        ok &= off == pos * itemsize as i128;
    });
    ok
}

fn check_contiguity(shape: &[usize], strides: &[isize], itemsize: usize) {
    if small(shape).is_none() {
        return;
    }
    for order in [Order::C, Order::F] {
        let got = match order {
            Order::C => layout::is_c_contiguous(shape, strides, itemsize),
            Order::F => layout::is_f_contiguous(shape, strides, itemsize),
        };
        let want = brute_contiguous(shape, strides, itemsize, order);
        assert_eq!(got, want, "{order:?}-contiguous({shape:?}, {strides:?}, {itemsize})");
    }
}

fn check_contiguous_strides(shape: &[usize], itemsize: usize) {
    let Some(count) = model_count(shape) else { return };
    if itemsize > isize::MAX as usize || (count as u128) * (itemsize as u128) > isize::MAX as u128 {
        return; // an export refuses such a layout before it computes strides
    }
    for order in [Order::C, Order::F] {
        let mut out = vec![0isize; shape.len()];
        layout::contiguous_strides(shape, itemsize, order, &mut out);
        let what = format!("contiguous_strides({shape:?}, {itemsize}, {order:?}) = {out:?}");
        // The exact stride of dim i: itemsize times the dims inside it.
        for (i, &got) in out.iter().enumerate() {
            let inner: Vec<usize> = match order {
                Order::C => (i + 1..shape.len()).collect(),
                Order::F => (0..i).collect(),
            };
            let exact = inner.iter().try_fold(itemsize as u128, |acc, &k| acc.checked_mul(shape[k] as u128));
            match exact {
                Some(e) if e <= isize::MAX as u128 => assert_eq!(got as u128, e, "{what}"),
                _ => assert!(got >= 0, "a contiguous layout got a negative stride: {what}"),
            }
        }
        if small(shape).is_some() {
            assert!(brute_contiguous(shape, &out, itemsize, order), "not contiguous: {what}");
        }
        if itemsize > 0 {
            let other = match order {
                Order::C => layout::is_f_contiguous(shape, &out, itemsize),
                Order::F => layout::is_c_contiguous(shape, &out, itemsize),
            };
            assert_eq!(other, layout::is_single_axis(shape), "{what}");
        }
    }
}
