//! Memory measures for the conformance kit: bytes in use (to find memory leaked per export) and a
//! heap spray (so that a table freed while a view still points to it gets overwritten).

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{c_char, c_void};

use pyo3::ffi;
use pyo3::prelude::*;

/// Bytes in use, by every measure this machine offers.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Usage {
    /// C `malloc` (glibc `mallinfo2`: `uordblks + hblkhd`), which Rust's allocator and C
    /// extensions use.
    pub malloc: Option<usize>,
    /// Python's allocators (`PyMem_*`, `PyObject_*`, pymalloc), as `tracemalloc` counts them,
    /// when the caller already traces. The kit never starts or stops `tracemalloc`: that swaps
    /// the process-wide allocator hooks under every other thread, and `tracemalloc.stop()` while
    /// another thread is inside the raw-memory hook (say creating its thread state in
    /// `PyGILState_Ensure`, waiting for the GIL) makes that thread write through the freed
    /// traceback buffer (NULL): a segfault in CPython before 3.12.9 / 3.13.2 (gh-128679).
    pub traced: Option<usize>,
    /// Blocks allocated by pymalloc (`sys.getallocatedblocks()`): Python-side allocations of
    /// up to 512 bytes, which `mallinfo2` does not see.
    pub blocks: Option<isize>,
    /// Resident set size, a coarse fallback.
    pub rss: Option<usize>,
}

#[repr(C)]
#[derive(Default)]
struct Mallinfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn malloc_in_use() -> Option<usize> {
    extern "C" {
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    }
    // Looked up at run time: `mallinfo2` exists from glibc 2.33 on. RTLD_DEFAULT is NULL.
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only looks the symbol up.
    let f = unsafe { dlsym(std::ptr::null_mut(), c"mallinfo2".as_ptr()) };
    if f.is_null() {
        return None;
    }
    // SAFETY: glibc's `struct mallinfo2 mallinfo2(void)`, ten `size_t`s, as declared above.
    let f: extern "C" fn() -> Mallinfo2 = unsafe { std::mem::transmute(f) };
    let m = f();
    Some(m.uordblks + m.hblkhd)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn malloc_in_use() -> Option<usize> {
    let _ = Mallinfo2::default();
    None
}

fn rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Reads the measures; `tracemalloc` only if the caller is already tracing.
pub(crate) struct Meter<'py> {
    tracemalloc: Option<Bound<'py, PyAny>>,
    sys: Option<Bound<'py, PyAny>>,
}

impl<'py> Meter<'py> {
    pub fn start(py: Python<'py>) -> Self {
        let tracemalloc = py
            .import("tracemalloc")
            .ok()
            .map(|m| m.into_any())
            .filter(|t| {
                t.call_method0("is_tracing")
                    .and_then(|r| r.extract::<bool>())
                    .unwrap_or(false)
            });
        let sys = py.import("sys").ok().map(|m| m.into_any());
        Meter { tracemalloc, sys }
    }

    pub fn usage(&self) -> Usage {
        let traced = self.tracemalloc.as_ref().and_then(|t| {
            t.call_method0("get_traced_memory")
                .ok()?
                .get_item(0)
                .ok()?
                .extract::<usize>()
                .ok()
        });
        let blocks = self.sys.as_ref().and_then(|s| {
            s.call_method0("getallocatedblocks")
                .ok()?
                .extract::<isize>()
                .ok()
        });
        Usage {
            malloc: malloc_in_use(),
            traced,
            blocks,
            rss: rss(),
        }
    }
}

/// Many small blocks from both C `malloc` and Python's allocator, filled with `0xA5`, held until
/// dropped: memory freed just before is handed out again and overwritten.
pub(crate) struct Spray {
    raw: Vec<(*mut c_void, usize)>,
    pymem: Vec<*mut c_void>,
}

fn alloc_layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("small sizes")
}

impl Spray {
    pub fn new(_py: Python<'_>) -> Self {
        let mut raw = Vec::new();
        let mut pymem = Vec::new();
        for size in (8..=512).step_by(8) {
            for _ in 0..8 {
                // C malloc (the system allocator; `PyMem_RawMalloc` is not in the limited API).
                // SAFETY: the layout has a non-zero size (8 to 512 bytes).
                let r = unsafe { System.alloc(alloc_layout(size)) };
                if !r.is_null() {
                    // SAFETY: a fresh allocation of `size` bytes, ours alone.
                    unsafe { r.write_bytes(0xA5, size) };
                    raw.push((r.cast(), size));
                }
                // SAFETY: the GIL is held (`_py`), which `PyMem_Malloc` needs.
                let p = unsafe { ffi::PyMem_Malloc(size) };
                if !p.is_null() {
                    // SAFETY: a fresh allocation of `size` bytes, ours alone.
                    unsafe { p.cast::<u8>().write_bytes(0xA5, size) };
                    pymem.push(p);
                }
            }
        }
        Spray { raw, pymem }
    }
}

impl Drop for Spray {
    fn drop(&mut self) {
        for &(p, size) in &self.raw {
            // SAFETY: `p` came from `System.alloc` with this very layout and is freed once.
            unsafe { System.dealloc(p.cast(), alloc_layout(size)) };
        }
        for &p in &self.pymem {
            // SAFETY: `p` came from `PyMem_Malloc` and is freed once; the GIL is still held (a
            // `Spray` lives inside one kit call).
            unsafe { ffi::PyMem_Free(p) };
        }
    }
}
