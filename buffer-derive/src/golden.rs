//! Golden expansions: each `tests/expand/NAME.rs` is expanded (`#[derive(PyBuffer)]` and
//! `#[derive(Element)]` structs, `#[buffer_methods]` blocks), formatted with prettyplease and
//! compared with `NAME.expanded.rs`; a mismatch prints a line diff. Re-bless with
//! `BLESS_EXPANSIONS=1 cargo test -p buffer-derive`.

use std::path::Path;

use proc_macro2::TokenStream;

/// Which derive a struct asks for in its `#[derive(...)]`.
fn derives(s: &syn::ItemStruct, name: &str) -> bool {
    s.attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            a.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .is_ok_and(|paths| paths.iter().any(|p| p.is_ident(name)))
        })
}

fn expand_file(source: &str) -> String {
    let file: syn::File = syn::parse_str(source).expect("golden input parses");
    let mut out = TokenStream::new();
    for item in file.items {
        match item {
            syn::Item::Struct(s) if derives(&s, "Element") => {
                out.extend(crate::element::derive(&s.into()))
            }
            syn::Item::Struct(s) => out.extend(crate::pybuffer::derive(&s.into())),
            syn::Item::Impl(mut imp) => {
                let at = imp
                    .attrs
                    .iter()
                    .position(|a| a.path().is_ident("buffer_methods"));
                let attr = imp
                    .attrs
                    .remove(at.expect("impl blocks carry #[buffer_methods]"));
                let args = match attr.meta {
                    syn::Meta::List(l) => l.tokens,
                    _ => TokenStream::new(),
                };
                out.extend(crate::methods::expand(args, quote::quote!(#imp)));
            }
            _ => panic!("golden inputs hold structs and impl blocks only"),
        }
    }
    let formatted: syn2::File = syn2::parse2(out).expect("expansion parses");
    prettyplease::unparse(&formatted)
}

/// A line diff of `want` and `got` (longest common subsequence): `-` lines only in the golden
/// file, `+` lines only in the new expansion, with two lines of context.
fn diff(want: &str, got: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut lines: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            lines.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            lines.push(('-', a[i]));
            i += 1;
        } else {
            lines.push(('+', b[j]));
            j += 1;
        }
    }
    let near = |k: usize| {
        lines[k.saturating_sub(2)..(k + 3).min(lines.len())]
            .iter()
            .any(|(c, _)| *c != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (c, line)) in lines.iter().enumerate() {
        if near(k) {
            if skipped {
                out.push_str("...\n");
                skipped = false;
            }
            out.push_str(&format!("{c} {line}\n"));
        } else {
            skipped = true;
        }
    }
    out
}

#[test]
fn expansions_match_golden_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let bless = std::env::var_os("BLESS_EXPANSIONS").is_some();
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/expand exists")
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".expanded.rs"))
        .collect();
    inputs.sort();
    assert!(
        inputs.len() >= 3,
        "golden inputs missing in {}",
        dir.display()
    );
    let mut stale = String::new();
    for input in inputs {
        let got = expand_file(&std::fs::read_to_string(&input).unwrap());
        let golden = input.with_extension("expanded.rs");
        if bless {
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if want != got {
            stale += &format!("--- {}\n{}", golden.display(), diff(&want, &got));
        }
    }
    assert!(
        stale.is_empty(),
        "expansion changed (re-bless with BLESS_EXPANSIONS=1):\n{stale}"
    );
}

#[test]
fn diff_shows_changed_lines_with_context() {
    let want = "a\nb\nc\nd\ne\nf\ng\nh\n";
    let got = "a\nb\nc\nd\nE\nf\ng\nh\n";
    assert_eq!(diff(want, got), "...\n  c\n  d\n- e\n+ E\n  f\n  g\n");
}
