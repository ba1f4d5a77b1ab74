//! Code generation for `#[derive(PyBuffer)]`, from a validated model. Cannot fail.
//!
//! What the macro cannot know about types (is the field a storage type, is its element a
//! buffer element, may it be exported writable, does a constant shape fit an array, is the
//! struct a `#[pyclass]`) is left to rustc, through bounds and `const` assertions spanned on
//! the user's tokens, each reported once.
//!
//! One function per concern, each adding to [`Parts`]: the storage and its element, the
//! shape, the strides, read-only, `element = T`; then the impls that assemble them.

use proc_macro2::{Literal, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use super::ast::{bounds_element, is_plain, Input, Layout};
use super::attr::{Entry, List, OrderValue, ReadonlyValue};
use crate::spans::{call_over, respan};

/// The pieces of the expansion, filled by each concern.
struct Parts {
    /// `krate::__private`.
    p: TokenStream,
    /// Statements of `__export` before the export call (listed shape and strides).
    stmts: TokenStream,
    /// Statements of the checking function: type facts rustc reports on user tokens.
    checks: TokenStream,
    /// Items of the `const _` block: compile-time assertions.
    consts: TokenStream,
    /// Every field entry's range is tested up front ([`field_ranges`]): the entries then
    /// convert without a test of their own.
    tested: bool,
}

pub fn expand(m: &Input<'_>) -> TokenStream {
    let krate = &m.top.krate;
    let mut parts = Parts {
        p: krate.private(),
        stmts: TokenStream::new(),
        checks: TokenStream::new(),
        consts: TokenStream::new(),
        tested: false,
    };
    storage(m, &mut parts);
    field_ranges(m, &mut parts);
    let shape = shape(m, &mut parts);
    let strides = strides(m, &mut parts);
    let readonly = readonly(m, &mut parts);
    let exporter = element(m, &mut parts);

    let Parts {
        p,
        stmts,
        checks,
        consts,
        ..
    } = &parts;
    let ident = m.ident;
    let (field, ty) = (m.buffer.ident, m.buffer.ty);
    let storage = {
        let probe = call_over(ty, quote!(#p::Probe), quote!(&self.#field));
        quote_spanned!(ty.span()=> (&#probe))
    };
    let export = quote! {
        #stmts
        #storage.__buffer_export(#exporter, #shape, #strides, #readonly)
    };
    // A layout error is told in the annotation's words, built only on the error path.
    let body = match super::annotation::annotation(m, p) {
        None => export,
        Some(annotation) => quote! {
            let __quick = __ex.quick();
            let __described = #p::run(
                #[inline(always)]
                || -> ::core::result::Result<#p::Exported, #krate::ExportError> { #export },
            );
            #p::explained(__described, __quick, |__e| #p::explain(__e, &#annotation))
        },
    };
    let slots = slots(m, p);
    // Spanned on the struct's name: a missing `#[pyclass]` (supertrait `PyClass`) is reported there.
    let export_impl = quote_spanned! {ident.span()=>
        #[automatically_derived]
        impl #krate::PyBuffer for #ident
    };
    let pickle = if m.top.pickle() {
        super::pickle::pickle_impl(m, p)
    } else {
        TokenStream::new()
    };
    quote! {
        const _: () = {
            #export_impl {
                // Inlined into each slot body (the quick try and the general export), where
                // the request's constant parts fold away.
                #[inline(always)]
                fn __export<'__a>(
                    &'__a self,
                    __ex: #p::Exporter<'__a>,
                ) -> ::core::result::Result<#p::Exported, #krate::ExportError> {
                    #[allow(unused_imports)]
                    use #p::{NotStorage as _, ViaStorage as _};
                    #body
                }
                #[inline(always)]
                fn __type_cell() -> &'static #p::TypeCell {
                    static CELL: #p::TypeCell = #p::TypeCell::new();
                    &CELL
                }
            }
            #pickle
            #[allow(dead_code, unused_imports)]
            fn __buffer_checks() {
                #[allow(unused_imports)]
                use #p::NotFacts as _;
                #checks
            }
            #consts
            #slots
        };
    }
}

