//! Where a record error's record is: the computation names a record by its id (`account a1`,
//! `pool counter`, `customer c1 manager m1`); the command adds the file and line(s) it was read
//! from, so that a message names file, line and field.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use crm_tiering_contribution::{AccountMonthTable, ContributionError};

/// The kind of an input table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Accounts,
    Fees,
    CostPools,
    Activities,
    DirectCosts,
    Assignments,
}

/// An input table that was read: its name (the path given) and each record's line and keys.
pub(crate) struct Source {
    kind: Kind,
    name: String,
    /// Each record, in input order: its line (the header is line 1) and its keys (account and
    /// customer; customer; cost centre; quantity and customer; item and customer; customer and
    /// manager).
    records: Vec<(usize, Vec<String>)>,
}

impl Source {
    /// A table read from `text` whose records (in input order) have the keys given.
    pub(crate) fn new(kind: Kind, name: String, text: &str, keys: Vec<Vec<String>>) -> Self {
        // The lines of the records as the reader numbers them: the byte-order mark dropped,
        // the header line 1, blank lines skipped.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let lines = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .enumerate()
            .skip(1)
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, _)| i + 1);
        Source { kind, name, records: lines.zip(keys).collect() }
    }

    /// The lines of the records whose keys start with `keys`.
    fn lines(&self, keys: &[&str]) -> Vec<usize> {
        self.records
            .iter()
            .filter(|(_, k)| k.iter().zip(keys).all(|(a, b)| a == b) && k.len() >= keys.len())
            .map(|(line, _)| *line)
            .collect()
    }
}

/// The record an error is about: its table and keys.
fn record_of(e: &ContributionError) -> Option<(Kind, Vec<String>)> {
    use ContributionError as E;
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    match e {
        E::RateGap { account, .. } | E::UnknownProduct { account, .. } | E::DuplicateAccountMonth { account, .. } => {
            Some((Kind::Accounts, vec![account.clone()]))
        }
        E::Shares { customer, .. } => Some((Kind::Assignments, vec![customer.clone()])),
        E::ZeroDriver { pool, .. } => Some((Kind::CostPools, vec![pool.clone()])),
        E::Record { record, .. } => {
            if let Some(account) = record.strip_prefix("account ") {
                Some((Kind::Accounts, owned(&[account])))
            } else if let Some(customer) = record.strip_prefix("fee of customer ") {
                Some((Kind::Fees, owned(&[customer])))
            } else if let Some(pool) = record.strip_prefix("pool ") {
                Some((Kind::CostPools, owned(&[pool])))
            } else if let Some(rest) = record.strip_prefix("activity ") {
                let (quantity, customer) = rest.rsplit_once(" of customer ")?;
                Some((Kind::Activities, owned(&[quantity, customer])))
            } else if let Some(rest) = record.strip_prefix("direct cost ") {
                let (item, customer) = rest.rsplit_once(" of customer ")?;
                Some((Kind::DirectCosts, owned(&[item, customer])))
            } else if let Some(rest) = record.strip_prefix("customer ") {
                match rest.split_once(" manager ") {
                    Some((customer, manager)) => Some((Kind::Assignments, owned(&[customer, manager]))),
                    None => Some((Kind::Assignments, owned(&[rest]))),
                }
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The account-months' file as a source of the errors' accounts alone: the file is read again,
/// line by line, for the lines of its records (numbered as [`Source::new`] numbers them), and
/// each record's account is the table's row of the same position. `None` when no error names
/// an account, or when the file cannot be read again or no longer has the table's records
/// (an error is then printed without its line, never with a wrong one).
pub(crate) fn accounts_source(
    path: &Path,
    name: &str,
    table: &AccountMonthTable,
    errors: &[ContributionError],
) -> Option<Source> {
    let wanted: HashSet<String> = errors
        .iter()
        .filter_map(record_of)
        .filter(|(kind, _)| *kind == Kind::Accounts)
        .filter_map(|(_, keys)| keys.into_iter().next())
        .collect();
    if wanted.is_empty() {
        return None;
    }
    let mut reader = std::io::BufReader::new(std::fs::File::open(path).ok()?);
    let mut buf = Vec::new();
    let (mut line, mut row, mut records) = (0_usize, 0_usize, Vec::new());
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).ok()? == 0 {
            break;
        }
        line += 1;
        let l = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if line == 1 || l.strip_suffix(b"\r").unwrap_or(l).is_empty() {
            continue;
        }
        let account = table.account(row)?;
        if wanted.contains(account) {
            records.push((line, vec![account.to_string()]));
        }
        row += 1;
    }
    (row == table.len()).then(|| Source { kind: Kind::Accounts, name: name.to_string(), records })
}

/// An error as printed: `FILE line N: ` (or `lines N, M`) before the message, when its record
/// was read from a file.
pub(crate) fn describe(e: &ContributionError, sources: &[&Source]) -> String {
    let Some((kind, keys)) = record_of(e) else { return e.to_string() };
    let Some(source) = sources.iter().find(|s| s.kind == kind) else { return e.to_string() };
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let lines = source.lines(&keys);
    let at = match lines.as_slice() {
        [] => return e.to_string(),
        [one] => format!("line {one}"),
        many => format!("lines {}", many.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
    };
    format!("{} {at}: {e}", source.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lines_as_the_reader_does() {
        let text = "\u{feff}a,b\r\nx,1\r\n\r\ny,2\n";
        let s = Source::new(Kind::Fees, "fees.csv".into(), text, vec![vec!["x".into()], vec!["y".into()]]);
        assert_eq!(s.lines(&["y"]), vec![4]);
        let e = ContributionError::Record {
            record: "fee of customer y".into(),
            field: "amount".into(),
            message: "0.001 is not an amount".into(),
        };
        assert_eq!(describe(&e, &[&s]), "fees.csv line 4: fee of customer y: amount: 0.001 is not an amount");
    }
}

#[cfg(test)]
mod account_tests {
    use super::*;

    #[test]
    fn account_lines_found_again_in_the_file() {
        let text = "\u{feff}month,customer,account,product,side,average_balance,customer_rate,branch,legal_entity\r\n\
                    2024-03,c1,a1,demand,liability,1.00,0.01,b1,le1\r\n\r\n\
                    2024-03,c1,a2,demand,liability,1.00,0.01,b1,le1\n\
                    2024-03,c2,a2,demand,liability,1.00,0.01,b1,le1";
        let dir = std::env::temp_dir().join(format!("crmt-locate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("accounts.csv");
        std::fs::write(&path, text).unwrap();
        let table = AccountMonthTable::read_csv("accounts.csv", text.as_bytes()).unwrap();
        let e = ContributionError::Record { record: "account a2".into(), field: "side".into(), message: "x".into() };
        let other = ContributionError::Record { record: "pool p".into(), field: "amount".into(), message: "y".into() };
        assert!(accounts_source(&path, "accounts.csv", &table, std::slice::from_ref(&other)).is_none());
        let s = accounts_source(&path, "accounts.csv", &table, &[e.clone(), other]).unwrap();
        assert_eq!(describe(&e, &[&s]), "accounts.csv lines 4, 5: account a2: side: x");
        // A file that no longer has the table's records: no line rather than a wrong one.
        std::fs::write(&path, text.replace("2024-03,c2,a2,demand,liability,1.00,0.01,b1,le1", "")).unwrap();
        assert!(accounts_source(&path, "accounts.csv", &table, std::slice::from_ref(&e)).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
