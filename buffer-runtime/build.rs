//! Emits pyo3's cfgs (`Py_LIMITED_API`, `Py_3_11`, ...) for this crate, and refuses an abi3
//! build below Python 3.11 with one clear error: the buffer protocol (`Py_buffer`,
//! `bf_getbuffer`) is in the limited API only from 3.11 on, and without this check the user
//! would get a page of missing-symbol errors instead. (`lib.rs` repeats the check as a
//! `compile_error!` for builds that skip this script's error.)

use pyo3_build_config::PythonAbiKind;

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
    let abi = pyo3_build_config::get().target_abi();
    let version = abi.version();
    if matches!(abi.kind(), PythonAbiKind::Stable(_)) && (version.major, version.minor) < (3, 11) {
        println!(
            "cargo::error=buffer-runtime needs Python 3.11 or newer under abi3 (pyo3 targets \
             abi3-py{}{}): the buffer protocol is in the limited API only from 3.11 on. Enable \
             pyo3's `abi3-py311` (or newer) feature instead, or build without abi3.",
            version.major, version.minor
        );
    }
}
