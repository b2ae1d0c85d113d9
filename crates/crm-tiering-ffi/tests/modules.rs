//! The crate's modules import one another without a cycle: each shared item lives in a module
//! below every module that uses it (`code` <- `details` <- `boundary` <- `args` ...), so no
//! module imports one that imports it back (as `error.rs` and `ffi.rs` once did).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level modules of `src/` and the text of each (a directory module with its files).
fn modules() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" {
            continue;
        }
        let text = if path.is_dir() {
            let mut all = String::new();
            for file in std::fs::read_dir(&path).unwrap() {
                all += &std::fs::read_to_string(file.unwrap().path()).unwrap();
            }
            all
        } else {
            std::fs::read_to_string(&path).unwrap()
        };
        out.insert(name, text);
    }
    out
}

/// The modules `text` names as `crate::<module>`.
fn uses(text: &str, names: &BTreeSet<String>, own: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let word: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if word != own && names.contains(&word) {
            found.insert(word);
        }
    }
    found
}

#[test]
fn no_module_imports_one_that_imports_it() {
    let modules = modules();
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    assert!(names.contains("error") && names.contains("boundary"), "modules: {names:?}");
    let graph: BTreeMap<&str, BTreeSet<String>> =
        modules.iter().map(|(n, text)| (n.as_str(), uses(text, &names, n))).collect();
    // Depth-first search for a cycle, reporting the path.
    fn visit<'a>(
        n: &'a str,
        graph: &'a BTreeMap<&str, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(at) = path.iter().position(|p| *p == n) {
            panic!("import cycle: {} -> {n}", path[at..].join(" -> "));
        }
        if done.contains(n) {
            return;
        }
        path.push(n);
        for m in &graph[n] {
            visit(m, graph, path, done);
        }
        path.pop();
        done.insert(n);
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        visit(n, &graph, &mut Vec::new(), &mut done);
    }
    // The readers of the error details use the boundary, which must not use them back.
    assert!(graph["error"].contains("boundary") && !graph["boundary"].contains("error"));
}
