//! Parsing of `#[buffer(...)]` attributes into typed options, each error spanned on the
//! user's token. Which options may go together is `valid.rs`'s business: here every option
//! is kept, in source order.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, Lit, LitBool, LitStr, Token};

use crate::attributes::{
    self, kw, CrateAttribute, Flag, Keyword, KeywordAttribute, Krate, OptionalKeywordAttribute,
};
use crate::errors::Errors;

/// One entry of a `shape`, `strides` or `offset` value.
#[derive(Clone)]
pub enum Entry {
    /// A field of the struct, read at every export.
    Field(Ident),
    /// An integer literal (negative allowed for strides and offset).
    Int { value: i128, span: Span },
    /// `{ const expression }`.
    Const(syn::ExprBlock),
}

/// `shape = [..]` or `strides = [..]` (a list of entries) or `= field` (a field holding all).
pub enum List {
    Entries { entries: Vec<Entry>, span: Span },
    Field(Ident),
}

/// A value whose integers may be negative (strides and offset); dims may not.
pub struct Signed<T>(pub T);

/// `order = "C" | "F" | field`.
pub enum OrderValue {
    C,
    F,
    Field(Ident),
}

/// `readonly`, `readonly = bool | field`, `writable`.
pub enum ReadonlyValue {
    Yes,
    No,
    Field(Ident),
}

/// `slots = "manual"`: the class writes `__getbuffer__` / `__releasebuffer__` itself.
pub struct Manual;

/// One item of `#[buffer(...)]` on the buffer field.
pub enum FieldOption {
    Shape(KeywordAttribute<kw::shape, List>),
    Strides(KeywordAttribute<kw::strides, Signed<List>>),
    Offset(KeywordAttribute<kw::offset, Signed<Entry>>),
    Order(KeywordAttribute<kw::order, OrderValue>),
    Readonly(OptionalKeywordAttribute<kw::readonly, ReadonlyValue>),
    Writable(Flag<kw::writable>),
    /// `element = T`: the item type the buffer presents, instead of the storage's.
    Element(KeywordAttribute<kw::element, syn::Type>),
}

pub const FIELD_KEYS: &[&str] = &[
    kw::shape::NAME,
    kw::strides::NAME,
    kw::offset::NAME,
    kw::order::NAME,
    kw::readonly::NAME,
    kw::writable::NAME,
    kw::element::NAME,
];

/// One item of `#[buffer(...)]` on the struct.
pub enum StructOption {
    Crate(CrateAttribute),
    /// `pickle = false`: no pickle / copy support (the class's fields need not convert).
    Pickle(KeywordAttribute<kw::pickle, LitBool>),
    Slots(KeywordAttribute<kw::slots, Manual>),
}

pub const STRUCT_KEYS: &[&str] = &[
    <Token![crate] as Keyword>::NAME,
    kw::pickle::NAME,
    kw::slots::NAME,
];

impl FieldOption {
    /// The key's name and span, for errors about the key.
    pub fn key(&self) -> (&'static str, Span) {
        fn of<K: Keyword>(k: &K) -> (&'static str, Span) {
            (K::NAME, k.span())
        }
        match self {
            FieldOption::Shape(a) => of(&a.kw),
            FieldOption::Strides(a) => of(&a.kw),
            FieldOption::Offset(a) => of(&a.kw),
            FieldOption::Order(a) => of(&a.kw),
            FieldOption::Readonly(a) => of(&a.kw),
            FieldOption::Writable(a) => of(&a.0),
            FieldOption::Element(a) => of(&a.kw),
        }
    }
}

impl StructOption {
    pub fn key(&self) -> (&'static str, Span) {
        fn of<K: Keyword>(k: &K) -> (&'static str, Span) {
            (K::NAME, k.span())
        }
        match self {
            StructOption::Crate(a) => of(&a.kw),
            StructOption::Pickle(a) => of(&a.kw),
            StructOption::Slots(a) => of(&a.kw),
        }
    }
}

