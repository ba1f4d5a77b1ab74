//! `#[derive(Element)]`: a `#[repr(C)]` struct as a buffer element (a PEP 3118 record).
//!
//! The macro never computes a size or an offset: it lists the fields with `offset_of!`, and
//! `buffer_runtime`'s `const fn`s build the `T{...}` format from them at compile time (with
//! `x` padding, subarrays, names) and check that the fields tile the struct. Each field type
//! must be a buffer element or an array of them: the `Shaped` bound is named on the field's
//! type, so rustc reports it there.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr, Member, Path};

/// The helper attribute and its key.
const ELEMENT: &str = "element";
const CRATE: &str = "crate";

/// One field as the expansion needs it.
struct FieldModel<'a> {
    member: Member,
    /// The name numpy sees (`""` for tuple struct fields).
    name: String,
    ty: &'a syn::Type,
}

struct Model<'a> {
    ident: &'a syn::Ident,
    krate: Path,
    fields: Vec<FieldModel<'a>>,
}

pub fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors: Vec<syn::Error> = Vec::new();
    let krate = parse_crate(input, &mut errors);
    let model = parse(input, krate.clone(), &mut errors);
    match (errors.is_empty(), model) {
        (true, Some(m)) => expand(&m),
        _ => fallback(input, krate, &errors),
    }
}

/// `#[element(crate = "path")]`, default `::buffer_runtime`.
fn parse_crate(input: &DeriveInput, errors: &mut Vec<syn::Error>) -> Path {
    let mut krate: Option<Path> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident(ELEMENT)) {
        let r = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(CRATE) {
                let lit: LitStr = meta.value()?.parse()?;
                if krate.is_some() {
                    return Err(meta.error("`crate` may only be specified once"));
                }
                krate = Some(lit.parse()?);
                Ok(())
            } else {
                Err(meta.error("unknown key: expected `crate = \"path\"`"))
            }
        });
        if let Err(e) = r {
            errors.push(e);
        }
    }
    krate.unwrap_or_else(|| syn::parse_quote!(::buffer_runtime))
}

/// What `#[repr(...)]` says: whether it fixes the field layout (`C` or `transparent`).
fn has_fixed_layout(input: &DeriveInput, errors: &mut Vec<syn::Error>) -> bool {
    let mut fixed = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("repr")) {
        // `packed`, `packed(N)`, `align(N)` are allowed: the offsets come from the compiler.
        let parser = Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated;
        match attr.parse_args_with(parser) {
            Ok(metas) => {
                fixed |= metas
                    .iter()
                    .any(|m| m.path().is_ident("C") || m.path().is_ident("transparent"));
            }
            Err(e) => errors.push(e),
        }
    }
    fixed
}

fn parse<'a>(
    input: &'a DeriveInput,
    krate: Path,
    errors: &mut Vec<syn::Error>,
) -> Option<Model<'a>> {
    let data = match &input.data {
        Data::Struct(s) => s,
        Data::Enum(e) => {
            errors.push(syn::Error::new(
                e.enum_token.span(),
                "#[derive(Element)] needs a `#[repr(C)]` struct, not an enum",
            ));
            return None;
        }
        Data::Union(u) => {
            errors.push(syn::Error::new(
                u.union_token.span(),
                "#[derive(Element)] needs a `#[repr(C)]` struct, not a union",
            ));
            return None;
        }
    };
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new(
            input.generics.span(),
            "#[derive(Element)] does not support generic structs: the record format is built at compile time for one concrete type",
        ));
    }
    if !has_fixed_layout(input, errors) {
        errors.push(syn::Error::new(
            input.ident.span(),
            "#[derive(Element)] needs `#[repr(C)]` (or `#[repr(C, packed)]`) on the struct: Rust's default layout may reorder fields",
        ));
    }
    let fields: Vec<FieldModel<'a>> = match &data.fields {
        Fields::Named(named) => named
            .named
            .iter()
            .map(|f| {
                let ident = f.ident.clone().expect("named field");
                FieldModel {
                    name: ident.unraw().to_string(),
                    member: Member::Named(ident),
                    ty: &f.ty,
                }
            })
            .collect(),
        Fields::Unnamed(unnamed) => unnamed
            .unnamed
            .iter()
            .enumerate()
            .map(|(i, f)| FieldModel {
                member: Member::Unnamed(syn::Index {
                    index: i as u32,
                    span: f.ty.span(),
                }),
                name: String::new(),
                ty: &f.ty,
            })
            .collect(),
        Fields::Unit => Vec::new(),
    };
    if fields.is_empty() {
        errors.push(syn::Error::new(
            input.ident.span(),
            "#[derive(Element)] needs a struct with at least one field: a buffer item cannot be empty",
        ));
    }
    Some(Model {
        ident: &input.ident,
        krate,
        fields,
    })
}

