//! Procedural macros for `buffer-runtime`; use them through that crate.
#![warn(missing_docs)]

mod attributes;
mod element;
mod errors;
#[cfg(test)]
mod golden;
mod methods;
mod pybuffer;
mod repr;
mod spans;

use proc_macro::TokenStream;

/// Implements `buffer_runtime::PyBuffer` for a `#[pyclass]` struct from its `#[buffer(...)]`
/// field annotation. See the `buffer_runtime` documentation for the keys.
///
/// On the field that holds the data: `#[buffer]`, or `#[buffer(key = value, ...)]` with
/// `shape = [..] | field`, `strides = [..] | field`, `offset = n | field`,
/// `order = "C" | "F" | field`, `readonly`, `readonly = bool | field`, `writable` and
/// `element = T`. On the struct: `#[buffer(crate = "path")]`, `#[buffer(pickle = false)]` and
/// `#[buffer(slots = "manual")]`.
///
/// # The slots
///
/// The class also needs `#[buffer_methods]` above `#[pymethods]` on one of its impl blocks
/// (an empty `#[buffer_methods] #[pymethods] impl Class {}` will do): it adds the
/// `__getbuffer__` / `__releasebuffer__` slots, and one class attribute, `_buffer_restore`,
/// which installs the pickle, copy and DLPack methods when the type is created (CPython method
/// descriptors, not PyO3 methods: they cost no wrapper per class). Without the slots Python sees no buffer at all, so
/// forgetting it is a compile error on the struct's name ("derives `PyBuffer` but has no buffer
/// slots"). A class that writes the two slots by hand (delegating to
/// `buffer_runtime::getbuffer` / `releasebuffer`) says so with `#[buffer(slots = "manual")]`.
///
/// # Checking a layout early
///
/// Every export checks the layout the fields describe against the storage; a bad one is a
/// `BufferError` that names the class, the annotation and the values of its fields:
/// `IntMatrix: shape = [rows, cols] = [2, 4]: 8 elements, but data holds 6`. numpy swallows
/// that error (`np.asarray(obj)` then builds a 0-d object array), so call
/// `PyBuffer::check_buffer(&self) -> PyResult<()>` where the fields are set (a `#[new]`
/// constructor, a method that reshapes): it runs the same checks as an export, without
/// exporting, and returns the same error.
///
/// ```ignore
/// #[new]
/// fn new(rows: usize, cols: usize, data: Vec<i32>) -> PyResult<Self> {
///     let m = IntMatrix { data: data.into(), rows, cols };
///     m.check_buffer()?; // `use buffer_runtime::PyBuffer` brings the method into scope
///     Ok(m)
/// }
/// ```
#[proc_macro_derive(PyBuffer, attributes(buffer))]
pub fn derive_py_buffer(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    pybuffer::derive(&input).into()
}

/// Adds `__getbuffer__` / `__releasebuffer__` (and pickle, copy and DLPack support) to a
/// `#[pymethods]` block of a `#[derive(PyBuffer)]` class. Must be placed above `#[pymethods]`.
/// `#[buffer_methods(crate = "path")]` names a renamed runtime crate.
#[proc_macro_attribute]
pub fn buffer_methods(args: TokenStream, item: TokenStream) -> TokenStream {
    methods::expand(args.into(), item.into()).into()
}

/// Implements `buffer_runtime::Element` for a `#[repr(C)]` (or `#[repr(C, packed)]`) struct
/// whose fields are buffer elements or arrays of them: a PEP 3118 record `T{...}` with field
/// names, `x` padding and subarrays, built at compile time. See `buffer_runtime::Element`.
#[proc_macro_derive(Element, attributes(element))]
pub fn derive_element(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    element::derive(&input).into()
}
