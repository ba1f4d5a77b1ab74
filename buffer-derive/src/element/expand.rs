//! Code generation for `#[derive(Element)]`. Cannot fail.
//!
//! The macro never computes a size or an offset: it lists the fields with `offset_of!`, and
//! `buffer_runtime`'s `const fn`s build the `T{...}` format from them at compile time (with
//! `x` padding, subarrays, names) and check that the fields tile the struct. Each field type
//! must be a buffer element or an array of them: the `Shaped` bound is named on the field's
//! type, so rustc reports it there.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use super::ast::Input;

pub fn expand(m: &Input<'_>) -> TokenStream {
    let Input {
        ident,
        krate,
        fields,
        ..
    } = m;
    let p = krate.private();
    // Each field type is named once as `Shaped`, on its own tokens: a field that is not an
    // element is reported there, once; every other use goes through `Facts`, silent for it.
    let checks = fields.iter().map(|f| {
        let ty = f.ty;
        let krate = crate::spans::respan(&krate.to_token_stream(), ty.span());
        quote_spanned! {ty.span()=>
            const _: ::core::primitive::bool = <#ty as #krate::Shaped>::HAS_PADDING;
        }
    });
    let entries = fields.iter().map(|f| {
        let (ty, member, name) = (f.ty, &f.member, &f.name);
        quote! {
            #p::field(#p::Facts::<#ty>::FIELD, #name, ::core::mem::offset_of!(#ident, #member))
        }
    });
    let loads = fields.iter().map(|f| {
        let (ty, member) = (f.ty, &f.member);
        quote! {
            #member: #p::Facts::<#ty>::load_field(__record, ::core::mem::offset_of!(#ident, #member))
        }
    });
    let clears = fields.iter().map(|f| {
        let (ty, member) = (f.ty, &f.member);
        quote! {
            #p::Facts::<#ty>::clear_padding(
                __record.add(::core::mem::offset_of!(#ident, #member)).cast::<#ty>(),
            );
        }
    });
    let impl_head = quote_spanned! {ident.span()=>
        #[automatically_derived]
        unsafe impl #krate::Element for #ident
    };
    quote! {
        const _: () = {
            #[allow(unused_imports)]
            use #p::NotField as _;
            #(#checks)*
            const __FIELDS: &[#p::Field] = &[#(#entries),*];
            const __SIZE: ::core::primitive::usize = ::core::mem::size_of::<#ident>();
            const __ALIGN: ::core::primitive::usize = ::core::mem::align_of::<#ident>();
            const __LEN: ::core::primitive::usize = #p::format_len(__FIELDS, __SIZE, __ALIGN);
            const __FORMAT: [u8; __LEN] = #p::format_bytes::<__LEN>(__FIELDS, __SIZE, __ALIGN);

            // SAFETY: `FORMAT` is built from the compiler's own offsets and sizes of every
            // field, each field described by its own `Element` format, every other byte spelled
            // as `x` padding (`format_len` checks the fields tile the struct); `load` reads every
            // field with its own `load`, which accepts any bytes.
            #impl_head {
                const FORMAT: &'static ::core::ffi::CStr = #p::as_cstr(&__FORMAT);

                #[inline]
                unsafe fn load(p: *const Self) -> Self {
                    let __record = p.cast::<u8>();
                    // SAFETY: the caller guarantees `size_of::<Self>()` readable bytes at `p`,
                    // and every field lies inside them.
                    unsafe { #ident { #(#loads),* } }
                }

                const HAS_PADDING: bool = #p::has_padding(__FIELDS, __SIZE);

                #[inline]
                unsafe fn clear_padding(p: *mut Self) {
                    if <Self as #krate::Element>::HAS_PADDING {
                        let __record = p.cast::<u8>();
                        // SAFETY: the caller guarantees `size_of::<Self>()` writable bytes at
                        // `p`; gaps and fields lie inside them.
                        unsafe {
                            #p::clear_gaps(__record, __FIELDS, __SIZE);
                            #(#clears)*
                        }
                    }
                }
            }
        };
    }
}
