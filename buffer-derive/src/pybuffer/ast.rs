//! The derive's input model: the struct, its buffer field and what the annotation says. It
//! borrows from syn, so every error can point at the user's tokens. Building it reports only
//! what leaves no model to build (not a struct with named fields, no buffer field); every
//! other rule is `valid.rs`'s.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{DeriveInput, Ident, Type};

use super::attr::{
    Entry, FieldAttrs, FieldOption, List, OrderValue, ReadonlyValue, Signed, StructAttrs,
};
use crate::attributes::{self, KeywordAttribute};
use crate::errors::Errors;

pub struct Input<'a> {
    pub ident: &'a Ident,
    pub generics: &'a syn::Generics,
    /// What the struct's own `#[buffer(...)]` says (crate path, pickle, slots).
    pub top: &'a StructAttrs,
    /// Named fields with their types, for resolving names in the annotation.
    pub fields: Vec<(&'a Ident, &'a Type)>,
    pub buffer: BufferField<'a>,
    /// `#[buffer]` attributes of other fields than the buffer field (only one may be).
    pub extra_marks: Vec<&'a syn::Attribute>,
}

pub struct BufferField<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    /// The storage's element type, when `ty` is a storage type the derive recognises by name,
    /// so that a bad element is reported on the element's own tokens.
    pub storage_element: Option<&'a Type>,
    pub attrs: FieldAttrs,
}

/// How elements are placed.
pub enum Layout<'a> {
    Order(Option<&'a OrderValue>),
    Strides {
        strides: &'a List,
        offset: Option<&'a Entry>,
    },
}

fn is_buffer_attr(a: &syn::Attribute) -> bool {
    a.path().is_ident(attributes::BUFFER)
}

impl<'a> Input<'a> {
    /// Builds the model; `None` (with the error recorded) if there is none to build.
    pub fn from_syn(
        node: &'a DeriveInput,
        top: &'a StructAttrs,
        errors: &Errors,
    ) -> Option<Input<'a>> {
        let named = match &node.data {
            syn::Data::Struct(s) => match &s.fields {
                syn::Fields::Named(n) => n,
                syn::Fields::Unnamed(u) => {
                    errors.error_at(
                        u.span(),
                        "tuple structs are not supported: give the fields names so that `shape` and `strides` can refer to them",
                    );
                    return None;
                }
                syn::Fields::Unit => {
                    errors.error_at(
                        node.ident.span(),
                        "a unit struct has no data to export: add a field marked `#[buffer]`",
                    );
                    return None;
                }
            },
            syn::Data::Enum(e) => {
                errors.error_at(
                    e.enum_token.span(),
                    "#[derive(PyBuffer)] works on structs only, not on enums",
                );
                return None;
            }
            syn::Data::Union(u) => {
                errors.error_at(
                    u.union_token.span(),
                    "#[derive(PyBuffer)] works on structs only, not on unions",
                );
                return None;
            }
        };

        let fields: Vec<_> = named
            .named
            .iter()
            .filter_map(|f| f.ident.as_ref().map(|i| (i, &f.ty)))
            .collect();
        let mut marked = named
            .named
            .iter()
            .filter(|f| f.attrs.iter().any(is_buffer_attr));
        let Some(field) = marked.next() else {
            errors.error_at(
                node.ident.span(),
                "no buffer field: mark the field that holds the data with `#[buffer]` or `#[buffer(shape = [...])]`",
            );
            return None;
        };
        let extra_marks = marked
            .filter_map(|f| f.attrs.iter().find(|a| is_buffer_attr(a)))
            .collect();
        Some(Input {
            ident: &node.ident,
            generics: &node.generics,
            top,
            fields,
            buffer: BufferField {
                ident: field.ident.as_ref()?,
                ty: &field.ty,
                storage_element: storage_element(&field.ty),
                attrs: FieldAttrs::from_attrs(
                    field.attrs.iter().filter(|a| is_buffer_attr(a)),
                    errors,
                ),
            },
            extra_marks,
        })
    }
}

