//! The unsafe core of the consumer side: copying elements between memory that an exporter owns
//! (and that another view, Python code or another thread may write at any time) and memory Rust
//! owns.
//!
//! Rust never forms a `&T` / `&mut T` / `&[T]` into exported memory. Every access is a
//! byte-wise atomic copy (the P1478 / RFC 3301 semantics, relaxed: 8-byte atomic words plus
//! edge bytes for runs, `atomic-memcpy` for single aligned elements) into or out of a local
//! value; the shared storage (`SharedVec`, `SharedArray`) copies its elements the same way: a concurrent writer can make a read see old, new or mixed bytes, but
//! never undefined behaviour on our side, and the compiler can neither elide nor repeat the
//! access. A value read from exported memory becomes a `T` through [`Element::load`], which
//! accepts any bytes (a `bool` byte is normalised). Values written out have their padding
//! zeroed first, so no uninitialised byte is copied. On x86-64 and aarch64 the copies compile
//! to ordinary loads and stores of up to 8 bytes; rows are copied in runs, so the arithmetic
//! on the local copy vectorizes.

use std::mem::{size_of, MaybeUninit};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicU8};

use atomic_memcpy::{atomic_load, atomic_store};

use crate::element::Element;

/// Copies `n` bytes from `src` (exported memory) to `dst` (private memory).
///
/// # Safety
/// `src` is valid for reads of `n` bytes (others may write them concurrently); `dst` is valid
/// for writes of `n` bytes and does not overlap `src`.
#[inline]
pub(crate) unsafe fn load_bytes(src: *const u8, dst: *mut u8, n: usize) {
    let mut i = 0;
    // Head bytes until `src + i` is 8-aligned, then 8-byte words, then the tail.
    while i < n && !(src as usize + i).is_multiple_of(8) {
        // SAFETY: byte `i` is inside `src` and `dst` (contract).
        unsafe { load_byte(src, dst, i) };
        i += 1;
    }
    while i + 8 <= n {
        // SAFETY: byte `i` is inside `src` (contract).
        let s = unsafe { src.add(i) };
        // SAFETY: `s` is 8-aligned (the head loop) and the word is inside `src`, read atomically.
        let w = unsafe { &*s.cast::<AtomicU64>() }.load(Relaxed);
        // SAFETY: byte `i` is inside `dst` (contract).
        let d = unsafe { dst.add(i) };
        // SAFETY: `d` is valid for 8 bytes of writes (contract); unaligned write.
        unsafe { d.cast::<u64>().write_unaligned(w) };
        i += 8;
    }
    while i < n {
        // SAFETY: as for the head.
        unsafe { load_byte(src, dst, i) };
        i += 1;
    }
}

/// Copies byte `i` of `src` (read atomically) to byte `i` of `dst`.
///
/// # Safety
/// Byte `i` is inside `src` (valid for reads) and inside `dst` (valid for writes).
#[inline(always)]
unsafe fn load_byte(src: *const u8, dst: *mut u8, i: usize) {
    // SAFETY: byte `i` is inside `src` (contract).
    let s = unsafe { src.add(i) };
    // SAFETY: `s` is valid for reads; any address is aligned for `u8`.
    let b = unsafe { &*s.cast::<AtomicU8>() }.load(Relaxed);
    // SAFETY: byte `i` is inside `dst` (contract).
    let d = unsafe { dst.add(i) };
    // SAFETY: `d` is valid for writes (contract).
    unsafe { d.write(b) };
}

/// Copies `n` initialised bytes from `src` (private memory) to `dst` (exported memory).
///
/// # Safety
/// `dst` is valid for writes of `n` bytes (others may access them concurrently); `src` is valid
/// for reads of `n` initialised bytes and does not overlap `dst`.
#[inline]
pub(crate) unsafe fn store_bytes(src: *const u8, dst: *mut u8, n: usize) {
    let mut i = 0;
    while i < n && !(dst as usize + i).is_multiple_of(8) {
        // SAFETY: byte `i` is inside `src` and `dst` (contract).
        unsafe { store_byte(src, dst, i) };
        i += 1;
    }
    while i + 8 <= n {
        // SAFETY: byte `i` is inside `src` (contract).
        let s = unsafe { src.add(i) };
        // SAFETY: `s` holds 8 initialised bytes (contract); unaligned read.
        let w = unsafe { s.cast::<u64>().read_unaligned() };
        // SAFETY: byte `i` is inside `dst` (contract).
        let d = unsafe { dst.add(i) };
        // SAFETY: `d` is 8-aligned (the head loop) and the word is inside `dst`, written
        // atomically.
        unsafe { &*d.cast::<AtomicU64>() }.store(w, Relaxed);
        i += 8;
    }
    while i < n {
        // SAFETY: as for the head.
        unsafe { store_byte(src, dst, i) };
        i += 1;
    }
}

