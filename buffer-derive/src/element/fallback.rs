//! The expansion when the input has errors: the errors, plus a stub impl (for a non-generic
//! struct) so that uses of the type as an element do not fail a second time.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput};

use crate::attributes::Krate;

pub fn expand(node: &DeriveInput, krate: &Krate, error: syn::Error) -> TokenStream {
    let compile_errors = error.to_compile_error();
    let ident = &node.ident;
    if !node.generics.params.is_empty() || !matches!(node.data, Data::Struct(_)) {
        return compile_errors;
    }
    quote! {
        #compile_errors
        const _: () = {
            // SAFETY: never runs: the derive failed, so the crate does not compile.
            #[automatically_derived]
            unsafe impl #krate::Element for #ident {
                const FORMAT: &'static ::core::ffi::CStr = <u8 as #krate::Element>::FORMAT;
                unsafe fn load(_: *const Self) -> Self {
                    ::core::unimplemented!("#[derive(Element)] failed")
                }
            }
        };
    }
}
