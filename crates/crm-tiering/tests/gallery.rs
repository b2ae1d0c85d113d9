//! The gallery of real banks' rule books (`rules-spec/gallery/`): every book loads, and every
//! conformance vector that names a book (`"gallery"`) carries exactly that book's rules as the
//! core loads them, so that a book and its vectors cannot drift apart. The vectors themselves
//! run with all the others (`tests/vectors.rs` and the C, Java and Python runners).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use crm_tiering::RuleBook;
use serde_json::Value;

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules-spec")
}

#[test]
fn every_gallery_book_loads_and_its_vectors_carry_its_rules() {
    let mut books = 0;
    for entry in std::fs::read_dir(spec_dir().join("gallery")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            RuleBook::from_toml_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            books += 1;
        }
    }
    assert!(books >= 2, "the gallery has {books} books");
    let mut named = std::collections::BTreeMap::<String, usize>::new();
    for entry in std::fs::read_dir(spec_dir().join("vectors")).unwrap() {
        let path = entry.unwrap().path();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(book) = v.get("gallery").and_then(Value::as_str) else { continue };
        let text = std::fs::read_to_string(spec_dir().join(book))
            .unwrap_or_else(|e| panic!("{}: {book}: {e}", path.display()));
        let loaded = RuleBook::from_toml_str(&text).unwrap();
        let want = serde_json::to_value(loaded.source()).unwrap();
        assert_eq!(v["rules"], want, "{}: its rules are not {book}'s", path.display());
        *named.entry(book.to_string()).or_default() += 1;
    }
    for (book, n) in &named {
        assert!(*n >= 6, "{book} has {n} vectors, the gallery asks at least 6");
    }
    assert_eq!(named.len(), books, "every gallery book has vectors: {named:?}");
}
