//! Every rule that spans several keys, attributes or fields, each with the reason it exists.
//! Runs on a built model and only reports: the caller decides what an error means.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::Ident;

use super::ast::{Input, Layout};
use super::attr::{Entry, FieldOption, List, OrderValue, ReadonlyValue, StructAttrs};
use crate::attributes;
use crate::errors::Errors;

impl StructAttrs {
    /// Each key of the struct's attribute at most once: a second value would silently win or
    /// lose.
    pub fn validate(&self, errors: &Errors) {
        let mut seen: Vec<&str> = Vec::new();
        for o in &self.options {
            let (name, span) = o.key();
            once(&mut seen, name, span, errors);
        }
    }
}

impl Input<'_> {
    pub fn validate(&self, errors: &Errors) {
        self.check_generics(errors);
        self.check_one_buffer(errors);
        self.check_keys(errors);
        self.check_layout_keys(errors);
        self.check_names(errors);
        self.check_ranks(errors);
    }

    /// A `#[pyclass]` cannot be generic, and the impls name the type without parameters.
    fn check_generics(&self, errors: &Errors) {
        if !self.generics.params.is_empty() {
            errors.error_at(
                self.generics.span(),
                "generic parameters and lifetimes are not supported: a #[pyclass] cannot be generic",
            );
        }
    }

    /// One export per object: one field is the buffer.
    fn check_one_buffer(&self, errors: &Errors) {
        for a in &self.extra_marks {
            errors.error_at(
                a.span(),
                format!(
                    "only one field can be the buffer, and `{}` is already marked `#[buffer]`",
                    self.buffer.ident
                ),
            );
        }
    }

    /// Each key at most once; `readonly` and `writable` are one setting, so giving both is a
    /// contradiction, whatever their values.
    fn check_keys(&self, errors: &Errors) {
        let mut seen: Vec<&str> = Vec::new();
        let mut access: Option<&str> = None;
        for o in &self.buffer.attrs.options {
            let (name, span) = o.key();
            if let FieldOption::Readonly(_) | FieldOption::Writable(_) = o {
                match access {
                    Some(prev) if prev != name => {
                        errors.error_at(
                            span,
                            format!("`{name}` contradicts `{prev}`: give one of them"),
                        );
                        continue;
                    }
                    _ => access = Some(name),
                }
            }
            once(&mut seen, name, span, errors);
        }
    }

    /// Explicit strides fix the order, and an offset only means something with them.
    fn check_layout_keys(&self, errors: &Errors) {
        let has = |f: fn(&FieldOption) -> bool| self.buffer.attrs.options.iter().find(|o| f(o));
        let strides = has(|o| matches!(o, FieldOption::Strides(_)));
        if strides.is_some() {
            if let Some(order) = has(|o| matches!(o, FieldOption::Order(_))) {
                errors.error_at(
                    order.key().1,
                    "`order` and `strides` cannot both be given: explicit strides fix the order",
                );
            }
        } else if let Some(offset) = has(|o| matches!(o, FieldOption::Offset(_))) {
            errors.error_at(
                offset.key().1,
                "`offset` needs explicit `strides`: a contiguous buffer starts at its first element",
            );
        }
    }

    /// Every name in the annotation is another field of the struct: the macro reads it as
    /// `self.name`, and a typo should point at the typo, not at generated code.
    fn check_names(&self, errors: &Errors) {
        let buf = &self.buffer;
        let mut names: Vec<&Ident> = Vec::new();
        if let Some(shape) = buf.shape() {
            list_fields(shape, &mut names);
        }
        match buf.layout() {
            Layout::Order(Some(OrderValue::Field(f))) => names.push(f),
            Layout::Order(_) => {}
            Layout::Strides { strides, offset } => {
                list_fields(strides, &mut names);
                names.extend(offset.and_then(entry_field));
            }
        }
        if let Some((ReadonlyValue::Field(f), _)) = buf.readonly() {
            names.push(f);
        }
        let others: Vec<String> = self
            .fields
            .iter()
            .filter(|(f, _)| *f != buf.ident)
            .map(|(f, _)| f.to_string())
            .collect();
        for name in names {
            if name == buf.ident {
                errors.error_at(
                    name.span(),
                    format!("`{name}` is the buffer field itself; name another field"),
                );
            } else if !self.fields.iter().any(|(f, _)| *f == name) {
                errors.error_at(name.span(), self.no_field(name, &others));
            }
        }
    }

    /// "no field `colls` in `Grid`; did you mean `cols`?", or the fields there are.
    fn no_field(&self, name: &Ident, others: &[String]) -> String {
        let mut msg = format!("no field `{name}` in `{}`", self.ident);
        let candidates: Vec<&str> = others.iter().map(String::as_str).collect();
        if let Some(best) = attributes::closest(&name.to_string(), &candidates) {
            msg += &format!("; did you mean `{best}`?");
        } else if candidates.is_empty() {
            msg += &format!(
                ": it has no field besides the buffer field `{}`; add one",
                self.buffer.ident
            );
        } else {
            msg += &format!(
                "; the fields it could name are {}",
                attributes::one_of(&candidates)
            );
        }
        msg
    }

    /// Listed shape and strides have one entry per dimension each.
    fn check_ranks(&self, errors: &Errors) {
        let buf = &self.buffer;
        let (Some(shape), Layout::Strides { strides, .. }) = (buf.shape(), buf.layout()) else {
            return;
        };
        if let (
            List::Entries { entries: dims, .. },
            List::Entries {
                entries: steps,
                span,
            },
        ) = (shape, strides)
        {
            if dims.len() != steps.len() {
                errors.error_at(
                    *span,
                    format!(
                        "expected {} strides, one per dimension of `shape`, found {}",
                        dims.len(),
                        steps.len()
                    ),
                );
            }
        }
    }
}

