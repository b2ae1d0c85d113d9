//! Prints a rule book's fingerprint (the default book without an argument):
//! `cargo run -p crm-tiering --example fingerprint -- rules.toml`.
#![allow(clippy::print_stdout)]

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let book = match std::env::args().nth(1) {
        Some(path) => crm_tiering::RuleBook::from_path(path)?,
        None => crm_tiering::RuleBook::default_book()?,
    };
    println!("{}", book.fingerprint());
    Ok(())
}
