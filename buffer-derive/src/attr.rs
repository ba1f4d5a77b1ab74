//! Parsing of `#[buffer(...)]` attributes into typed values, with every error spanned on the
//! user's token.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit, Token};

use crate::errors::Errors;

/// Attribute and key names.
pub const BUFFER: &str = "buffer";
pub const SHAPE: &str = "shape";
pub const STRIDES: &str = "strides";
pub const OFFSET: &str = "offset";
pub const ORDER: &str = "order";
pub const READONLY: &str = "readonly";
pub const WRITABLE: &str = "writable";
pub const ELEMENT: &str = "element";
pub const CRATE: &str = "crate";
pub const PICKLE: &str = "pickle";

const FIELD_KEYS: &[&str] = &[SHAPE, STRIDES, OFFSET, ORDER, READONLY, WRITABLE, ELEMENT];

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

/// A value with the span of its key, for errors about the key.
pub struct Keyed<T> {
    pub key: Ident,
    pub value: T,
}

/// Everything `#[buffer(...)]` on the buffer field says.
#[derive(Default)]
pub struct FieldAttr {
    pub shape: Option<Keyed<List>>,
    pub strides: Option<Keyed<List>>,
    pub offset: Option<Keyed<Entry>>,
    pub order: Option<Keyed<OrderValue>>,
    pub readonly: Option<Keyed<ReadonlyValue>>,
    /// `element = T`: the item type the buffer presents, instead of the storage's.
    pub element: Option<Keyed<syn::Type>>,
}

/// One `key` or `key = value` item of an attribute, before its value is parsed.
struct Item {
    key: Ident,
    value: Option<TokenStream>,
}