/// The field is storage, and its element (when known by name) a buffer element; plain
/// storage must not hold elements with padding.
fn storage(m: &Input<'_>, parts: &mut Parts) {
    let krate = &m.top.krate;
    let Parts {
        p, checks, consts, ..
    } = parts;
    let ty = m.buffer.ty;
    // A bad element is reported once, on the element (or, for shared storage whose definition
    // bounds it, by rustc on the struct's field); the check of the field type then stays
    // silent (`Facts<E>::field_type` is the field type only for a good `E`).
    checks.extend(match m.buffer.storage_element {
        Some(e) => {
            let shaped = if bounds_element(ty) {
                TokenStream::new()
            } else {
                let krate = respan(&krate.to_token_stream(), e.span());
                quote_spanned!(e.span()=> let _ = <#e as #krate::Shaped>::HAS_PADDING;)
            };
            let krate = respan(&krate.to_token_stream(), ty.span());
            let field_type = field_type(m, p);
            quote_spanned! {ty.span()=>
                #shaped
                fn storage<S: ?::core::marker::Sized + #krate::Storage>(_: ::core::marker::PhantomData<S>) {}
                storage(#field_type);
            }
        }
        None => {
            let krate = respan(&krate.to_token_stream(), ty.span());
            quote_spanned!(ty.span()=> let _ = <#ty as #krate::Storage>::SHARED;)
        }
    });
    // Padding bytes Rust left uninitialised must not reach Python: only shared storage zeroes
    // them. Checked on the element (a bad element is reported by its own check); other
    // storage types are checked when the export is instantiated.
    if let Some(e) = m.buffer.storage_element.filter(|_| is_plain(ty)) {
        consts.extend(quote_spanned! {ty.span()=>
            const _: () = {
                // Needed only when the element is not a buffer element.
                #[allow(unused_imports)]
                use #p::NotFacts as _;
                ::core::assert!(
                    !#p::Facts::<#e>::HAS_PADDING,
                    "these elements have padding bytes, which plain storage would show Python uninitialised: store them in `SharedVec`/`SharedArray` (they zero padding) or add explicit padding fields",
                );
            };
        });
    }
}

/// The `Shape` argument; a listed shape becomes a local array, checked against the dimension
/// limit and (when constant) against a fixed-size array's count.
fn shape(m: &Input<'_>, parts: &mut Parts) -> TokenStream {
    let krate = &m.top.krate;
    let Parts {
        p,
        stmts,
        consts,
        tested,
        ..
    } = parts;
    let ty = m.buffer.ty;
    match m.buffer.shape() {
        None => quote!(#p::Shape::Natural),
        Some(List::Field(f)) => {
            let krate = respan(&krate.to_token_stream(), f.span());
            quote_spanned!(f.span()=> #p::Shape::Dims(#krate::DimsField::dims(&self.#f)))
        }
        Some(List::Entries { entries, span }) => {
            let n = entries.len();
            let dims = entries.iter().map(|e| entry_in(p, e, Kind::Dim, *tested));
            stmts.extend(quote! {
                let __shape: [::core::primitive::usize; #n] = [#(#dims),*];
            });
            if n > 8 {
                // Only long lists: PyBUF_MAX_NDIM is 64, and short expansions stay short.
                consts.extend(quote_spanned! {*span=>
                    const _: () = ::core::assert!(
                        #n <= #krate::layout::MAX_NDIM,
                        "`shape` has more dimensions than a Python buffer may have (64)",
                    );
                });
            }
            if constant(entries) && matches!(m.buffer.layout(), Layout::Order(_)) {
                // A fixed-size array holds a known count: a constant shape must match it.
                let dims = entries.iter().map(|e| entry(p, e, Kind::Dim));
                consts.extend(quote_spanned! {*span=>
                    const _: () = {
                        #[allow(unused_imports)]
                        use #p::NotFacts as _;
                        if let ::core::option::Option::Some(__count) = #p::Facts::<#ty>::FIXED_COUNT {
                            ::core::assert!(
                                __count == 1 #(* #dims)*,
                                "the product of `shape` differs from the element count of the field's array type",
                            );
                        }
                    };
                });
            }
            quote!(#p::Shape::Dims(&__shape))
        }
    }
}

/// The `Strides` argument: an order, or listed strides and an offset (checked at compile time
/// when everything is constant).
fn strides(m: &Input<'_>, parts: &mut Parts) -> TokenStream {
    let krate = &m.top.krate;
    let p = &parts.p;
    match m.buffer.layout() {
        Layout::Order(order) => {
            let order = match order {
                None | Some(OrderValue::C) => quote!(#p::Order::C),
                Some(OrderValue::F) => quote!(#p::Order::F),
                Some(OrderValue::Field(f)) => {
                    let krate = respan(&krate.to_token_stream(), f.span());
                    quote_spanned!(f.span()=> { let __order: #krate::Order = self.#f; __order })
                }
            };
            quote!(#p::Strides::Order(#order))
        }
        Layout::Strides { strides, offset } => {
            let steps = match strides {
                List::Field(f) => {
                    let krate = respan(&krate.to_token_stream(), f.span());
                    quote_spanned!(f.span()=> #krate::StridesField::strides(&self.#f))
                }
                List::Entries { entries, .. } => {
                    let n = entries.len();
                    let s = entries
                        .iter()
                        .map(|e| entry_in(p, e, Kind::Stride, parts.tested));
                    parts.stmts.extend(quote! {
                        let __strides: [::core::primitive::isize; #n] = [#(#s),*];
                    });
                    quote!(&__strides)
                }
            };
            let offset_expr = match offset {
                Some(o) => entry_in(p, o, Kind::Stride, parts.tested),
                None => quote!(0),
            };
            let check = strided_check(m, p, strides, &offset_expr, offset);
            parts.consts.extend(check);
            quote!(#p::Strides::Bytes { strides: #steps, offset: #offset_expr })
        }
    }
}

/// The `readonly` argument; writable, always or per object, needs writable storage.
fn readonly(m: &Input<'_>, parts: &mut Parts) -> TokenStream {
    let krate = &m.top.krate;
    let field_type = field_type(m, &parts.p);
    let checks = &mut parts.checks;
    match m.buffer.readonly() {
        None => quote!(false),
        Some((ReadonlyValue::Yes, _)) => quote!(true),
        Some((writable, key)) => {
            // Only shared storage may be written by views. The bound is spanned on the key
            // that asks for it: rustc's note then points at `writable`.
            let krate = respan(&krate.to_token_stream(), key);
            let ty = m.buffer.ty;
            checks.extend(quote_spanned! {key=>
                fn writable<S: ?::core::marker::Sized + #krate::WritableStorage>(_: ::core::marker::PhantomData<S>) {}
            });
            checks.extend(quote_spanned!(ty.span()=> writable(#field_type);));
            match writable {
                ReadonlyValue::Field(f) => quote_spanned! {f.span()=>
                    { let __readonly: ::core::primitive::bool = self.#f; __readonly }
                },
                _ => quote!(false),
            }
        }
    }
}

/// The exporter argument. `element = T`: the same bytes presented as `T`, which must be an
/// element of the same size as the storage's (checked here when the storage's element is
/// known, and by every export otherwise).
fn element(m: &Input<'_>, parts: &mut Parts) -> TokenStream {
    let krate = respan(&m.top.krate.to_token_stream(), m.buffer.ty.span());
    let Parts {
        p, checks, consts, ..
    } = parts;
    let Some(t) = m.buffer.element() else {
        return quote!(__ex);
    };
    let krate = respan(&krate, t.span());
    checks.extend(quote_spanned!(t.span()=> let _ = <#t as #krate::Element>::FORMAT;));
    if let Some(e) = m.buffer.storage_element {
        consts.extend(quote_spanned! {t.span()=>
            const _: () = {
                #[allow(unused_imports)]
                use #p::NotFacts as _;
                ::core::assert!(
                    #p::same_itemsize(#p::Facts::<#e>::ITEMSIZE, #p::Facts::<#t>::ELEMENT_SIZE),
                    "`element` must have the size of the storage's element: the buffer presents the same bytes as another type",
                );
            };
        });
    }
    quote_spanned!(t.span()=> {
        #[allow(unused_imports)]
        use #p::NotFacts as _;
        #p::Facts::<#t>::present(__ex)
    })
}

#[derive(Clone, Copy)]
pub(super) enum Kind {
    Dim,
    Stride,
}

/// Entries without fields: known at compile time.
fn constant(entries: &[Entry]) -> bool {
    entries.iter().all(|e| !matches!(e, Entry::Field(_)))
}

/// Constant shape, strides and offset over a fixed-size array: every element must lie inside
/// the array, checked at compile time instead of at every export.
fn strided_check(
    m: &Input<'_>,
    p: &TokenStream,
    strides: &List,
    offset: &TokenStream,
    offset_entry: Option<&Entry>,
) -> TokenStream {
    let buf = &m.buffer;
    let (Some(elem), Some(shape)) = (buf.storage_element, buf.shape()) else {
        return TokenStream::new();
    };
    let (
        List::Entries { entries: dims, .. },
        List::Entries {
            entries: steps,
            span,
        },
    ) = (shape, strides)
    else {
        return TokenStream::new();
    };
    if !constant(dims)
        || !constant(steps)
        || offset_entry.is_some_and(|o| matches!(o, Entry::Field(_)))
    {
        return TokenStream::new();
    }
    let ty = buf.ty;
    let dims = dims.iter().map(|e| entry(p, e, Kind::Dim));
    let steps = steps.iter().map(|e| entry(p, e, Kind::Stride));
    quote_spanned! {*span=>
        const _: () = {
            // Needed only when the field or element is not a buffer type.
            #[allow(unused_imports)]
            use #p::NotFacts as _;
            if let (::core::option::Option::Some(__count), ::core::option::Option::Some(__itemsize)) =
                (#p::Facts::<#ty>::FIXED_COUNT, #p::Facts::<#elem>::ITEMSIZE)
            {
                ::core::assert!(
                    #p::strided_fits(&[#(#dims),*], &[#(#steps),*], #offset, __itemsize, __count),
                    "`strides` and `offset` reach outside the field's array for this `shape`",
                );
            }
        };
    }
}

/// The field entries of a listed shape, listed strides and the offset, in that order.
fn field_entries<'a>(m: &'a Input<'_>) -> Vec<(&'a syn::Ident, Kind)> {
    let listed = |l: Option<&'a List>| match l {
        Some(List::Entries { entries, .. }) => entries.iter().collect(),
        _ => Vec::new(),
    };
    let (strides, offset) = match m.buffer.layout() {
        Layout::Strides { strides, offset } => {
            (listed(Some(strides)), offset.into_iter().collect())
        }
        Layout::Order(_) => (Vec::new(), Vec::new()),
    };
    let dims = listed(m.buffer.shape()).into_iter().map(|e| (e, Kind::Dim));
    let steps = strides.into_iter().chain(offset).map(|e| (e, Kind::Stride));
    dims.chain(steps)
        .filter_map(|(e, kind)| match e {
            Entry::Field(f) => Some((f, kind)),
            _ => None,
        })
        .collect()
}

/// With two field entries or more, their ranges in one test before the entries are read
/// (for `usize` fields a sign test each, which the compiler merges into one): only when one
/// is out of range do the checked conversions run, to name it. The entries then convert
/// without a test of their own ([`Parts::tested`]).
fn field_ranges(m: &Input<'_>, parts: &mut Parts) {
    let fields = field_entries(m);
    if fields.len() < 2 {
        return;
    }
    let p = &parts.p;
    let out = fields.iter().map(|&(f, kind)| {
        let krate = krate_of(&respan(p, f.span()));
        match kind {
            Kind::Dim => quote_spanned!(f.span()=> #krate::Dim::to_dim(self.#f).is_none()),
            Kind::Stride => quote_spanned!(f.span()=> #krate::Dim::to_stride(self.#f).is_none()),
        }
    });
    let checked = fields
        .iter()
        .map(|&(f, kind)| entry(p, &Entry::Field(f.clone()), kind));
    parts.stmts.extend(quote! {
        if #(#out)|* {
            #(let _ = #checked;)*
        }
    });
    parts.tested = true;
}

/// One shape or stride entry as an expression of type `usize` / `isize`, `?`-propagating a
/// field that holds an invalid value.
pub(super) fn entry(p: &TokenStream, e: &Entry, kind: Kind) -> TokenStream {
    entry_in(p, e, kind, false)
}

/// [`entry`]; a field entry whose range `field_ranges` tested (`tested`) converts without
/// a test.
fn entry_in(p: &TokenStream, e: &Entry, kind: Kind, tested: bool) -> TokenStream {
    match (e, kind) {
        (Entry::Field(f), Kind::Dim) if tested => {
            let krate = krate_of(&respan(p, f.span()));
            quote_spanned!(f.span()=> #krate::Dim::to_dim_tested(self.#f))
        }
        (Entry::Field(f), Kind::Stride) if tested => {
            let krate = krate_of(&respan(p, f.span()));
            quote_spanned!(f.span()=> #krate::Dim::to_stride_tested(self.#f))
        }
        // `Dim::to_dim(..)`: a field that is not an integer is reported on the field, by the
        // trait's own message (the two calls give one identical error).
        (Entry::Field(f), Kind::Dim) => {
            let (name, p) = (f.to_string(), respan(p, f.span()));
            let krate = krate_of(&p);
            quote_spanned! {f.span()=>
                #p::dim_of(#krate::Dim::to_dim(self.#f), #krate::Dim::to_i128(self.#f), #name)?
            }
        }
        (Entry::Field(f), Kind::Stride) => {
            let (name, p) = (f.to_string(), respan(p, f.span()));
            let krate = krate_of(&p);
            quote_spanned! {f.span()=>
                #p::stride_of(#krate::Dim::to_stride(self.#f), #krate::Dim::to_i128(self.#f), #name)?
            }
        }
        (Entry::Int { value, span }, kind) => {
            let mut lit = Literal::i128_unsuffixed(*value);
            lit.set_span(*span);
            match kind {
                Kind::Dim => {
                    quote_spanned!(*span=> { const __D: ::core::primitive::usize = #lit; __D })
                }
                Kind::Stride => {
                    quote_spanned!(*span=> { const __S: ::core::primitive::isize = #lit; __S })
                }
            }
        }
        // The user's braces are kept (errors point into them), hence `unused_braces`.
        (Entry::Const(block), Kind::Dim) => quote_spanned! {block.span()=>
            { #[allow(unused_braces)] const __D: ::core::primitive::usize = #block; __D }
        },
        (Entry::Const(block), Kind::Stride) => quote_spanned! {block.span()=>
            { #[allow(unused_braces)] const __S: ::core::primitive::isize = #block; __S }
        },
    }
}

/// The runtime crate path of `krate::__private` (its tokens without the last `:: __private`).
pub(super) fn krate_of(p: &TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = p.clone().into_iter().collect();
    tokens[..tokens.len().saturating_sub(3)]
        .iter()
        .cloned()
        .collect()
}

/// The field type to check for storage and writability: itself when its element is good,
/// otherwise a type that passes (the element's error is then the only one). Spanned over the
/// whole type, so that an error about it underlines the field's type.
fn field_type(m: &Input<'_>, p: &TokenStream) -> TokenStream {
    let ty = m.buffer.ty;
    match m.buffer.storage_element {
        Some(e) => call_over(
            ty,
            quote!(#p::Facts::<#e>::field_type::<#ty>),
            TokenStream::new(),
        ),
        None => quote_spanned!(ty.span()=> ::core::marker::PhantomData::<#ty>),
    }
}

/// `impl BufferSlots` for a class with hand-written slots (`slots = "manual"`), or the check
/// that `#[buffer_methods]` implemented it.
fn slots(m: &Input<'_>, p: &TokenStream) -> TokenStream {
    let ident = m.ident;
    if m.top.generated_slots() {
        // Spanned on the struct's name: forgetting `#[buffer_methods]` is reported there, and
        // only for a `#[pyclass]` (a struct that is not one has its own error).
        let krate = respan(&m.top.krate.to_token_stream(), ident.span());
        let p = respan(p, ident.span());
        quote_spanned! {ident.span()=>
            #[allow(dead_code, unused_imports)]
            fn __buffer_slots() {
                #[allow(unused_imports)]
                use #p::NotFacts as _;
                fn buffer_methods<T: #krate::BufferSlots>(_: ::core::marker::PhantomData<T>) {}
                buffer_methods(#p::Facts::<#ident>::py_class());
            }
        }
    } else {
        quote! {
            #[automatically_derived]
            impl #p::BufferSlots for #ident {}
        }
    }
}