impl Parse for FieldOption {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(kw::shape) {
            input.parse().map(FieldOption::Shape)
        } else if input.peek(kw::strides) {
            input.parse().map(FieldOption::Strides)
        } else if input.peek(kw::offset) {
            input.parse().map(FieldOption::Offset)
        } else if input.peek(kw::order) {
            input.parse().map(FieldOption::Order)
        } else if input.peek(kw::readonly) {
            input.parse().map(FieldOption::Readonly)
        } else if input.peek(kw::writable) {
            input.parse().map(FieldOption::Writable)
        } else if input.peek(kw::element) {
            input.parse().map(FieldOption::Element)
        } else {
            let on_struct =
                input.peek(Token![crate]) || input.peek(kw::pickle) || input.peek(kw::slots);
            let hint = if on_struct {
                "; this key belongs in `#[buffer(...)]` on the struct"
            } else {
                ""
            };
            Err(attributes::unknown_key(input, FIELD_KEYS, "", hint))
        }
    }
}

impl Parse for StructOption {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Token![crate]) {
            input.parse().map(StructOption::Crate)
        } else if input.peek(kw::pickle) {
            input.parse().map(StructOption::Pickle)
        } else if input.peek(kw::slots) {
            input.parse().map(StructOption::Slots)
        } else {
            Err(attributes::unknown_key(
                input,
                STRUCT_KEYS,
                " on the struct",
                ", or put `#[buffer(...)]` on the field that holds the data",
            ))
        }
    }
}

/// Everything `#[buffer(...)]` on the buffer field says, in source order.
#[derive(Default)]
pub struct FieldAttrs {
    pub options: Vec<FieldOption>,
}

impl FieldAttrs {
    pub fn from_attrs<'a>(
        attrs: impl IntoIterator<Item = &'a syn::Attribute>,
        errors: &Errors,
    ) -> Self {
        let mut options = Vec::new();
        for a in attrs {
            options.extend(attributes::parse_items(a, errors));
        }
        FieldAttrs { options }
    }
}

/// Everything `#[buffer(...)]` on the struct says, in source order.
#[derive(Default)]
pub struct StructAttrs {
    pub options: Vec<StructOption>,
    /// The runtime crate: the first `crate = "..."`, or the default.
    pub krate: Krate,
}

impl StructAttrs {
    pub fn from_attrs(attrs: &[syn::Attribute], errors: &Errors) -> Self {
        let mut options = Vec::new();
        for a in attrs
            .iter()
            .filter(|a| a.path().is_ident(attributes::BUFFER))
        {
            options.extend(attributes::parse_items(a, errors));
        }
        let krate = options
            .iter()
            .find_map(|o| match o {
                StructOption::Crate(c) => Some(c.value.clone()),
                _ => None,
            })
            .unwrap_or_default();
        StructAttrs { options, krate }
    }

    /// Whether the class pickles (`pickle = false` says no).
    pub fn pickle(&self) -> bool {
        self.options
            .iter()
            .find_map(|o| match o {
                StructOption::Pickle(p) => Some(p.value.value),
                _ => None,
            })
            .unwrap_or(true)
    }

    /// Whether `#[buffer_methods]` provides the slots (`slots = "manual"` says no).
    pub fn generated_slots(&self) -> bool {
        !self
            .options
            .iter()
            .any(|o| matches!(o, StructOption::Slots(_)))
    }
}

impl Parse for List {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        parse_list(input, false)
    }
}

impl Parse for Signed<List> {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        parse_list(input, true).map(Signed)
    }
}

impl Parse for Signed<Entry> {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        parse_entry(input, true).map(Signed)
    }
}

fn parse_list(input: ParseStream, signed: bool) -> syn::Result<List> {
    if input.peek(syn::token::Bracket) {
        let content;
        let span = syn::bracketed!(content in input).span.join();
        let mut entries = Vec::new();
        while !content.is_empty() {
            entries.push(parse_entry(&content, signed)?);
            if !content.is_empty() {
                content.parse::<Token![,]>()?;
            }
        }
        Ok(List::Entries { entries, span })
    } else if input.peek(Ident) && input.peek2(syn::parse::End) {
        Ok(List::Field(input.parse()?))
    } else {
        Err(input.error("expected `[entry, ...]` or the name of a field holding them all"))
    }
}

