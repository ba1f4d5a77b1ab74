//! Code generation for `#[derive(PyBuffer)]`, from a validated model. Cannot fail.
//!
//! What the macro cannot know about types (is the field a storage type, is its element a
//! buffer element, may it be exported writable, does a constant shape fit an array, is the
//! struct a `#[pyclass]`) is left to rustc, through bounds and `const` assertions spanned on
//! the user's tokens, each reported once.
//!
//! One function per concern, each adding to [`Parts`]: the storage and its element, the
//! shape, the strides, read-only, `element = T`; then the impls that assemble them.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use super::ast::{is_plain, Input, Layout};
use super::attr::{Entry, List, OrderValue, ReadonlyValue};

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
}

pub fn expand(m: &Input<'_>) -> TokenStream {
    let krate = &m.top.krate;
    let mut parts = Parts {
        p: krate.private(),
        stmts: TokenStream::new(),
        checks: TokenStream::new(),
        consts: TokenStream::new(),
    };
    storage(m, &mut parts);
    let shape = shape(m, &mut parts);
    let strides = strides(m, &mut parts);
    let readonly = readonly(m, &mut parts);
    let exporter = element(m, &mut parts);

    let Parts {
        p,
        stmts,
        checks,
        consts,
    } = &parts;
    let ident = m.ident;
    let (field, ty) = (m.buffer.ident, m.buffer.ty);
    let storage = {
        let p = respan(p, ty.span());
        quote_spanned!(ty.span()=> (&#p::Probe(&self.#field)))
    };
    // Spanned on the struct's name: a missing `#[pyclass]` (supertrait `PyClass`) is reported there.
    let export_impl = quote_spanned! {ident.span()=>
        #[automatically_derived]
        impl #krate::PyBuffer for #ident
    };
    let pickle = if m.top.pickle() {
        pickle_impl(m, p)
    } else {
        TokenStream::new()
    };
    quote! {
        const _: () = {
            #export_impl {
                #[inline]
                fn __export<'__a>(
                    &'__a self,
                    __ex: #p::Exporter<'__a>,
                ) -> ::core::result::Result<#p::Exported, #krate::ExportError> {
                    use #p::{NotStorage as _, ViaStorage as _};
                    #stmts
                    #storage.__buffer_export(#exporter, #shape, #strides, #readonly)
                }
            }
            #pickle
            #[allow(dead_code)]
            fn __buffer_checks() {
                use #p::FactsUnknown as _;
                #checks
            }
            #consts
        };
    }
}

