//! The expansion when the input has errors: the errors, plus a stub impl so that code using
//! the trait (`#[buffer_methods]`) does not fail a second time (thiserror's `fallback.rs`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::attributes::Krate;

/// No stub where it would itself fail: a generic type (the impl would need the parameters) or
/// a union (never a `#[pyclass]`).
pub fn expand(node: &DeriveInput, krate: &Krate, error: syn::Error) -> TokenStream {
    let compile_errors = error.to_compile_error();
    if !node.generics.params.is_empty() || matches!(node.data, syn::Data::Union(_)) {
        return compile_errors;
    }
    let ident = &node.ident;
    let p = krate.private();
    quote! {
        #compile_errors
        const _: () = {
            #[automatically_derived]
            impl #krate::PyBuffer for #ident {
                fn __export<'__a>(
                    &'__a self,
                    _: #p::Exporter<'__a>,
                ) -> ::core::result::Result<#p::Exported, #krate::ExportError> {
                    ::core::unimplemented!("#[derive(PyBuffer)] failed to compile")
                }
            }
        };
    }
}
