//! Compile-fail and compile-pass tests of the derive live in `tests/` (see README.md).
