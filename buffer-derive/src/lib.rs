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

use proc_macro::TokenStream;

/// Implements `buffer_runtime::PyBuffer` for a `#[pyclass]` struct from its `#[buffer(...)]`
/// field annotation. See the `buffer_runtime` documentation for the keys.
#[proc_macro_derive(PyBuffer, attributes(buffer))]
pub fn derive_py_buffer(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    pybuffer::derive(&input).into()
}

/// Adds `__getbuffer__` / `__releasebuffer__` to a `#[pymethods]` block. Must be placed above
/// `#[pymethods]`.
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
