//! Spans for generated tokens: rustc reports an error about generated code at the spans of
//! its tokens, so these put them on the user's own tokens.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;

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

/// `path(args)` spanned over the whole field type `ty`: the path's first tokens at its first
/// token, its last one and the parentheses at its last token, so that rustc's errors about the
/// call underline the field's type (as far as rustc joins the spans of macro output).
pub fn call_over(ty: &syn::Type, path: TokenStream, args: TokenStream) -> TokenStream {
    let mut tokens = ty.to_token_stream().into_iter();
    let lo = tokens.next().map_or_else(Span::call_site, |t| t.span());
    let hi = tokens.last().map_or(lo, |t| t.span());
    let mut path: Vec<TokenTree> = respan(&path, lo).into_iter().collect();
    if let Some(TokenTree::Ident(last)) = path.last_mut() {
        *last = Ident::new(&last.to_string(), hi);
    }
    let mut group = Group::new(Delimiter::Parenthesis, args);
    group.set_span(hi);
    path.into_iter().chain([TokenTree::Group(group)]).collect()
}
