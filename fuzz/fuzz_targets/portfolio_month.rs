//! Any text as a month's extract (a header and rows of cells) and any text as stored states:
//! the portfolio month never panics, every held customer's error names a customer and a field,
//! and a run that fails leaves the states unchanged. The cells pushed as typed values give the
//! same extract as the text cells.
#![no_main]

use crm_tiering::portfolio::{Cell, Columns, Extract, PortfolioOptions, PortfolioStates, TableKind};
use crm_tiering::{Engine, RuleBook};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(book) = RuleBook::default_book() else { return };
    let engine = Engine::new(book);
    // The part before a NUL is the states text; the rest is the extract.
    let (states_text, extract_text) = text.split_once('\0').unwrap_or(("", text));
    let mut states = PortfolioStates::from_jsonl(states_text, "states").unwrap_or_default();
    let mut lines = extract_text.lines();
    let Some(header) = lines.next() else { return };
    let headers: Vec<&str> = header.split(',').collect();
    let Ok(cols) = Columns::resolve(engine.rule_book(), TableKind::Aum, &headers) else { return };
    let mut extract = Extract::new(engine.rule_book());
    // The same cells as typed values (text), as the Parquet and Arrow readers push them: the
    // same records, rejects and stops.
    let mut typed = Extract::new(engine.rule_book());
    for (k, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        extract.push_cells("aum", &cols, k as u64, &cells);
        let values: Vec<Cell<'_>> = cells.iter().map(|c| Cell::Text(c)).collect();
        typed.push_values("aum", &cols, k as u64, &values);
    }
    assert_eq!(extract.rows(), typed.rows());
    assert_eq!(extract.designations(), typed.designations());
    assert_eq!(extract.fatal(), typed.fatal());
    assert!(extract.rejected().eq(typed.rejected()));
    let before = states.clone();
    let Ok(months) = "2024-01..2024-03".parse() else { return };
    match engine.evaluate_portfolio(&mut states, months, &extract, &PortfolioOptions::default()) {
        Ok(out) => {
            for e in out.errors() {
                assert!(e.customer().is_some() && e.field().is_some(), "{e}");
            }
            let again = PortfolioStates::from_jsonl(&states.to_jsonl(engine.rule_book()), "states");
            assert_eq!(again.map(|s| s.states().to_vec()).ok(), Some(states.states().to_vec()));
        }
        Err(_) => assert_eq!(states, before),
    }
});
