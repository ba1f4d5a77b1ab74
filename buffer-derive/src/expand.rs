//! Code generation for `#[derive(PyBuffer)]`, from a validated model. Cannot fail.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::DeriveInput;

use crate::ast::{Input, Layout};
use crate::attr::{self, Entry, List, OrderValue, ReadonlyValue};
use crate::errors::Errors;

pub fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    match Input::from_syn(input, &mut errors) {
        Some(model) => expand(&model),
        None => fallback(input, &errors),
    }
}

/// The errors, plus a stub impl so that code using the trait does not fail a second time.
fn fallback(input: &DeriveInput, errors: &Errors) -> TokenStream {
    let compile_errors = errors.to_compile_errors();
    if !input.generics.params.is_empty() {
        return compile_errors;
    }
    let mut krate = None;
    for a in input.attrs.iter().filter(|a| a.path().is_ident(attr::BUFFER)) {
        attr::parse_struct_attr(a, &mut krate, &mut Errors::default());
    }
    let krate = krate.unwrap_or_else(|| syn::parse_quote!(::buffer_runtime));
    let ident = &input.ident;
    quote! {
        #compile_errors
        const _: () = {
            #[automatically_derived]
            impl #krate::PyBuffer for #ident {
                fn __export(
                    &self,
                    _: #krate::__private::Exporter,
                ) -> ::core::result::Result<#krate::__private::Exported, #krate::ExportError> {
                    ::core::unimplemented!("#[derive(PyBuffer)] failed")
                }
            }
        };
    }
}

fn expand(m: &Input<'_>) -> TokenStream {
    let krate = &m.krate;
    let p = quote!(#krate::__private);
    let ident = m.ident;
    let buf = &m.buffer;
    let (field, ty) = (buf.ident, buf.ty);
    let mut stmts = TokenStream::new();
    let mut checks = TokenStream::new();

    let shape = match &buf.shape {
        None => quote!(#p::Shape::Natural),
        Some(s) => match &s.value {
            List::Field(f) => quote_spanned!(f.span()=> #p::Shape::Dims(#krate::DimsField::dims(&self.#f))),
            List::Entries { entries, .. } => {
                let n = entries.len();
                let dims = entries.iter().map(|e| entry(&p, e, Kind::Dim));
                stmts.extend(quote!(let __shape: [usize; #n] = [#(#dims),*];));
                if entries.iter().all(|e| !matches!(e, Entry::Field(_))) && matches!(buf.layout, Layout::Order(_)) {
                    let dims = entries.iter().map(|e| entry(&p, e, Kind::Dim));
                    checks.extend(quote_spanned! {s.key.span()=>
                        const _: () = #p::check_fixed_count(
                            1usize #(* #dims)*,
                            <#ty as #krate::Storage>::FIXED_COUNT,
                        );
                    });
                }
                quote!(#p::Shape::Dims(&__shape))
            }
        },
    };

    let strides = match &buf.layout {
        Layout::Order(order) => {
            let order = match order.as_ref().map(|o| &o.value) {
                None | Some(OrderValue::C) => quote!(#p::Order::C),
                Some(OrderValue::F) => quote!(#p::Order::F),
                Some(OrderValue::Field(f)) => {
                    quote_spanned!(f.span()=> { let __order: #krate::Order = self.#f; __order })
                }
            };
            quote!(#p::Strides::Order(#order))
        }
        Layout::Strides { strides, offset } => {
            let steps = match &strides.value {
                List::Field(f) => quote_spanned!(f.span()=> #krate::StridesField::strides(&self.#f)),
                List::Entries { entries, .. } => {
                    let n = entries.len();
                    let s = entries.iter().map(|e| entry(&p, e, Kind::Stride));
                    stmts.extend(quote!(let __strides: [isize; #n] = [#(#s),*];));
                    quote!(&__strides)
                }
            };
            let offset = match offset {
                Some(o) => entry(&p, &o.value, Kind::Stride),
                None => quote!(0isize),
            };
            quote!(#p::Strides::Bytes { strides: #steps, offset: #offset })
        }
    };

    let readonly = match buf.readonly.as_ref().map(|r| &r.value) {
        None => quote!(false),
        Some(ReadonlyValue::Yes) => quote!(true),
        Some(writable) => {
            // Writable, always or per object: only shared storage may be written by views.
            checks.extend(quote_spanned! {ty.span()=>
                const _: fn() = #p::assert_writable::<#ty>;
            });
            match writable {
                ReadonlyValue::Field(f) => quote_spanned!(f.span()=> { let __ro: bool = self.#f; __ro }),
                _ => quote!(false),
            }
        }
    };

    let storage = quote_spanned!(ty.span()=> &self.#field);
    let export_impl = quote_spanned! {ident.span()=>
        #[automatically_derived]
        impl #krate::PyBuffer for #ident
    };
    quote! {
        const _: () = {
            #export_impl {
                #[inline]
                fn __export(
                    &self,
                    __ex: #p::Exporter,
                ) -> ::core::result::Result<#p::Exported, #krate::ExportError> {
                    #stmts
                    __ex.export(#storage, #shape, #strides, #readonly)
                }
            }
            #checks
        };
    }
}

enum Kind {
    Dim,
    Stride,
}

/// One shape or stride entry as an expression of type `usize` / `isize`, `?`-propagating a
/// field that holds an invalid value.
fn entry(p: &TokenStream, e: &Entry, kind: Kind) -> TokenStream {
    match (e, kind) {
        (Entry::Field(f), Kind::Dim) => {
            let name = f.to_string();
            quote_spanned!(f.span()=> #p::dim(self.#f, #name)?)
        }
        (Entry::Field(f), Kind::Stride) => {
            let name = f.to_string();
            quote_spanned!(f.span()=> #p::stride(self.#f, #name)?)
        }
        (Entry::Int { value, span }, kind) => {
            let mut lit = Literal::i128_unsuffixed(*value);
            lit.set_span(*span);
            match kind {
                Kind::Dim => quote_spanned!(*span=> { const __D: usize = #lit; __D }),
                Kind::Stride => quote_spanned!(*span=> { const __S: isize = #lit; __S }),
            }
        }
        (Entry::Const(block), Kind::Dim) => {
            quote_spanned!(block.span()=> { const __D: usize = #block; __D })
        }
        (Entry::Const(block), Kind::Stride) => {
            quote_spanned!(block.span()=> { const __S: isize = #block; __S })
        }
    }
}
