//! Any text given as a rule book loads or fails with a rules error; it never panics, and a book
//! that loads survives a JSON round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(book) = crm_tiering::RuleBook::from_str_auto(text) {
        let again = crm_tiering::RuleBook::from_json_str(&book.to_json());
        assert_eq!(again.map(|b| b.rule_sets().to_vec()).ok(), Some(book.rule_sets().to_vec()));
    }
});