/// Copies byte `i` of `src` to byte `i` of `dst` (written atomically).
///
/// # Safety
/// Byte `i` is inside `src` (valid for reads, initialised) and inside `dst` (valid for writes).
#[inline(always)]
unsafe fn store_byte(src: *const u8, dst: *mut u8, i: usize) {
    // SAFETY: byte `i` is inside `src` (contract).
    let s = unsafe { src.add(i) };
    // SAFETY: `s` is valid for reads of an initialised byte (contract).
    let b = unsafe { s.read() };
    // SAFETY: byte `i` is inside `dst` (contract).
    let d = unsafe { dst.add(i) };
    // SAFETY: `d` is valid for writes; any address is aligned for `u8`.
    unsafe { &*d.cast::<AtomicU8>() }.store(b, Relaxed);
}

/// Reads the element at `p`.
///
/// # Safety
/// `p` is valid for reads of `size_of::<T>()` bytes; if `aligned`, `p` is aligned for `T`.
#[inline(always)]
pub(crate) unsafe fn load<T: Element>(p: *const u8, aligned: bool) -> T {
    let raw: MaybeUninit<T> = if aligned {
        // SAFETY: `p` is valid and aligned for `T` (contract).
        unsafe { atomic_load(p.cast::<T>(), Relaxed) }
    } else {
        let mut raw = MaybeUninit::<T>::uninit();
        // SAFETY: `raw` is a private `T`-sized buffer; `p` is valid (contract).
        unsafe { load_bytes(p, raw.as_mut_ptr().cast(), size_of::<T>()) };
        raw
    };
    // SAFETY: `raw` is a local, aligned `T`-sized value holding the bytes read; `load` accepts
    // any bytes (the `Element` contract).
    unsafe { T::load(raw.as_ptr()) }
}

/// Writes `value` at `p`.
///
/// # Safety
/// `p` is valid for writes of `size_of::<T>()` bytes; if `aligned`, `p` is aligned for `T`.
#[inline(always)]
pub(crate) unsafe fn store<T: Element>(p: *mut u8, value: T, aligned: bool) {
    let mut raw = MaybeUninit::new(value);
    // SAFETY: `raw` is a local `T`; zeroing its padding makes every byte initialised.
    unsafe { T::clear_padding(raw.as_mut_ptr()) };
    if aligned {
        // SAFETY: `p` is valid and aligned for `T` (contract).
        unsafe { atomic_store(p.cast::<MaybeUninit<T>>(), raw, Relaxed) };
    } else {
        // SAFETY: `raw` holds `size_of::<T>()` initialised bytes; `p` is valid (contract).
        unsafe { store_bytes(raw.as_ptr().cast(), p, size_of::<T>()) };
    }
}

/// Copies `dst.len()` consecutive elements starting at `src` into `dst`, initialising every
/// slot (the slots start uninitialised: no `&mut T` is formed over them before that).
///
/// # Safety
/// `src` is valid for reads of `dst.len() * size_of::<T>()` bytes; if `aligned`, `src` is
/// aligned for `T`.
#[inline]
pub(crate) unsafe fn load_run<T: Element>(
    src: *const u8,
    dst: &mut [MaybeUninit<T>],
    aligned: bool,
) {
    if T::ANY_BITS {
        // SAFETY: `dst` is private and every byte pattern is a valid `T`, so its slots may
        // receive the bytes directly; `src` is valid (contract).
        unsafe { load_bytes(src, dst.as_mut_ptr().cast(), std::mem::size_of_val(dst)) };
    } else {
        for (i, slot) in dst.iter_mut().enumerate() {
            // SAFETY: element `i` of the run is inside `src` (contract).
            let p = unsafe { src.add(i * size_of::<T>()) };
            // SAFETY: `p` is valid for reads, aligned if `aligned` (contract).
            slot.write(unsafe { load(p, aligned) });
        }
    }
}

/// Copies `src` to the `src.len()` consecutive elements starting at `dst`.
///
/// # Safety
/// `dst` is valid for writes of `src.len() * size_of::<T>()` bytes.
#[inline]
pub(crate) unsafe fn store_run<T: Element>(src: &[T], dst: *mut u8) {
    if T::HAS_PADDING {
        for (i, &v) in src.iter().enumerate() {
            // SAFETY: element `i` of the run is inside `dst` (contract).
            let p = unsafe { dst.add(i * size_of::<T>()) };
            // SAFETY: `p` is valid for writes (contract); alignment is not assumed.
            unsafe { store(p, v, false) };
        }
    } else {
        // SAFETY: a `T` without padding is initialised bytes; `dst` is valid (contract).
        unsafe { store_bytes(src.as_ptr().cast(), dst, std::mem::size_of_val(src)) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_copies_round_trip_at_every_length_and_offset() {
        let src: Vec<u8> = (0..=255).cycle().take(700).collect();
        for offset in [0, 1, 3, 7] {
            for n in [0, 1, 2, 3, 63, 64, 65, 200, 600] {
                let mut dst = vec![0u8; n];
                // SAFETY: both ranges are inside their vectors.
                unsafe { load_bytes(src.as_ptr().wrapping_add(offset), dst.as_mut_ptr(), n) };
                assert_eq!(dst, src[offset..offset + n]);
                let mut back = vec![0u8; n + offset];
                // SAFETY: as above.
                unsafe { store_bytes(dst.as_ptr(), back.as_mut_ptr().wrapping_add(offset), n) };
                assert_eq!(back[offset..], src[offset..offset + n]);
            }
        }
    }
}
