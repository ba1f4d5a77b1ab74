//! `#[derive(Element)]`: a `#[repr(C)]` struct as a buffer element (a PEP 3118 record).
//! Parse (`ast`), validate (`valid`), then expand (`expand`), or report every error with a
//! stub (`fallback`): the same pipeline as `#[derive(PyBuffer)]`.

mod ast;
mod expand;
mod fallback;
mod valid;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::errors::Errors;

pub fn derive(node: &DeriveInput) -> TokenStream {
    let errors = Errors::new();
    let input = ast::Input::from_syn(node, &errors);
    if let Some(input) = &input {
        input.validate(&errors);
    }
    match (errors.check(), input) {
        (Ok(()), Some(input)) => expand::expand(&input),
        (Err(e), input) => {
            let krate = input.map(|i| i.krate).unwrap_or_default();
            fallback::expand(node, &krate, e)
        }
        (Ok(()), None) => unreachable!("no model is built only with an error recorded"),
    }
}

#[cfg(test)]
mod tests {
    use crate::errors::tests::messages;
    use crate::errors::Errors;

    fn errors_of(src: &str) -> Vec<String> {
        let node: syn::DeriveInput = syn::parse_str(src).expect("valid Rust");
        let errors = Errors::new();
        if let Some(input) = super::ast::Input::from_syn(&node, &errors) {
            input.validate(&errors);
        }
        messages(errors.check())
    }

    #[test]
    fn accepted_layouts() {
        for src in [
            "#[repr(C)] struct P { x: f32, y: f32 }",
            "#[repr(C, packed)] struct P { a: u8, b: u32 }",
            "#[repr(C, packed(2))] struct P { a: u8, b: u32 }",
            "#[repr(C)] #[repr(align(16))] struct P(f64, u8);",
            "#[repr(transparent)] struct Meters(f64);",
            "#[repr(C)] #[element(crate = \"my::rt\")] struct P { r#type: u8 }",
        ] {
            assert_eq!(errors_of(src), Vec::<String>::new(), "{src}");
        }
    }

    #[test]
    fn rejected_with_reasons() {
        let cases: &[(&str, &[&str])] = &[
            ("struct P { x: f32 }", &["needs `#[repr(C)]`"]),
            (
                "#[repr(packed)] struct P { x: f32 }",
                &["needs `#[repr(C)]`"],
            ),
            ("#[repr(C)] enum E { A }", &["not an enum"]),
            ("#[repr(C)] union U { a: u8 }", &["not a union"]),
            (
                "#[repr(C)] struct P<T> { x: T }",
                &["does not support generic structs"],
            ),
            ("#[repr(C)] struct P;", &["at least one field"]),
            ("#[repr(C)] struct P {}", &["at least one field"]),
            (
                "struct P<T>;",
                &["generic", "repr(C)", "at least one field"],
            ),
            (
                "#[repr(C)] #[element(krate = \"x\")] struct P { a: u8 }",
                &["unknown key `krate`; did you mean `crate`?"],
            ),
            (
                "#[repr(C)] #[element(crate = \"x\", crate = \"y\")] struct P { a: u8 }",
                &["`crate` may only be specified once"],
            ),
        ];
        for (src, wants) in cases {
            let got = errors_of(src);
            assert_eq!(got.len(), wants.len(), "{src}: {got:?}");
            for (g, w) in got.iter().zip(wants.iter()) {
                assert!(g.contains(w), "{src}: {g:?} lacks {w:?}");
            }
        }
    }

    #[test]
    fn expansion_lists_fields_by_offset_of() {
        let input: syn::DeriveInput =
            syn::parse_str("#[repr(C)] struct P { x: f32, r#type: [u8; 3] }").unwrap();
        let out = super::derive(&input).to_string();
        assert!(out.contains("offset_of ! (P , x)"), "{out}");
        assert!(out.contains("\"type\""), "{out}");
        assert!(
            out.contains(":: buffer_runtime :: __private :: Facts :: < [u8 ; 3] > :: FIELD"),
            "{out}"
        );
        assert!(!out.contains("compile_error"), "{out}");
    }
}
