//! What the attributes of every macro share: typed keywords, `key = value` items, the runtime
//! crate path, and the "unknown key" error with its suggestion.
//!
//! Keys are `syn::custom_keyword!`s (pyo3-macros-backend's `attributes.rs`): an option enum per
//! attribute position peeks them, and `KeywordAttribute<K, V>` parses `key = value`, so no key
//! is ever matched as a string.

use std::fmt::Write as _;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

use crate::errors::Errors;

/// A key of an attribute: its name, and what its value looks like (for "expected `key =
/// VALUE`").
pub trait Keyword: Parse {
    const NAME: &'static str;
    const VALUE: &'static str;
    fn span(&self) -> Span;
}

macro_rules! keywords {
    ($($kw:ident => $value:literal,)*) => {
        $(
            syn::custom_keyword!($kw);
            impl $crate::attributes::Keyword for $kw {
                const NAME: &'static str = stringify!($kw);
                const VALUE: &'static str = $value;
                fn span(&self) -> proc_macro2::Span {
                    self.span
                }
            }
        )*
    };
}

/// The keys, and the attribute names (`buffer`, `element`).
pub mod kw {
    keywords! {
        shape => "[dims, ...]",
        strides => "[byte strides, ...]",
        offset => "byte offset",
        order => "\"C\" | \"F\" | field",
        readonly => "true | false | field",
        writable => "",
        element => "Type",
        pickle => "false",
        slots => "\"manual\"",
    }

    impl super::Keyword for syn::Token![crate] {
        const NAME: &'static str = "crate";
        const VALUE: &'static str = "\"path\"";
        fn span(&self) -> proc_macro2::Span {
            self.span
        }
    }
}

/// The attribute names.
pub const BUFFER: &str = "buffer";
pub const ELEMENT: &str = "element";

/// `key = value`.
pub struct KeywordAttribute<K, V> {
    pub kw: K,
    pub value: V,
}

impl<K: Keyword, V: Parse> Parse for KeywordAttribute<K, V> {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let kw: K = input.parse()?;
        if input.is_empty() {
            return Err(syn::Error::new(
                kw.span(),
                format!("expected `{} = {}`", K::NAME, K::VALUE),
            ));
        }
        let eq: Token![=] = input.parse()?;
        if input.is_empty() {
            return Err(syn::Error::new(
                eq.span,
                format!("expected a value for `{}`", K::NAME),
            ));
        }
        let value = input.parse()?;
        Ok(KeywordAttribute { kw, value })
    }
}

/// `key` or `key = value`.
pub struct OptionalKeywordAttribute<K, V> {
    pub kw: K,
    pub value: Option<V>,
}

impl<K: Keyword, V: Parse> Parse for OptionalKeywordAttribute<K, V> {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek2(Token![=]) {
            let KeywordAttribute { kw, value } = input.parse()?;
            return Ok(OptionalKeywordAttribute {
                kw,
                value: Some(value),
            });
        }
        Ok(OptionalKeywordAttribute {
            kw: input.parse()?,
            value: None,
        })
    }
}

/// A bare `key` that takes no value.
pub struct Flag<K>(pub K);

impl<K: Keyword> Parse for Flag<K> {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let kw: K = input.parse()?;
        if !input.is_empty() {
            let _: Option<Token![=]> = input.parse()?;
            let rest: TokenStream = input.parse()?;
            return Err(syn::Error::new_spanned(
                rest,
                format!("`{}` takes no value", K::NAME),
            ));
        }
        Ok(Flag(kw))
    }
}

/// The path of the runtime crate: `::buffer_runtime` unless `crate = "..."` says otherwise
/// (pyo3's `CrateAttribute`). The only place the default is spelled.
#[derive(Clone)]
pub struct Krate(syn::Path);

impl Default for Krate {
    fn default() -> Self {
        Krate(syn::parse_quote!(::buffer_runtime))
    }
}

impl Krate {
    /// `krate::__private`, what generated code calls.
    pub fn private(&self) -> TokenStream {
        let path = &self.0;
        quote!(#path::__private)
    }
}

impl ToTokens for Krate {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.0.to_tokens(tokens);
    }
}

