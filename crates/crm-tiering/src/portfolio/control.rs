//! What an extract's AUM records add up to, to check against the control totals a core system
//! writes beside its extract (a trailer: row count and amount sum), before a month is committed
//! (SPEC §15.6).

use rust_decimal::Decimal;

use super::extract::Extract;
use crate::aum::AumInput;

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
