//! The checks of an extract as a whole before anything is evaluated (SPEC §15.6): a declared
//! month without any AUM record, a month far smaller than expected, and the control totals a
//! core system writes beside its extract (a trailer: row count and amount sum).

use rust_decimal::Decimal;

use super::extract::Extract;
use super::options::{MonthRange, PortfolioOptions};
use super::record::{PortfolioFailure, RecordError};
use crate::Month;
use crate::aum::AumInput;
use crate::error::InputError;

/// Refuses a run whose extract is not what the caller expects (SPEC §15.6), every failing
/// check listed: the control totals (`control_rows`, `control_aum`), each declared month
/// without an AUM record (unless `allow_empty_month`), and each month with fewer customers
/// than `min_records` (not in a catch-up run).
pub(crate) fn check_extract(
    extract: &Extract,
    months: MonthRange,
    options: &PortfolioOptions,
) -> Result<(), PortfolioFailure> {
    let refusal = |month: Option<Month>, field: &str, message: String| {
        RecordError::at(InputError::new("", month, field, message), None)
    };
    let mut errors = control_totals(extract, options)
        .into_iter()
        .map(|(field, message)| refusal(None, field, message))
        .collect::<Vec<_>>();
    let single = (months.first() == months.last()).then_some(months.first());
    if errors.is_empty() && !options.allow_empty_month {
        errors.extend(months.months().filter(|&m| !extract.has_aum_record(m, single)).map(|m| {
            let message = format!(
                "the extract has no AUM record for {m} (declared month {months}): every stored customer would be evaluated at zero AUM; nothing was evaluated (check the files, or declare the month empty with allow_empty_month)"
            );
            refusal(Some(m), "month", message)
        }));
    }
    if errors.is_empty() && options.min_records > 0 && !options.catch_up {
        errors.extend(months.months().filter_map(|m| {
            let n = extract.customers_with_records(m, single) as u64;
            (n < options.min_records).then(|| {
                let message = format!(
                    "the extract has AUM records of {n} customer(s) for {m}, fewer than the {} expected (min_records): a file may be cut short or missing; nothing was evaluated",
                    options.min_records
                );
                refusal(Some(m), "month", message)
            })
        }));
    }
    if errors.is_empty() { Ok(()) } else { Err(PortfolioFailure { errors }) }
}

/// The control totals that differ from the extract, as (field, message).
fn control_totals(extract: &Extract, options: &PortfolioOptions) -> Vec<(&'static str, String)> {
    let mut wrong = Vec::new();
    if let Some(expected) = options.control_rows {
        let rows = extract.aum_rows() as u64;
        if rows != expected {
            wrong.push((
                "control_rows",
                format!("the extract has {rows} AUM record(s), the control total says {expected}: a file may be cut short, duplicated or missing; nothing was evaluated"),
            ));
        }
    }
    if let Some(expected) = options.control_aum {
        match extract.aum_sum() {
            Ok(sum) if sum == expected => {}
            Ok(sum) => wrong.push((
                "control_aum",
                format!("the extract's AUM records add up to {sum}, the control total says {expected}: nothing was evaluated"),
            )),
            Err(why) => wrong.push((
                "control_aum",
                format!("the control total {expected} cannot be checked: {why}; nothing was evaluated"),
            )),
        }
    }
    wrong
}

impl Extract {
    /// The sum of every monthly AUM figure of the extract as given: each record's total, or
    /// the sum of its component amounts (weights and inclusion not applied, as a core system
    /// sums its file's columns).
    ///
    /// ```
    /// use crm_tiering::RuleBook;
    /// use crm_tiering::portfolio::{Columns, Extract, TableKind};
    /// let book = RuleBook::default_book()?;
    /// let cols = Columns::resolve(&book, TableKind::Aum, &["month", "customer_id", "demand_deposit", "time_deposit"])?;
    /// let mut x = Extract::new(&book);
    /// x.push_cells("aum.csv", &cols, 2, &["2024-03", "c1", "100.50", "200"]);
    /// x.push_cells("aum.csv", &cols, 3, &["2024-03", "c2", "", "1000"]);
    /// assert_eq!(x.aum_sum().map(|s| s.to_string()), Ok("1300.50".to_string()));
    /// x.push_cells("aum.csv", &cols, 4, &["2024-03", "c3", "12,0", "1"]);
    /// assert!(x.aum_sum().is_err()); // an amount that cannot be read cannot be summed
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A message saying why the extract cannot be summed: a record whose amount could not be
    /// read (the sum would not be the file's), or daily balances (a control total is the sum
    /// of a monthly file).
    pub fn aum_sum(&self) -> Result<Decimal, String> {
        if let Some(bad) = self.rejects.iter().find(|r| r.aum) {
            return Err(format!("a record's amount could not be read ({})", bad.error));
        }
        let mut sum = Decimal::ZERO;
        for row in self.rows().iter() {
            let add = match &*row.aum() {
                AumInput::Total(a) => *a,
                AumInput::Averages(list) => list.iter().map(|c| c.amount).sum(),
                AumInput::DaySums(_) | AumInput::Daily(_) => {
                    return Err("the extract holds daily balances, not monthly figures".into());
                }
            };
            sum = sum.checked_add(add).ok_or("the sum overflows")?;
        }
        Ok(sum)
    }

    /// The number of AUM records of the extract, readable or not (designations are not AUM
    /// records): what `control_rows` compares (SPEC §15.6).
    pub fn aum_rows(&self) -> usize {
        self.rows().len() + self.rejects.iter().filter(|r| r.aum).count()
    }

    /// The number of customers with an AUM record (readable or not) in `month`, or undated
    /// when `month` is the single month of a run (`single`): what `min_records` compares
    /// (SPEC §15.6).
    pub fn customers_with_records(&self, month: crate::Month, single: Option<crate::Month>) -> usize {
        let mut ids: Vec<&str> = self
            .rows()
            .iter()
            .filter(|r| r.month().or(single) == Some(month))
            .map(|r| r.customer_id())
            .chain(
                self.rejects
                    .iter()
                    .filter(|r| r.aum && r.month.or(single) == Some(month))
                    .map(|r| r.customer_id.as_str()),
            )
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }
}
