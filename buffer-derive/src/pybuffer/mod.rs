//! `#[derive(PyBuffer)]`: parse (`ast`, `attr`), validate (`valid`), then expand (`expand`),
//! or report every error with a stub (`fallback`).

mod annotation;
mod ast;
mod attr;
mod expand;
mod fallback;
mod pickle;
mod valid;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::errors::Errors;

pub fn derive(node: &DeriveInput) -> TokenStream {
    let errors = Errors::new();
    let top = attr::StructAttrs::from_attrs(&node.attrs, &errors);
    top.validate(&errors);
    let input = ast::Input::from_syn(node, &top, &errors);
    if let Some(input) = &input {
        input.validate(&errors);
    }
    match (errors.check(), input) {
        (Ok(()), Some(input)) => expand::expand(&input),
        (Err(e), _) => fallback::expand(node, &top.krate, e),
        (Ok(()), None) => unreachable!("no model is built only with an error recorded"),
    }
}