/// What the annotation says, each key's first occurrence (`valid.rs` rejects a second one).
impl BufferField<'_> {
    fn find<'s, T>(&'s self, f: impl Fn(&'s FieldOption) -> Option<T>) -> Option<T> {
        self.attrs.options.iter().find_map(f)
    }

    pub fn shape(&self) -> Option<&List> {
        self.find(|o| match o {
            FieldOption::Shape(KeywordAttribute { value, .. }) => Some(value),
            _ => None,
        })
    }

    pub fn layout(&self) -> Layout<'_> {
        let strides = self.find(|o| match o {
            FieldOption::Strides(KeywordAttribute {
                value: Signed(s), ..
            }) => Some(s),
            _ => None,
        });
        match strides {
            Some(strides) => Layout::Strides {
                strides,
                offset: self.find(|o| match o {
                    FieldOption::Offset(KeywordAttribute {
                        value: Signed(e), ..
                    }) => Some(e),
                    _ => None,
                }),
            },
            None => Layout::Order(self.find(|o| match o {
                FieldOption::Order(KeywordAttribute { value, .. }) => Some(value),
                _ => None,
            })),
        }
    }

    /// `readonly`, `readonly = ..` or `writable` (`None`: the storage's default), with the
    /// key's span.
    pub fn readonly(&self) -> Option<(&ReadonlyValue, Span)> {
        self.find(|o| match o {
            FieldOption::Readonly(r) => {
                Some((r.value.as_ref().unwrap_or(&ReadonlyValue::Yes), r.kw.span))
            }
            FieldOption::Writable(w) => Some((&ReadonlyValue::No, w.0.span)),
            _ => None,
        })
    }

    /// `element = T`.
    pub fn element(&self) -> Option<&Type> {
        self.find(|o| match o {
            FieldOption::Element(KeywordAttribute { value, .. }) => Some(value),
            _ => None,
        })
    }
}

/// The innermost element of a storage type known by name: `Vec<T>`, `Box<[T]>`, `[T; N]`,
/// `SharedVec<T>`, `SharedArray<T>`, with `T` itself unwrapped from nested arrays. A type named
/// like these but different is still checked as a whole (`Storage`), so a wrong guess here only
/// moves the error, it cannot hide one.
pub fn storage_element(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Paren(p) => storage_element(&p.elem),
        Type::Group(g) => storage_element(&g.elem),
        Type::Array(a) => Some(innermost(&a.elem)),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            let mut types = args.args.iter().filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            });
            let (Some(arg), None) = (types.next(), types.next()) else {
                return None;
            };
            match last.ident.to_string().as_str() {
                "Vec" | "SharedVec" | "SharedArray" | "SharedBlock" => Some(innermost(arg)),
                "Box" => match arg {
                    Type::Slice(s) => Some(innermost(&s.elem)),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether a storage type known by name bounds its element in its own definition
/// (`SharedVec<S: Shaped>`, `SharedArray`, `SharedBlock`): rustc then reports a bad element on
/// the struct's field itself, and the derive must not report it again.
pub fn bounds_element(ty: &Type) -> bool {
    match ty {
        Type::Paren(p) => bounds_element(&p.elem),
        Type::Group(g) => bounds_element(&g.elem),
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().is_some_and(|s| {
            matches!(s.arguments, syn::PathArguments::AngleBracketed(_))
                && (s.ident == "SharedVec" || s.ident == "SharedArray" || s.ident == "SharedBlock")
        }),
        _ => false,
    }
}

/// Whether a storage type known by name is plain (`Vec`, `Box<[T]>`, arrays): exported
/// read-only and borrowed, so it cannot zero padding bytes.
pub fn is_plain(ty: &Type) -> bool {
    match ty {
        Type::Paren(p) => is_plain(&p.elem),
        Type::Group(g) => is_plain(&g.elem),
        Type::Array(_) => true,
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Vec" || s.ident == "Box"),
        _ => false,
    }
}

fn innermost(ty: &Type) -> &Type {
    match ty {
        Type::Array(a) => innermost(&a.elem),
        Type::Paren(p) => innermost(&p.elem),
        Type::Group(g) => innermost(&g.elem),
        _ => ty,
    }
}
