//! Empty: cargo resolves a crate's build dependencies only when it has a build script, and this
//! crate's build dependencies are how it unifies the features of proc macros' dependencies.
fn main() {}
