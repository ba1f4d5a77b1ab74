// A hand-written `PyBuffer` impl cannot export storage that does not outlive the object's
// borrow: the exporter's lifetime is tied to `&self`, so this is a compile error, not a
// use-after-free (issue: `memoryview(Dangle())` read freed memory).
#![forbid(unsafe_code)]

use buffer_runtime::__private::{Exported, Exporter, Shape, Strides};
use buffer_runtime::{ExportError, Order, PyBuffer};
use pyo3::prelude::*;

#[pyclass]
struct Dangle;

impl PyBuffer for Dangle {
    fn __export<'a>(&'a self, ex: Exporter<'a>) -> Result<Exported, ExportError> {
        let local: Vec<u8> = vec![0xAB; 4096];
        ex.export(&local, Shape::Natural, Strides::Order(Order::C), true)
    }
}

fn main() {}