fn expand(m: &Model<'_>) -> TokenStream {
    let Model {
        ident,
        krate,
        fields,
    } = m;
    let p = quote!(#krate::__private);
    let entries = fields.iter().map(|f| {
        let (ty, member, name) = (f.ty, &f.member, &f.name);
        quote_spanned! {ty.span()=>
            #p::Field::new::<#ty>(#name, ::core::mem::offset_of!(#ident, #member))
        }
    });
    let loads = fields.iter().map(|f| {
        let (ty, member) = (f.ty, &f.member);
        quote! {
            #member: #p::load_field::<#ty>(__record, ::core::mem::offset_of!(#ident, #member))
        }
    });
    let clears = fields.iter().map(|f| {
        let (ty, member) = (f.ty, &f.member);
        quote! {
            <#ty as #krate::Shaped>::clear_padding(
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
            const __FIELDS: &[#p::Field] = &[#(#entries),*];
            const __SIZE: usize = ::core::mem::size_of::<#ident>();
            const __ALIGN: usize = ::core::mem::align_of::<#ident>();
            const __LEN: usize = #p::format_len(__FIELDS, __SIZE, __ALIGN);
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

/// The errors, plus a stub impl (for a non-generic struct) so that uses of the type as an
/// element do not fail a second time.
fn fallback(input: &DeriveInput, krate: Path, errors: &[syn::Error]) -> TokenStream {
    let compile_errors = errors.iter().map(syn::Error::to_compile_error);
    let ident = &input.ident;
    let stub = if input.generics.params.is_empty() && matches!(input.data, Data::Struct(_)) {
        quote! {
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
    } else {
        TokenStream::new()
    };
    quote! { #(#compile_errors)* #stub }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(src: &str) -> Vec<String> {
        let input: DeriveInput = syn::parse_str(src).expect("valid Rust");
        let mut errors = Vec::new();
        let krate = parse_crate(&input, &mut errors);
        parse(&input, krate, &mut errors);
        errors.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn accepted_layouts() {
        for src in [
            "#[repr(C)] struct P { x: f32, y: f32 }",
            "#[repr(C, packed)] struct P { a: u8, b: u32 }",
            "#[repr(C, packed(2))] struct P { a: u8, b: u32 }",
            "#[repr(C)] #[repr(align(16))] struct P(f64, u8);",
            "#[repr(transparent)] struct Meters(f64);",
            "#[repr(C)] #[element(crate = \"my::rt\")] struct P { r#type: u8 }",
        ] {
            assert_eq!(errors_of(src), Vec::<String>::new(), "{src}");
        }
    }

    #[test]
    fn rejected_with_reasons() {
        let cases: &[(&str, &[&str])] = &[
            ("struct P { x: f32 }", &["needs `#[repr(C)]`"]),
            (
                "#[repr(packed)] struct P { x: f32 }",
                &["needs `#[repr(C)]`"],
            ),
            ("#[repr(C)] enum E { A }", &["not an enum"]),
            ("#[repr(C)] union U { a: u8 }", &["not a union"]),
            (
                "#[repr(C)] struct P<T> { x: T }",
                &["does not support generic structs"],
            ),
            ("#[repr(C)] struct P;", &["at least one field"]),
            ("#[repr(C)] struct P {}", &["at least one field"]),
            (
                "struct P<T>;",
                &["generic", "repr(C)", "at least one field"],
            ),
            (
                "#[repr(C)] #[element(krate = \"x\")] struct P { a: u8 }",
                &["unknown key"],
            ),
            (
                "#[repr(C)] #[element(crate = \"x\", crate = \"y\")] struct P { a: u8 }",
                &["may only be specified once"],
            ),
        ];
        for (src, wants) in cases {
            let got = errors_of(src);
            assert_eq!(got.len(), wants.len(), "{src}: {got:?}");
            for (g, w) in got.iter().zip(wants.iter()) {
                assert!(g.contains(w), "{src}: {g:?} lacks {w:?}");
            }
        }
    }

    #[test]
    fn expansion_lists_fields_by_offset_of() {
        let input: DeriveInput =
            syn::parse_str("#[repr(C)] struct P { x: f32, r#type: [u8; 3] }").unwrap();
        let out = derive(&input).to_string();
        assert!(out.contains("offset_of ! (P , x)"), "{out}");
        assert!(out.contains("\"type\""), "{out}");
        assert!(
            out.contains(":: buffer_runtime :: __private :: Field :: new :: < [u8 ; 3] >"),
            "{out}"
        );
        assert!(!out.contains("compile_error"), "{out}");
    }
}
