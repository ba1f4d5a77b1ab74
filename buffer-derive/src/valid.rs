//! Checks that span several parts of the annotation.

use syn::Ident;

use crate::ast::{Input, Layout};
use crate::attr::{Entry, List, OrderValue, ReadonlyValue};
use crate::errors::Errors;

pub fn check(input: &Input<'_>, errors: &mut Errors) {
    check_names(input, errors);
    check_ranks(input, errors);
}

/// Every name in the annotation is another field of the struct: the macro reads it as
/// `self.name`, and a typo should point at the typo, not at generated code.
fn check_names(input: &Input<'_>, errors: &mut Errors) {
    let buf = &input.buffer;
    let mut names: Vec<&Ident> = Vec::new();
    if let Some(shape) = &buf.shape {
        list_fields(&shape.value, &mut names);
    }
    match &buf.layout {
        Layout::Order(Some(o)) => {
            if let OrderValue::Field(f) = &o.value {
                names.push(f);
            }
        }
        Layout::Order(None) => {}
        Layout::Strides { strides, offset } => {
            list_fields(&strides.value, &mut names);
            names.extend(offset.as_ref().and_then(|o| entry_field(&o.value)));
        }
    }
    if let Some(r) = &buf.readonly {
        if let ReadonlyValue::Field(f) = &r.value {
            names.push(f);
        }
    }
    for name in names {
        if name == buf.ident {
            errors.push(syn::Error::new(
                name.span(),
                format!("`{name}` is the buffer field itself; name another field"),
            ));
        } else if !input.fields.iter().any(|(f, _)| *f == name) {
            errors.push(syn::Error::new(
                name.span(),
                format!("no field `{name}` in `{}`", input.ident),
            ));
        }
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

/// Listed shape and strides have one entry per dimension each.
fn check_ranks(input: &Input<'_>, errors: &mut Errors) {
    let buf = &input.buffer;
    let (Some(shape), Layout::Strides { strides, .. }) = (&buf.shape, &buf.layout) else {
        return;
    };
    if let (
        List::Entries { entries: dims, .. },
        List::Entries {
            entries: steps,
            span,
        },
    ) = (&shape.value, &strides.value)
    {
        if dims.len() != steps.len() {
            errors.push(syn::Error::new(
                *span,
                format!(
                    "expected {} strides, one per dimension of `shape`, found {}",
                    dims.len(),
                    steps.len()
                ),
            ));
        }
    }
}
