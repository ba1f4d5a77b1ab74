//! The `Pickle` impl of `#[derive(PyBuffer)]`: what `#[buffer_methods]`' pickle and copy
//! support calls.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::ast::Input;
use crate::spans::{call_over, respan};

/// `Pickle`: the buffer field is the storage, every other field travels as a Python value
/// (`&T: IntoPyObject`, `T: FromPyObject`; rustc reports a field that does not convert on the
/// field's type, and `#[buffer(pickle = false)]` opts out).
pub fn pickle_impl(m: &Input<'_>, p: &TokenStream) -> TokenStream {
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
    let self_probe = call_over(ty, quote!(#p::Probe), quote!(&self.#field));
    let dump = quote_spanned!(ty.span()=> (&#self_probe).__pickle_dyn());
    let probe = call_over(
        ty,
        quote!(#p::TypeProbe::of),
        quote!(|__s: &Self| &__s.#field),
    );
    let load = quote_spanned!(ty.span()=> (&__probe).__unpickle_storage(__data, __meta)?);
    let dup = quote_spanned!(ty.span()=> (&#self_probe).__duplicate_storage()?);
    quote! {
        #[automatically_derived]
        impl #p::Pickle for #ident {
            #[inline]
            fn __storage(&self) -> ::core::option::Option<&dyn #p::PickleDyn> {
                #[allow(unused_imports)]
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
