//! The checked-in C header must be what cbindgen generates from the current source.
//!
//! Refresh it with `UPDATE_HEADER=1 cargo test -p crm-tiering-ffi --test header`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

#[test]
fn header_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = crate_dir.join("../../bindings/c/include/crm_tiering.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();
    if std::env::var_os("UPDATE_HEADER").is_some() {
        std::fs::write(&header, &generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&header).unwrap_or_default();
    if current != generated {
        let line = current.lines().zip(generated.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1);
        panic!(
            "bindings/c/include/crm_tiering.h differs from what cbindgen generates now (first difference at line {line}).\n\
             Refresh it with: UPDATE_HEADER=1 cargo test -p crm-tiering-ffi --test header"
        );
    }
}
