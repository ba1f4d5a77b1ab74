//! What `#[repr(...)]` says about a struct's field layout: the one `repr` parser.

use syn::punctuated::Punctuated;

/// The field layout a struct's `#[repr]` attributes choose. Modifiers (`packed`, `packed(N)`,
/// `align(N)`) do not change it: the offsets come from the compiler either way.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Repr {
    /// No `C` or `transparent`: the compiler may reorder fields.
    Rust,
    C,
    Transparent,
    /// A `#[repr]` that does not parse: rustc reports it, so nothing more is said about it.
    Malformed,
}

impl Repr {
    /// Reads every `#[repr(...)]` of `attrs`.
    pub fn from_attrs(attrs: &[syn::Attribute]) -> Repr {
        let mut repr = Repr::Rust;
        for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
            let parser = Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated;
            let Ok(metas) = attr.parse_args_with(parser) else {
                return Repr::Malformed;
            };
            for m in &metas {
                if m.path().is_ident("C") {
                    repr = Repr::C;
                } else if m.path().is_ident("transparent") {
                    repr = Repr::Transparent;
                }
            }
        }
        repr
    }

    /// Whether the field order and offsets are fixed by the definition.
    pub fn is_fixed(self) -> bool {
        self != Repr::Rust
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        for (src, want) in [
            ("struct P;", Repr::Rust),
            ("#[repr(C)] struct P;", Repr::C),
            ("#[repr(C, packed(2))] struct P;", Repr::C),
            ("#[repr(align(8))] #[repr(C)] struct P;", Repr::C),
            ("#[repr(packed)] struct P;", Repr::Rust),
            ("#[repr(transparent)] struct P;", Repr::Transparent),
            ("#[repr(C, = 4)] struct P;", Repr::Malformed),
        ] {
            let input: syn::DeriveInput = syn::parse_str(src).unwrap();
            assert_eq!(Repr::from_attrs(&input.attrs), want, "{src}");
        }
    }
}