/// A field name, an integer literal (`-` allowed if `signed`) or `{ const expression }`.
fn parse_entry(input: ParseStream, signed: bool) -> syn::Result<Entry> {
    let expr: Expr = input.parse()?;
    match &expr {
        Expr::Block(b) if b.attrs.is_empty() && b.label.is_none() => Ok(Entry::Const(b.clone())),
        Expr::Path(p) if p.attrs.is_empty() && p.qself.is_none() => match p.path.get_ident() {
            Some(ident) => Ok(Entry::Field(ident.clone())),
            None => Err(bad_entry(&expr, signed)),
        },
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(int), ..
        }) => Ok(Entry::Int {
            value: int.base10_parse()?,
            span: int.span(),
        }),
        Expr::Unary(u) if signed && matches!(u.op, syn::UnOp::Neg(_)) => match &*u.expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(int), ..
            }) => {
                let value: i128 = int.base10_parse()?;
                Ok(Entry::Int {
                    value: -value,
                    span: int.span(),
                })
            }
            _ => Err(bad_entry(&expr, signed)),
        },
        _ => Err(bad_entry(&expr, signed)),
    }
}

fn bad_entry(expr: &Expr, signed: bool) -> syn::Error {
    let int = if signed {
        "an integer literal"
    } else {
        "a non-negative integer literal"
    };
    let hint = match expr {
        Expr::Binary(_) | Expr::MethodCall(_) | Expr::Call(_) | Expr::Field(_) => {
            "; an expression over fields is not supported: store the value in a field and name it"
        }
        _ => "",
    };
    syn::Error::new_spanned(
        expr,
        format!("expected a field name, {int} or `{{ const expression }}`{hint}"),
    )
}

impl Parse for OrderValue {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Ident) {
            return Ok(OrderValue::Field(input.parse()?));
        }
        let lit: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected \"C\", \"F\" or a field of type `buffer_runtime::Order`",
            )
        })?;
        match lit.value().as_str() {
            "C" => Ok(OrderValue::C),
            "F" => Ok(OrderValue::F),
            other => Err(syn::Error::new(
                lit.span(),
                format!("unsupported order \"{other}\"; expected \"C\" or \"F\""),
            )),
        }
    }
}

impl Parse for ReadonlyValue {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitBool) {
            let b: LitBool = input.parse()?;
            return Ok(if b.value {
                ReadonlyValue::Yes
            } else {
                ReadonlyValue::No
            });
        }
        if input.peek(Ident) {
            return Ok(ReadonlyValue::Field(input.parse()?));
        }
        Err(input.error("expected `true`, `false` or the name of a `bool` field"))
    }
}

impl Parse for Manual {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let lit: LitStr = input.parse()?;
        if lit.value() != "manual" {
            return Err(syn::Error::new(
                lit.span(),
                "expected `slots = \"manual\"`: the class writes `__getbuffer__` and `__releasebuffer__` itself; without the key, `#[buffer_methods]` generates them",
            ));
        }
        Ok(Manual)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::tests::messages;

    /// Parses one field attribute; returns its options and every error message.
    fn parse(attr: syn::Attribute) -> (FieldAttrs, Vec<String>) {
        let errors = Errors::new();
        let out = FieldAttrs::from_attrs([&attr], &errors);
        (out, messages(errors.check()))
    }

    fn shape(a: &FieldAttrs) -> Option<&List> {
        a.options.iter().find_map(|o| match o {
            FieldOption::Shape(s) => Some(&s.value),
            _ => None,
        })
    }

