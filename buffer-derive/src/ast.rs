//! The derive's input model: the struct, its buffer field and what the annotation says.

use syn::spanned::Spanned;
use syn::{DeriveInput, Ident, Type};

use crate::attr::{self, Entry, FieldAttr, Keyed, List, OrderValue, ReadonlyValue};
use crate::errors::Errors;

pub struct Input<'a> {
    pub ident: &'a Ident,
    /// Path to the runtime crate (`::buffer_runtime` unless overridden).
    pub krate: syn::Path,
    /// Named fields with their types, for resolving names in the annotation.
    pub fields: Vec<(&'a Ident, &'a Type)>,
    /// Whether the class pickles (`#[buffer(pickle = false)]` says no).
    pub pickle: bool,
    pub buffer: BufferField<'a>,
}

pub struct BufferField<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    /// The element type, when `ty` is a storage type the derive recognises by name, so that
    /// a bad element is reported on the element's own tokens.
    pub elem: Option<&'a Type>,
    pub shape: Option<Keyed<List>>,
    pub layout: Layout,
    pub readonly: Option<Keyed<ReadonlyValue>>,
    /// `element = T`: present the items as `T` (same size as the storage's element).
    pub element: Option<Keyed<Type>>,
}

/// How elements are placed.
pub enum Layout {
    Order(Option<Keyed<OrderValue>>),
    Strides {
        strides: Keyed<List>,
        offset: Option<Keyed<Entry>>,
    },
}

fn is_buffer_attr(a: &syn::Attribute) -> bool {
    a.path().is_ident(attr::BUFFER)
}

impl<'a> Input<'a> {
    /// Builds the model, collecting every error; `None` if any was found.
    pub fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> Option<Input<'a>> {
        let mut top = attr::StructAttr::default();
        for a in input.attrs.iter().filter(|a| is_buffer_attr(a)) {
            attr::parse_struct_attr(a, &mut top, errors);
        }
        let attr::StructAttr { krate, pickle } = top;
        if !input.generics.params.is_empty() {
            errors.push(syn::Error::new(
                input.generics.span(),
                "generic parameters and lifetimes are not supported: a #[pyclass] cannot be generic",
            ));
        }
        let named = match &input.data {
            syn::Data::Struct(s) => match &s.fields {
                syn::Fields::Named(n) => Some(n),
                syn::Fields::Unnamed(u) => {
                    errors.push(syn::Error::new(
                        u.span(),
                        "tuple structs are not supported: give the fields names so that `shape` and `strides` can refer to them",
                    ));
                    None
                }
                syn::Fields::Unit => {
                    errors.push(syn::Error::new(
                        input.ident.span(),
                        "a unit struct has no data to export: add a field marked `#[buffer]`",
                    ));
                    None
                }
            },
            syn::Data::Enum(e) => {
                errors.push(syn::Error::new(
                    e.enum_token.span(),
                    "#[derive(PyBuffer)] works on structs only, not on enums",
                ));
                None
            }
            syn::Data::Union(u) => {
                errors.push(syn::Error::new(
                    u.union_token.span(),
                    "#[derive(PyBuffer)] works on structs only, not on unions",
                ));
                None
            }
        }?;

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
            errors.push(syn::Error::new(
                input.ident.span(),
                "no buffer field: mark the field that holds the data with `#[buffer]` or `#[buffer(shape = [...])]`",
            ));
            return None;
        };
        let ident = field.ident.as_ref()?;
        for other in marked {
            let a = other.attrs.iter().find(|a| is_buffer_attr(a))?;
            errors.push(syn::Error::new(
                a.span(),
                format!(
                    "only one field can be the buffer, and `{ident}` is already marked `#[buffer]`"
                ),
            ));
        }

        let mut parsed = FieldAttr::default();
        for a in field.attrs.iter().filter(|a| is_buffer_attr(a)) {
            attr::parse_field_attr(a, &mut parsed, errors);
        }
        let FieldAttr {
            shape,
            strides,
            offset,
            order,
            readonly,
            element,
        } = parsed;
        let layout = match strides {
            Some(strides) => {
                if let Some(order) = order {
                    errors.push(syn::Error::new(
                        order.key.span(),
                        "`order` and `strides` cannot both be given: explicit strides fix the order",
                    ));
                }
                Layout::Strides { strides, offset }
            }
            None => {
                if let Some(offset) = &offset {
                    errors.push(syn::Error::new(
                        offset.key.span(),
                        "`offset` needs explicit `strides`: a contiguous buffer starts at its first element",
                    ));
                }
                Layout::Order(order)
            }
        };

        let model = Input {
            ident: &input.ident,
            krate: krate.unwrap_or_else(|| syn::parse_quote!(::buffer_runtime)),
            fields,
            pickle: pickle.is_none_or(|p| p.value),
            buffer: BufferField {
                ident,
                ty: &field.ty,
                elem: element_of(&field.ty),
                shape,
                layout,
                readonly,
                element,
            },
        };
        crate::valid::check(&model, errors);
        errors.is_empty().then_some(model)
    }
}

/// The innermost element of a storage type known by name: `Vec<T>`, `Box<[T]>`, `[T; N]`,
/// `SharedVec<T>`, `SharedArray<T>`, with `T` itself unwrapped from nested arrays. A type named
/// like these but different is still checked as a whole (`Storage`), so a wrong guess here only
/// moves the error, it cannot hide one.
pub fn element_of(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Paren(p) => element_of(&p.elem),
        Type::Group(g) => element_of(&g.elem),
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
