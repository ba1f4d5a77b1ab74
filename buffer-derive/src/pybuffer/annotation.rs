//! The annotation as text and values, for the message of a failed export
//! (`buffer_runtime::__private::explain`): generated code builds it only on the error path.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned, ToTokens};

use super::ast::{Input, Layout};
use super::attr::{Entry, List};
use super::expand::{entry, krate_of, Kind};
use crate::spans::respan;

/// The annotation as an `Annotation` expression; `None` when nothing in it can be wrong (the storage's own shape and an order).
pub fn annotation(m: &Input<'_>, p: &TokenStream) -> Option<TokenStream> {
    let buf = &m.buffer;
    let krate = &m.top.krate;
    let shape = buf.shape();
    let (strides, offset) = match buf.layout() {
        Layout::Strides { strides, offset } => (Some(strides), offset),
        Layout::Order(_) => (None, None),
    };
    if shape.is_none() && strides.is_none() {
        return None;
    }
    // Each value read exactly as the export reads it, with the same spans: a field of the
    // wrong type then gives rustc's one identical error, not a second one.
    let key = |l: Option<&List>, kind: Kind| match l {
        None => quote!(::core::option::Option::None),
        Some(l) => {
            let (text, values) = match l {
                List::Field(f) => {
                    let krate = respan(&krate.to_token_stream(), f.span());
                    let values = match kind {
                        Kind::Dim => {
                            quote_spanned!(f.span()=> #p::Values::Dims(#krate::DimsField::dims(&self.#f)))
                        }
                        Kind::Stride => {
                            quote_spanned!(f.span()=> #p::Values::Strides(#krate::StridesField::strides(&self.#f)))
                        }
                    };
                    (f.to_string(), values)
                }
                List::Entries { entries, .. } => {
                    let text = entries
                        .iter()
                        .map(entry_text)
                        .collect::<Vec<_>>()
                        .join(", ");
                    let values = entries.iter().map(|e| entry_value(p, e, kind));
                    (
                        format!("[{text}]"),
                        quote!(#p::Values::Listed(&[#(#values),*])),
                    )
                }
            };
            quote!(::core::option::Option::Some(#p::Key { text: #text, values: #values }))
        }
    };
    let shape = key(shape, Kind::Dim);
    let strides = key(strides, Kind::Stride);
    let offset = match offset {
        None => quote!(::core::option::Option::None),
        Some(e) => {
            let (text, value) = (entry_text(e), entry_value(p, e, Kind::Stride));
            quote!(::core::option::Option::Some(#p::Key { text: #text, values: #p::Values::One(#value) }))
        }
    };
    let field = buf.ident.to_string();
    Some(quote! {
        #p::Annotation { field: #field, shape: #shape, strides: #strides, offset: #offset }
    })
}

/// An entry as the user wrote it.
fn entry_text(e: &Entry) -> String {
    match e {
        Entry::Field(f) => f.to_string(),
        Entry::Int { value, .. } => value.to_string(),
        Entry::Const(block) => block.to_token_stream().to_string(),
    }
}

/// An entry's value as `i128`, read again (the error path only).
fn entry_value(p: &TokenStream, e: &Entry, kind: Kind) -> TokenStream {
    match e {
        Entry::Field(f) => {
            let krate = krate_of(&respan(p, f.span()));
            quote_spanned!(f.span()=> #krate::Dim::to_i128(self.#f))
        }
        Entry::Int { value, .. } => {
            let lit = Literal::i128_unsuffixed(*value);
            quote!(#lit)
        }
        Entry::Const(_) => {
            let value = entry(p, e, kind);
            quote!((#value as ::core::primitive::i128))
        }
    }
}
