//! Compile-time diagnostics of `#[derive(PyBuffer)]`, `#[derive(Element)]` and
//! `#[buffer_methods]`.
//!
//! One case per diagnostic in `tests/fail/` with the expected compiler output beside it, and
//! tricky-but-valid inputs in `tests/pass/`. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p ui-tests` (they depend on the toolchain: rustc 1.95).
//! One test function, so trybuild builds every case in one batch.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/fail/*.rs");
    t.pass("tests/pass/*.rs");
}
