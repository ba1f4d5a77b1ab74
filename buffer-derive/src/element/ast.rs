//! The input model of `#[derive(Element)]`: the struct, its `repr`, its fields in order.

use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Member};

use crate::attributes::{self, Krate};
use crate::errors::Errors;
use crate::repr::Repr;

pub struct Input<'a> {
    pub ident: &'a syn::Ident,
    pub generics: &'a syn::Generics,
    pub repr: Repr,
    /// The runtime crate: the first `#[element(crate = "...")]`, or the default.
    pub krate: Krate,
    /// Every `crate = ...`, for the "only once" rule.
    pub crate_keys: Vec<proc_macro2::Span>,
    pub fields: Vec<Field<'a>>,
}

/// One field as the expansion needs it.
pub struct Field<'a> {
    pub member: Member,
    /// The name numpy sees (`""` for tuple struct fields).
    pub name: String,
    pub ty: &'a syn::Type,
}

impl<'a> Input<'a> {
    /// Builds the model; `None` (with the error recorded) for an enum or a union.
    pub fn from_syn(node: &'a DeriveInput, errors: &Errors) -> Option<Input<'a>> {
        let mut krate = None;
        let mut crate_keys = Vec::new();
        for a in node
            .attrs
            .iter()
            .filter(|a| a.path().is_ident(attributes::ELEMENT))
        {
            for attributes::CrateOnly(c) in attributes::parse_items(a, errors) {
                crate_keys.push(c.kw.span);
                krate.get_or_insert(c.value);
            }
        }
        let data = match &node.data {
            Data::Struct(s) => s,
            Data::Enum(e) => {
                errors.error_at(
                    e.enum_token.span(),
                    "#[derive(Element)] needs a `#[repr(C)]` struct, not an enum",
                );
                return None;
            }
            Data::Union(u) => {
                errors.error_at(
                    u.union_token.span(),
                    "#[derive(Element)] needs a `#[repr(C)]` struct, not a union",
                );
                return None;
            }
        };
        let fields = match &data.fields {
            Fields::Named(named) => named
                .named
                .iter()
                .filter_map(|f| {
                    let ident = f.ident.clone()?;
                    Some(Field {
                        name: ident.unraw().to_string(),
                        member: Member::Named(ident),
                        ty: &f.ty,
                    })
                })
                .collect(),
            Fields::Unnamed(unnamed) => unnamed
                .unnamed
                .iter()
                .enumerate()
                .map(|(i, f)| Field {
                    member: Member::Unnamed(syn::Index {
                        index: i as u32,
                        span: f.ty.span(),
                    }),
                    name: String::new(),
                    ty: &f.ty,
                })
                .collect(),
            Fields::Unit => Vec::new(),
        };
        Some(Input {
            ident: &node.ident,
            generics: &node.generics,
            repr: Repr::from_attrs(&node.attrs),
            krate: krate.unwrap_or_default(),
            crate_keys,
            fields,
        })
    }
}
