//! Where a record error's record is: the computation names a record by its id (`account a1`,
//! `pool counter`, `customer c1 manager m1`); the command adds the file and line(s) it was read
//! from, so that a message names file, line and field.

use crm_tiering_contribution::ContributionError;

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

/// An error as printed: `FILE line N: ` (or `lines N, M`) before the message, when its record
/// was read from a file.
pub(crate) fn describe(e: &ContributionError, sources: &[Source]) -> String {
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
        assert_eq!(describe(&e, &[s]), "fees.csv line 4: fee of customer y: amount: 0.001 is not an amount");
    }
}
