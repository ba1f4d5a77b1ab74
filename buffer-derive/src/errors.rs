//! Collects every error of one macro call, so the user sees them all in one compile (serde's
//! `Ctxt`). Checked once with [`Errors::check`]; dropping it unchecked is a bug in the macro
//! and panics, so an error can never be silently lost.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

pub struct Errors {
    /// `None` once checked.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Errors {
    pub fn new() -> Self {
        Errors {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// An error spanned on the tokens of `obj`.
    pub fn error_spanned_by<T: ToTokens>(&self, obj: T, msg: impl Display) {
        self.push(syn::Error::new_spanned(obj.into_token_stream(), msg));
    }

    /// An error at `span`.
    pub fn error_at(&self, span: Span, msg: impl Display) {
        self.push(syn::Error::new(span, msg));
    }

    pub fn push(&self, error: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("errors pushed after the check")
            .push(error);
    }

    /// The value of `r`, or `None` with its error recorded.
    pub fn ok<T>(&self, r: syn::Result<T>) -> Option<T> {
        r.map_err(|e| self.push(e)).ok()
    }

    /// Every error recorded, combined (each keeps its own span), or `Ok` if there was none.
    pub fn check(self) -> syn::Result<()> {
        let errors = self
            .errors
            .borrow_mut()
            .take()
            .expect("errors checked twice");
        let mut errors = errors.into_iter();
        let Some(mut all) = errors.next() else {
            return Ok(());
        };
        for e in errors {
            all.combine(e);
        }
        Err(all)
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("forgot to check for errors");
        }
    }
}

#[cfg(test)]
pub mod tests {
    use proc_macro2::TokenTree;

    /// The messages of `e`, in order.
    pub fn messages(e: syn::Result<()>) -> Vec<String> {
        let Err(e) = e else {
            return Vec::new();
        };
        e.to_compile_error()
            .into_iter()
            .filter_map(|t| match t {
                TokenTree::Group(g) => syn::parse2::<syn::LitStr>(g.stream()).ok(),
                _ => None,
            })
            .map(|lit| lit.value())
            .collect()
    }

    #[test]
    #[should_panic(expected = "forgot to check for errors")]
    fn unchecked_errors_panic() {
        let errors = super::Errors::new();
        errors.error_at(proc_macro2::Span::call_site(), "lost");
    }

    #[test]
    fn every_error_is_kept() {
        let errors = super::Errors::new();
        errors.error_at(proc_macro2::Span::call_site(), "one");
        errors.error_at(proc_macro2::Span::call_site(), "two");
        assert_eq!(messages(errors.check()), ["one", "two"]);
    }
}