/// The field is storage, and its element (when known by name) a buffer element; plain
/// storage must not hold elements with padding.
fn storage(m: &Input<'_>, parts: &mut Parts) {
    let Parts {
        p, checks, consts, ..
    } = parts;
    let ty = m.buffer.ty;
    // A bad element is reported once, on the element; the checks of the field type then stay
    // silent (`Facts<E>` has them only for a good `E`).
    checks.extend(match m.buffer.storage_element {
        Some(e) => {
            let shaped = quote_spanned!(e.span()=> #p::assert_shaped::<#e>(););
            let storage = quote_spanned!(ty.span()=> #p::Facts::<#e>::storage_of::<#ty>(););
            quote!(#shaped #storage)
        }
        None => quote_spanned!(ty.span()=> #p::assert_storage::<#ty>();),
    });
    // Padding bytes Rust left uninitialised must not reach Python: only shared storage zeroes
    // them. Checked on the element (a bad element is reported by its own check); other
    // storage types are checked when the export is instantiated.
    if let Some(e) = m.buffer.storage_element.filter(|_| is_plain(ty)) {
        consts.extend(quote_spanned! {ty.span()=>
            const _: () = {
                // Needed only when the element is not a buffer element.
                #[allow(unused_imports)]
                use #p::FactsUnknown as _;
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
        p, stmts, consts, ..
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
            let dims = entries.iter().map(|e| entry(p, e, Kind::Dim));
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
                        use #p::FactsUnknown as _;
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
                    let s = entries.iter().map(|e| entry(p, e, Kind::Stride));
                    parts.stmts.extend(quote! {
                        let __strides: [::core::primitive::isize; #n] = [#(#s),*];
                    });
                    quote!(&__strides)
                }
            };
            let offset_expr = match offset {
                Some(o) => entry(p, o, Kind::Stride),
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
    let Parts { p, checks, .. } = parts;
    let ty = m.buffer.ty;
    match m.buffer.readonly() {
        None => quote!(false),
        Some(ReadonlyValue::Yes) => quote!(true),
        Some(writable) => {
            // Only shared storage may be written by views.
            checks.extend(match m.buffer.storage_element {
                Some(e) => quote_spanned!(ty.span()=> #p::Facts::<#e>::writable_of::<#ty>();),
                None => quote_spanned!(ty.span()=> #p::assert_writable::<#ty>();),
            });
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
    let Parts {
        p, checks, consts, ..
    } = parts;
    let Some(t) = m.buffer.element() else {
        return quote!(__ex);
    };
    checks.extend(quote_spanned!(t.span()=> #p::assert_element::<#t>();));
    if let Some(e) = m.buffer.storage_element {
        consts.extend(quote_spanned! {t.span()=>
            const _: () = {
                use #p::FactsUnknown as _;
                ::core::assert!(
                    #p::same_itemsize(#p::Facts::<#e>::ITEMSIZE, #p::Facts::<#t>::ELEMENT_SIZE),
                    "`element` must have the size of the storage's element: the buffer presents the same bytes as another type",
                );
            };
        });
    }
    quote_spanned!(t.span()=> {
        use #p::FactsUnknown as _;
        #p::Facts::<#t>::present(__ex)
    })
}

/// `Pickle`: the buffer field is the storage, every other field travels as a Python value
/// (`&T: IntoPyObject`, `T: FromPyObject`; rustc reports a field that does not convert on the
/// field's type, and `#[buffer(pickle = false)]` opts out).
fn pickle_impl(m: &Input<'_>, p: &TokenStream) -> TokenStream {
    let (ident, field, ty) = (m.ident, m.buffer.ident, m.buffer.ty);
    let pyo3 = quote!(#p::pyo3);
    let others: Vec<_> = m.fields.iter().filter(|(f, _)| *f != field).collect();
    let n = others.len();
    let class = ident.to_string();
    let to_py = others.iter().map(|(f, t)| {
        let p = respan(p, t.span());
        quote_spanned!(t.span()=> (&#p::Probe(&self.#f)).__to_py(__py)?)
    });
    let from_py: Vec<_> = others
        .iter()
        .enumerate()
        .map(|(i, (f, t))| {
            let (p, name) = (respan(p, t.span()), f.to_string());
            quote_spanned! {t.span()=>
                #f: #p::field_from_py(__fields, #i, #name, |__item| {
                    (&#p::TypeProbe::of(|__s: &Self| &__s.#f)).__from_py(__item)
                })?
            }
        })
        .collect();
    let from_py2 = from_py.clone();
    // Spanned on the field's type: a bad storage type is then the struct's own error, reported
    // once, not again at the derive.
    let sp = respan(p, ty.span());
    let dump = quote_spanned!(ty.span()=> (&#sp::Probe(&self.#field)).__pickle_dyn());
    let probe = quote_spanned!(ty.span()=> #sp::TypeProbe::of(|__s: &Self| &__s.#field));
    let load = quote_spanned!(ty.span()=> (&__probe).__unpickle_storage(__data, __meta)?);
    let dup = quote_spanned!(ty.span()=> (&#sp::Probe(&self.#field)).__duplicate_storage()?);
    quote! {
        #[automatically_derived]
        impl #p::Pickle for #ident {
            #[inline]
            fn __storage(&self) -> ::core::option::Option<&dyn #p::PickleDyn> {
                use #p::{NotPickleDyn as _, ViaPickleDyn as _};
                #dump
            }
            fn __fields<'py>(
                &self,
                __py: #pyo3::Python<'py>,
            ) -> #pyo3::PyResult<#pyo3::Bound<'py, #pyo3::types::PyTuple>> {
                #[allow(unused_imports)]
                use #p::{BoxedIntoPy as _, ViaIntoPy as _};
                let __values: [#pyo3::Bound<'py, #pyo3::PyAny>; #n] = [#(#to_py),*];
                #pyo3::types::PyTuple::new(__py, __values)
            }
            fn __unpickle(
                __data: &#pyo3::Bound<'_, #pyo3::PyAny>,
                __meta: &#pyo3::Bound<'_, #pyo3::PyAny>,
                __fields: &#pyo3::Bound<'_, #pyo3::types::PyTuple>,
            ) -> #pyo3::PyResult<Self> {
                #[allow(unused_imports)]
                use #p::{BoxedFromPy as _, NotPickle as _, ViaFromPy as _, ViaPickle as _};
                #p::expect_fields(__fields, #n, #class)?;
                let __probe = #probe;
                ::core::result::Result::Ok(Self {
                    #field: #load,
                    #(#from_py),*
                })
            }
            fn __duplicate(
                &self,
                __fields: &#pyo3::Bound<'_, #pyo3::types::PyTuple>,
            ) -> #pyo3::PyResult<Self> {
                #[allow(unused_imports)]
                use #p::{BoxedFromPy as _, NotPickle as _, ViaFromPy as _, ViaPickle as _};
                #p::expect_fields(__fields, #n, #class)?;
                ::core::result::Result::Ok(Self {
                    #field: #dup,
                    #(#from_py2),*
                })
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
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
            use #p::FactsUnknown as _;
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

/// One shape or stride entry as an expression of type `usize` / `isize`, `?`-propagating a
/// field that holds an invalid value.
fn entry(p: &TokenStream, e: &Entry, kind: Kind) -> TokenStream {
    match (e, kind) {
        (Entry::Field(f), Kind::Dim) => {
            let (name, p) = (f.to_string(), respan(p, f.span()));
            quote_spanned!(f.span()=> #p::dim(self.#f, #name)?)
        }
        (Entry::Field(f), Kind::Stride) => {
            let (name, p) = (f.to_string(), respan(p, f.span()));
            quote_spanned!(f.span()=> #p::stride(self.#f, #name)?)
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

/// `path` (a path: no groups) with every token at `span`, so that rustc's "required by a bound
/// introduced by this call" points at the user's field name, not at the derive.
pub fn respan(path: &TokenStream, span: Span) -> TokenStream {
    path.clone()
        .into_iter()
        .map(|mut t| {
            t.set_span(span);
            t
        })
        .collect()
}