impl Parse for Krate {
    /// `"path::to::buffer_runtime"`.
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let lit: LitStr = input.parse()?;
        lit.parse().map(Krate).map_err(|_| {
            syn::Error::new(lit.span(), "expected a path such as \"::buffer_runtime\"")
        })
    }
}

/// `crate = "path"`.
pub type CrateAttribute = KeywordAttribute<Token![crate], Krate>;

/// An attribute whose only key is `crate = "path"` (`#[element(...)]`, `#[buffer_methods(...)]`).
pub struct CrateOnly(pub CrateAttribute);

impl Parse for CrateOnly {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Token![crate]) {
            input.parse().map(CrateOnly)
        } else {
            Err(unknown_key(
                input,
                &[<Token![crate] as Keyword>::NAME],
                "",
                "",
            ))
        }
    }
}

/// Parses each comma-separated item of `#[name(...)]` as a `T`, separately, so that one bad
/// item does not hide the errors of the others. A bare `#[name]` has no items.
pub fn parse_items<T: Parse>(attr: &syn::Attribute, errors: &Errors) -> Vec<T> {
    match &attr.meta {
        syn::Meta::Path(_) => Vec::new(),
        syn::Meta::List(list) => parse_item_list(list.tokens.clone(), errors),
        syn::Meta::NameValue(nv) => {
            let name = attr.path().to_token_stream();
            errors.error_spanned_by(&nv.value, format!("expected `#[{name}(key = value, ...)]`"));
            Vec::new()
        }
    }
}

/// [`parse_items`] over the arguments of an attribute macro.
pub fn parse_item_list<T: Parse>(tokens: TokenStream, errors: &Errors) -> Vec<T> {
    let mut out = Vec::new();
    let mut item = TokenStream::new();
    let mut flush = |item: &mut TokenStream, comma: Option<Span>| {
        let tokens = std::mem::take(item);
        if tokens.is_empty() {
            if let Some(span) = comma {
                errors.error_at(span, "expected a key before `,`");
            }
            return;
        }
        if let Some(v) = errors.ok(syn::parse2::<T>(tokens)) {
            out.push(v);
        }
    };
    for t in tokens {
        match &t {
            TokenTree::Punct(p) if p.as_char() == ',' => flush(&mut item, Some(p.span())),
            _ => item.extend([t]),
        }
    }
    flush(&mut item, None); // after a trailing comma: nothing
    out
}

/// "unknown key `shap`; did you mean `shape`? expected one of ...", spanned on the key.
/// `place` follows the key (" on the struct"); `extra` is appended (where other keys belong).
pub fn unknown_key(input: ParseStream, keys: &[&str], place: &str, extra: &str) -> syn::Error {
    let expected = match keys {
        [one] => format!("expected `{one}`"),
        _ => format!("expected one of {}", one_of(keys)),
    };
    let Ok(key) = input.call(Ident::parse_any) else {
        return input.error(expected);
    };
    let key = key.unraw();
    let mut msg = format!("unknown key `{key}`{place}");
    match closest(&key.to_string(), keys) {
        Some(best) if keys.len() == 1 => {
            let _ = write!(msg, "; did you mean `{best}`?{extra}");
        }
        Some(best) => {
            let _ = write!(msg, "; did you mean `{best}`? {expected}{extra}");
        }
        None => {
            let _ = write!(msg, "; {expected}{extra}");
        }
    }
    syn::Error::new(key.span(), msg)
}

/// "`a`, `b`, `c`".
pub fn one_of(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The candidate closest to `word` by edit distance, if close enough to be a typo: at most a
/// third of the longer word's length, and at least one edit (rustc's rule for suggestions).
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|&(d, c)| d > 0 && d <= word.len().max(c.len()).max(3) / 3)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let keys = [
            "shape", "strides", "offset", "order", "readonly", "writable",
        ];
        for (typo, want) in [
            ("shap", Some("shape")),
            ("shapes", Some("shape")),
            ("stride", Some("strides")),
            ("ofset", Some("offset")),
            ("read_only", Some("readonly")),
            ("writeable", Some("writable")),
            ("layout", None),
            ("x", None),
            ("shape", None),
        ] {
            assert_eq!(closest(typo, &keys), want, "{typo}");
        }
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("shape", "shape"), 0);
    }
}
