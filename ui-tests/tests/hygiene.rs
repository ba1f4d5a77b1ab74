//! `buffer-hygiene` builds with `#![no_implicit_prelude]` and a renamed runtime; this checks
//! that what it derives is the real trait.

fn exports<T: buffer_runtime::PyBuffer>() {}

#[test]
fn hygiene_crate_derives_the_runtime_trait() {
    exports::<buffer_hygiene::Grid>();
    exports::<buffer_hygiene::Strided>();
    exports::<buffer_hygiene::Shared>();
}