    #[test]
    fn entries_of_every_kind() {
        let (a, errors) = parse(
            syn::parse_quote!(#[buffer(shape = [rows, 3, { N * 2 }], strides = [-8, stride], offset = -4)]),
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Some(List::Entries { entries, .. }) = shape(&a) else {
            panic!("shape")
        };
        assert!(
            matches!(&entries[..], [Entry::Field(f), Entry::Int { value: 3, .. }, Entry::Const(_)] if f == "rows")
        );
        let Some(FieldOption::Strides(KeywordAttribute {
            value: Signed(List::Entries { entries, .. }),
            ..
        })) = a.options.get(1)
        else {
            panic!("strides")
        };
        assert!(matches!(
            &entries[..],
            [Entry::Int { value: -8, .. }, Entry::Field(_)]
        ));
        assert!(matches!(
            a.options.get(2),
            Some(FieldOption::Offset(KeywordAttribute {
                value: Signed(Entry::Int { value: -4, .. }),
                ..
            }))
        ));
    }

    #[test]
    fn whole_list_fields_and_flags() {
        let (a, errors) =
            parse(syn::parse_quote!(#[buffer(shape = dims, order = "F", readonly = flag)]));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(matches!(shape(&a), Some(List::Field(_))));
        assert!(matches!(
            &a.options[1],
            FieldOption::Order(KeywordAttribute {
                value: OrderValue::F,
                ..
            })
        ));
        assert!(matches!(
            &a.options[2],
            FieldOption::Readonly(OptionalKeywordAttribute {
                value: Some(ReadonlyValue::Field(_)),
                ..
            })
        ));
        let (a, _) = parse(syn::parse_quote!(#[buffer(writable)]));
        assert!(matches!(&a.options[..], [FieldOption::Writable(_)]));
    }

    #[test]
    fn every_bad_item_is_reported() {
        let (a, errors) = parse(syn::parse_quote!(
            #[buffer(shape = [a], shape = [b], layout = "C", order = "A", shap = [1], strides = [-x], writable = yes)]
        ));
        let expected = [
            "unknown key `layout`; expected one of `shape`, `strides`, `offset`, `order`, `readonly`, `writable`, `element`",
            "unsupported order \"A\"; expected \"C\" or \"F\"",
            "unknown key `shap`; did you mean `shape`? expected one of `shape`, `strides`, `offset`, `order`, `readonly`, `writable`, `element`",
            "expected a field name, an integer literal or `{ const expression }`",
            "`writable` takes no value",
        ];
        assert_eq!(errors, expected);
        // Duplicates are kept, for `valid.rs` to report.
        assert_eq!(a.options.len(), 2);
    }

    #[test]
    fn negative_dims_and_field_expressions_are_refused() {
        let (_, errors) = parse(syn::parse_quote!(#[buffer(shape = [-1, w + 1])]));
        assert_eq!(
            errors.len(),
            1,
            "parsing a list stops at its first bad entry: {errors:?}"
        );
        assert!(
            errors[0].contains("a non-negative integer literal"),
            "{errors:?}"
        );
        let (_, errors) = parse(syn::parse_quote!(#[buffer(shape = [w + 1])]));
        assert!(
            errors[0].contains("an expression over fields is not supported"),
            "{errors:?}"
        );
        let (_, errors) = parse(syn::parse_quote!(#[buffer(shape)]));
        assert_eq!(errors, ["expected `shape = [dims, ...]`"]);
        let (_, errors) = parse(syn::parse_quote!(#[buffer(shape =)]));
        assert_eq!(errors, ["expected a value for `shape`"]);
    }

    #[test]
    fn struct_keys() {
        let errors = Errors::new();
        let input: syn::DeriveInput = syn::parse_quote! {
            #[buffer(crate = "::rt", pickle = false, slots = "manual", pickel = true, shape = [1])]
            struct S;
        };
        let a = StructAttrs::from_attrs(&input.attrs, &errors);
        assert!(!a.pickle());
        assert!(!a.generated_slots());
        let msgs = messages(errors.check());
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs[0].contains("did you mean `pickle`?"), "{msgs:?}");
        assert!(msgs[1].contains("unknown key `shape`"), "{msgs:?}");
    }
}
