//! The rules of `#[derive(Element)]`, each with the reason it exists.

use syn::spanned::Spanned;

use super::ast::Input;
use crate::errors::Errors;

impl Input<'_> {
    pub fn validate(&self, errors: &Errors) {
        // A second path would silently win or lose.
        for span in self.crate_keys.iter().skip(1) {
            errors.error_at(*span, "`crate` may only be specified once");
        }
        // The format is a `const` of one concrete type.
        if !self.generics.params.is_empty() {
            errors.error_at(
                self.generics.span(),
                "#[derive(Element)] does not support generic structs: the record format is built at compile time for one concrete type",
            );
        }
        // The format lists fields at their offsets; Rust's layout may change them.
        if !self.repr.is_fixed() {
            errors.error_at(
                self.ident.span(),
                "#[derive(Element)] needs `#[repr(C)]` (or `#[repr(C, packed)]`) on the struct: Rust's default layout may reorder fields",
            );
        }
        // PEP 3118 has no empty record, and a zero-size item breaks every consumer.
        if self.fields.is_empty() {
            errors.error_at(
                self.ident.span(),
                "#[derive(Element)] needs a struct with at least one field: a buffer item cannot be empty",
            );
        }
    }
}
