//! The rule book read from its file, with the FTP rate table in a CSV beside it (SPEC §20.2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering_contribution::{Inputs, RuleBook, compute, read_account_months};

const BOOK: &str = r#"
basis = 360
[ftp]
file = "ftp.csv"
rates = [{ product = "loan", term = "1y", effective = "2024-01", rate = "0.0300" }]
"#;

#[test]
fn rates_from_a_csv_beside_the_book() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("book.toml"), BOOK).unwrap();
    std::fs::write(
        dir.path().join("ftp.csv"),
        "product,term,effective,rate\ndemand,none,2024-01,0.0200\ndemand,none,2024-04,0.0150\n",
    )
    .unwrap();
    let book = RuleBook::from_path(&dir.path().join("book.toml")).unwrap();
    assert_eq!(book.ftp().len(), 3);
    let accounts = read_account_months(
        "accounts",
        "month,customer,account,product,side,average_balance,customer_rate,branch,legal_entity\n\
         2024-03,c1,a1,demand,liability,360000.00,0.0020,b1,le1\n",
    )
    .unwrap();
    let inputs = Inputs { account_months: accounts, ..Inputs::default() };
    let c = compute(&book, "2024-03".parse().unwrap(), &inputs).unwrap();
    // 2024-03 is before the 1.50% of 2024-04: 360,000.00 × (2.00% − 0.20%) × 31 / 360 = 558.00.
    assert_eq!(c.customers[0].figures.interest_liability.to_string(), "558.00");
}

#[test]
fn a_bad_rate_file_names_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("book.toml"), BOOK).unwrap();
    std::fs::write(dir.path().join("ftp.csv"), "product,term,effective,rate\ndemand,none,2024-13,0.02\n").unwrap();
    let e = RuleBook::from_path(&dir.path().join("book.toml")).unwrap_err();
    assert_eq!(e.to_string(), "ftp.csv line 2, column effective: `2024-13` is not a month (YYYY-MM)");
}

#[test]
fn a_rate_file_needs_the_books_path() {
    let e = RuleBook::from_toml_str(BOOK).unwrap_err();
    assert_eq!(e.to_string(), "rule book: ftp.file: a rate file needs the book's path: read the book from its file");
}

#[test]
fn two_rates_for_one_month_are_refused() {
    let e = RuleBook::from_toml_str(
        r#"
basis = 365
[ftp]
rates = [
  { product = "demand", term = "none", effective = "2024-01", rate = "0.02" },
  { product = "demand", term = "none", effective = "2024-01", rate = "0.03" },
]
"#,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "rule book: ftp.rates[1].effective: product demand, term none already has a rate effective 2024-01"
    );
}

#[test]
fn messages_name_no_rust_types() {
    let e = RuleBook::from_toml_str("basis = \"360\"\n[ftp]\nrates = []\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "rule book: basis: line 1: invalid type: string \"360\", expected a day-count basis, the integer 360 or 365"
    );
    let e = RuleBook::from_toml_str("basis = 360\nrounding = \"up\"\n[ftp]\nrates = []\n").unwrap_err();
    assert_eq!(e.to_string(), "rule book: rounding: line 2: unknown variant `up`, expected `half_up` or `half_even`");
    let e = RuleBook::from_toml_str("basis = 360\n[ftp]\nrates = []\n").unwrap_err();
    assert_eq!(e.to_string(), "rule book: ftp: the rate table has no rate: give `rates` or a `file`");
}