fn once<'a>(seen: &mut Vec<&'a str>, name: &'a str, span: Span, errors: &Errors) {
    if seen.contains(&name) {
        errors.error_at(span, format!("`{name}` may only be specified once"));
    } else {
        seen.push(name);
    }
}

fn list_fields<'a>(l: &'a List, names: &mut Vec<&'a Ident>) {
    match l {
        List::Field(f) => names.push(f),
        List::Entries { entries, .. } => names.extend(entries.iter().filter_map(entry_field)),
    }
}

fn entry_field(e: &Entry) -> Option<&Ident> {
    match e {
        Entry::Field(f) => Some(f),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::errors::tests::messages;
    use crate::errors::Errors;
    use crate::pybuffer::ast::Input;
    use crate::pybuffer::attr::StructAttrs;

    fn errors_of(node: syn::DeriveInput) -> Vec<String> {
        let errors = Errors::new();
        let top = StructAttrs::from_attrs(&node.attrs, &errors);
        top.validate(&errors);
        if let Some(input) = Input::from_syn(&node, &top, &errors) {
            input.validate(&errors);
        }
        messages(errors.check())
    }

    #[test]
    fn cross_key_rules() {
        let got = errors_of(syn::parse_quote! {
            #[buffer(pickle = false, pickle = true)]
            struct S<T> {
                #[buffer(shape = [rows, colls], readonly, readonly, writable, order = "C", strides = [8], offset = 0)]
                data: Vec<T>,
                #[buffer]
                other: Vec<u8>,
                rows: usize,
                cols: usize,
            }
        });
        assert_eq!(
            got,
            [
                "`pickle` may only be specified once",
                "generic parameters and lifetimes are not supported: a #[pyclass] cannot be generic",
                "only one field can be the buffer, and `data` is already marked `#[buffer]`",
                "`readonly` may only be specified once",
                "`writable` contradicts `readonly`: give one of them",
                "`order` and `strides` cannot both be given: explicit strides fix the order",
                "no field `colls` in `S`; did you mean `cols`?",
                "expected 2 strides, one per dimension of `shape`, found 1",
            ]
        );
    }

    #[test]
    fn missing_fields_list_the_candidates() {
        let got = errors_of(syn::parse_quote! {
            struct S {
                #[buffer(shape = [width, data], offset = 4)]
                data: Vec<u8>,
                rows: usize,
                cols: usize,
            }
        });
        assert_eq!(
            got,
            [
                "`offset` needs explicit `strides`: a contiguous buffer starts at its first element",
                "no field `width` in `S`; the fields it could name are `rows`, `cols`",
                "`data` is the buffer field itself; name another field",
            ]
        );
        let got = errors_of(syn::parse_quote! {
            struct S {
                #[buffer(shape = [n])]
                data: Vec<u8>,
            }
        });
        assert_eq!(
            got,
            ["no field `n` in `S`: it has no field besides the buffer field `data`; add one"]
        );
    }
}