/// Splits an attribute's arguments at top-level commas, so that one bad value does not hide
/// the errors of the others.
fn items(attr: &syn::Attribute) -> syn::Result<Vec<Item>> {
    if let syn::Meta::Path(_) = attr.meta {
        return Ok(Vec::new()); // bare `#[buffer]`
    }
    attr.parse_args_with(|input: ParseStream| {
        let mut out = Vec::new();
        while !input.is_empty() {
            let key = input.call(Ident::parse_any)?;
            let value = if input.peek(Token![=]) {
                let eq: Token![=] = input.parse()?;
                let mut tokens = TokenStream::new();
                while !input.is_empty() && !input.peek(Token![,]) {
                    tokens.extend([input.parse::<TokenTree>()?]);
                }
                if tokens.is_empty() {
                    return Err(syn::Error::new(
                        eq.span,
                        format!("expected a value for `{key}`"),
                    ));
                }
                Some(tokens)
            } else {
                None
            };
            out.push(Item { key, value });
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(out)
    })
}

fn expect_value(item: &Item, what: &str) -> syn::Result<TokenStream> {
    item.value.clone().ok_or_else(|| {
        syn::Error::new(item.key.span(), format!("expected `{} = {what}`", item.key))
    })
}

fn set_once<T>(slot: &mut Option<Keyed<T>>, key: &Ident, value: T, errors: &mut Errors) {
    if slot.is_some() {
        errors.push(syn::Error::new(
            key.span(),
            format!("`{key}` may only be specified once"),
        ));
    } else {
        *slot = Some(Keyed {
            key: key.clone(),
            value,
        });
    }
}

/// `readonly` and `writable` share one slot: giving both is a contradiction.
fn set_readonly(
    slot: &mut Option<Keyed<ReadonlyValue>>,
    key: &Ident,
    value: ReadonlyValue,
    errors: &mut Errors,
) {
    match slot {
        Some(prev) if prev.key != *key => errors.push(syn::Error::new(
            key.span(),
            format!("`{key}` contradicts `{}`: give one of them", prev.key),
        )),
        _ => set_once(slot, key, value, errors),
    }
}

/// Parses `#[buffer(...)]` on the buffer field.
pub fn parse_field_attr(attr: &syn::Attribute, out: &mut FieldAttr, errors: &mut Errors) {
    let Some(items) = errors.push_result(items(attr)) else {
        return;
    };
    for item in items {
        let key = item.key.to_string();
        let parsed = match key.as_str() {
            ELEMENT => expect_value(&item, "Type")
                .and_then(syn::parse2::<syn::Type>)
                .map(|v| set_once(&mut out.element, &item.key, v, errors)),
            SHAPE => expect_value(&item, "[dims, ...]")
                .and_then(|v| parse_list(v, false))
                .map(|v| set_once(&mut out.shape, &item.key, v, errors)),
            STRIDES => expect_value(&item, "[byte strides, ...]")
                .and_then(|v| parse_list(v, true))
                .map(|v| set_once(&mut out.strides, &item.key, v, errors)),
            OFFSET => expect_value(&item, "byte offset")
                .and_then(|v| Parser::parse2(|s: ParseStream| parse_entry(s, true), v))
                .map(|v| set_once(&mut out.offset, &item.key, v, errors)),
            ORDER => expect_value(&item, "\"C\" | \"F\" | field")
                .and_then(parse_order)
                .map(|v| set_once(&mut out.order, &item.key, v, errors)),
            READONLY => match &item.value {
                None => Ok(set_readonly(
                    &mut out.readonly,
                    &item.key,
                    ReadonlyValue::Yes,
                    errors,
                )),
                Some(v) => parse_readonly(v.clone())
                    .map(|v| set_readonly(&mut out.readonly, &item.key, v, errors)),
            },
            WRITABLE => match &item.value {
                None => Ok(set_readonly(
                    &mut out.readonly,
                    &item.key,
                    ReadonlyValue::No,
                    errors,
                )),
                Some(v) => Err(syn::Error::new(v.span(), "`writable` takes no value")),
            },
            _ => Err(syn::Error::new(
                item.key.span(),
                format!(
                    "unknown key `{key}`; expected one of {}",
                    one_of(FIELD_KEYS)
                ),
            )),
        };
        errors.push_result(parsed);
    }
}

/// What `#[buffer(...)]` on the struct says.
#[derive(Default)]
pub struct StructAttr {
    /// `crate = "path"`.
    pub krate: Option<syn::Path>,
    /// `pickle = false`: no pickle / copy support (the class's fields need not convert).
    pub pickle: Option<Keyed<bool>>,
}

/// Parses struct-level `#[buffer(crate = "path", pickle = false)]`.
pub fn parse_struct_attr(attr: &syn::Attribute, out: &mut StructAttr, errors: &mut Errors) {
    let Some(items) = errors.push_result(items(attr)) else {
        return;
    };
    for item in items {
        let parsed = if item.key == CRATE {
            expect_value(&item, "\"path\"")
                .and_then(parse_crate_path)
                .map(|p| {
                    if out.krate.is_some() {
                        errors.push(syn::Error::new(
                            item.key.span(),
                            "`crate` may only be specified once",
                        ));
                    }
                    out.krate = Some(p);
                })
        } else if item.key == PICKLE {
            expect_value(&item, "false")
                .and_then(syn::parse2::<syn::LitBool>)
                .map(|b| set_once(&mut out.pickle, &item.key, b.value, errors))
        } else {
            Err(syn::Error::new(
                item.key.span(),
                format!(
                    "unknown key `{}` on the struct; expected `crate` or `pickle`, or put `#[buffer(...)]` on the field that holds the data",
                    item.key
                ),
            ))
        };
        errors.push_result(parsed);
    }
}

/// `"path::to::buffer_runtime"`.
pub fn parse_crate_path(tokens: TokenStream) -> syn::Result<syn::Path> {
    let lit: syn::LitStr = syn::parse2(tokens)?;
    lit.parse::<syn::Path>()
        .map_err(|_| syn::Error::new(lit.span(), "expected a path such as \"::buffer_runtime\""))
}

fn one_of(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_list(tokens: TokenStream, signed: bool) -> syn::Result<List> {
    let span = tokens.span();
    Parser::parse2(
        |input: ParseStream| {
            if input.peek(syn::token::Bracket) {
                let content;
                syn::bracketed!(content in input);
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
        },
        tokens,
    )
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

fn parse_order(tokens: TokenStream) -> syn::Result<OrderValue> {
    Parser::parse2(
        |input: ParseStream| {
            if input.peek(Ident) {
                return Ok(OrderValue::Field(input.parse()?));
            }
            let lit: syn::LitStr = input.parse().map_err(|e| {
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
        },
        tokens,
    )
}

fn parse_readonly(tokens: TokenStream) -> syn::Result<ReadonlyValue> {
    Parser::parse2(
        |input: ParseStream| {
            if input.peek(syn::LitBool) {
                let b: syn::LitBool = input.parse()?;
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
        },
        tokens,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses one field attribute; returns what it says and every error message.
    fn parse(attr: syn::Attribute) -> (FieldAttr, Vec<String>) {
        let mut out = FieldAttr::default();
        let mut errors = Errors::default();
        parse_field_attr(&attr, &mut out, &mut errors);
        let messages = errors
            .to_compile_errors()
            .into_iter()
            .filter_map(|t| match t {
                TokenTree::Group(g) => syn::parse2::<syn::LitStr>(g.stream()).ok(),
                _ => None,
            })
            .map(|lit| lit.value())
            .collect();
        (out, messages)
    }

    #[test]
    fn entries_of_every_kind() {
        let (a, errors) = parse(
            syn::parse_quote!(#[buffer(shape = [rows, 3, { N * 2 }], strides = [-8, stride], offset = -4)]),
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Some(Keyed {
            value: List::Entries { entries, .. },
            ..
        }) = a.shape
        else {
            panic!("shape")
        };
        assert!(
            matches!(&entries[..], [Entry::Field(f), Entry::Int { value: 3, .. }, Entry::Const(_)] if f == "rows")
        );
        let Some(Keyed {
            value: List::Entries { entries, .. },
            ..
        }) = a.strides
        else {
            panic!("strides")
        };
        assert!(matches!(
            &entries[..],
            [Entry::Int { value: -8, .. }, Entry::Field(_)]
        ));
        assert!(matches!(
            a.offset,
            Some(Keyed {
                value: Entry::Int { value: -4, .. },
                ..
            })
        ));
    }

    #[test]
    fn whole_list_fields_and_flags() {
        let (a, errors) =
            parse(syn::parse_quote!(#[buffer(shape = dims, order = "F", readonly = flag)]));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(matches!(
            a.shape,
            Some(Keyed {
                value: List::Field(_),
                ..
            })
        ));
        assert!(matches!(
            a.order,
            Some(Keyed {
                value: OrderValue::F,
                ..
            })
        ));
        assert!(matches!(
            a.readonly,
            Some(Keyed {
                value: ReadonlyValue::Field(_),
                ..
            })
        ));
        let (a, _) = parse(syn::parse_quote!(#[buffer(writable)]));
        assert!(matches!(
            a.readonly,
            Some(Keyed {
                value: ReadonlyValue::No,
                ..
            })
        ));
    }

    #[test]
    fn every_bad_item_is_reported() {
        let (_, errors) = parse(syn::parse_quote!(
            #[buffer(shape = [a], shape = [b], layout = "C", order = "A", readonly, writable, strides = [-x])]
        ));
        let expected = [
            "`shape` may only be specified once",
            "unknown key `layout`; expected one of `shape`, `strides`, `offset`, `order`, `readonly`, `writable`, `element`",
            "unsupported order \"A\"; expected \"C\" or \"F\"",
            "`writable` contradicts `readonly`: give one of them",
            "expected a field name, an integer literal or `{ const expression }`",
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:?}");
        for (got, want) in errors.iter().zip(expected) {
            assert_eq!(got, want);
        }
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
    }
}
