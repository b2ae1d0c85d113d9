//! Reading a row of cells (text, or some typed) under a resolved header into an [`Extract`]:
//! the record's kind of table decides what its cells are, and a table's month column is
//! checked when the table ends.

use super::Extract;
use super::cells::{Cell, Cells, cell_amount_at, customer_kind, date, trim_cr};
use crate::aum::{AumInput, ComponentAmount};
use crate::engine::SpecialChange;
use crate::error::InputError;
use crate::month::Month;
use crate::portfolio::columns::{ColumnRole, Columns, TableKind};
use crate::portfolio::record::{RecordError, RecordRef};
use crate::rules::CustomerKind;

impl Extract {
    /// Reads a row of text cells under a resolved header. Empty component and balance cells
    /// mean nothing held; an empty `legal_entity` or `customer_kind` keeps the stored value.
    /// A bad cell rejects the record (its customer is held back); a record whose customer
    /// cannot be identified is fatal.
    pub fn push_cells(&mut self, table: &str, cols: &Columns, row: u64, cells: &[&str]) {
        self.push_row(table, cols, row, cells);
    }

    /// Reads a row of cells under a resolved header, some of them typed: what a columnar file
    /// (Parquet, Arrow) holds. A [`Cell::Text`] is read exactly as [`Extract::push_cells`] reads
    /// it; a [`Cell::Amount`] in an amount column (`aum`, a component, a measure, `balance`) is
    /// that amount, with no text in between, and in any other column reads as its decimal text.
    ///
    /// ```
    /// use crm_tiering::{AumInput, RuleBook, from_fen};
    /// use crm_tiering::portfolio::{Cell, Columns, Extract, TableKind};
    /// let book = RuleBook::default_book()?;
    /// let cols = Columns::resolve(&book, TableKind::Aum, &["month", "customer_id", "aum"])?;
    /// let mut extract = Extract::new(&book);
    /// let cells = [Cell::Text("2024-03"), Cell::Text("c1"), Cell::Amount(from_fen(25_000_000))];
    /// extract.push_values("aum.parquet", &cols, 1, &cells);
    /// assert_eq!(*extract.rows().get(0).unwrap().aum(), AumInput::Total(from_fen(25_000_000)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_values(&mut self, table: &str, cols: &Columns, row: u64, cells: &[Cell<'_>]) {
        let stray = |i: usize| !matches!(cols.role(i), Some(r) if r.is_amount());
        if !cells.iter().enumerate().any(|(i, c)| matches!(c, Cell::Amount(_)) && stray(i)) {
            self.push_row(table, cols, row, cells);
            return;
        }
        // An amount where text is expected (an id, a month): read as its text.
        let texts: Vec<Option<String>> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| match c {
                Cell::Amount(d) if stray(i) => Some(d.to_string()),
                _ => None,
            })
            .collect();
        let cells: Vec<Cell<'_>> = cells
            .iter()
            .zip(&texts)
            .map(|(c, t)| match t {
                Some(t) => Cell::Text(t),
                None => *c,
            })
            .collect();
        self.push_row(table, cols, row, cells.as_slice());
    }

    /// [`Extract::push_values`] for cells whose amounts are all in amount columns (the typed
    /// reader's, by its plans): read as they are, with no look for amounts elsewhere.
    #[cfg(feature = "arrow")]
    #[inline]
    pub(crate) fn push_typed(&mut self, table: &str, cols: &Columns, row: u64, cells: &[Cell<'_>]) {
        self.push_row(table, cols, row, cells);
    }

    /// Ends a table read under `cols` (every reader calls it after a table's last row): a
    /// month column (a `date` column of daily balances) none of whose cells is a month (a
    /// date) is not a column of bad records but a column of something else — `2024/01`, a
    /// period's ordinal, a number — so the whole run stops, naming the table and the column
    /// (SPEC §15.4); a column with some months holds only the customers of the bad cells.
    ///
    /// ```
    /// use crm_tiering::RuleBook;
    /// use crm_tiering::portfolio::{Columns, Extract, TableKind};
    /// let book = RuleBook::default_book()?;
    /// let cols = Columns::resolve(&book, TableKind::Aum, &["月份", "customer_id", "aum"])?;
    /// let mut extract = Extract::new(&book);
    /// extract.push_cells("aum.csv", &cols, 2, &["2024/03", "c1", "250000"]);
    /// extract.push_cells("aum.csv", &cols, 3, &["2024/03", "c2", "250000"]);
    /// extract.end_table("aum.csv", &cols);
    /// let stop = &extract.fatal()[0];
    /// assert_eq!((stop.field(), stop.record.as_ref().map(|r| r.row)), (Some("月份"), Some(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn end_table(&mut self, table: &str, cols: &Columns) {
        let cells = std::mem::take(&mut self.month_cells);
        let column = match cols.kind {
            TableKind::Aum | TableKind::Designations => cols.column(&ColumnRole::Month),
            TableKind::Daily => cols.column(&ColumnRole::Date),
        };
        let (Some(column), 0, Some((row, why))) = (column, cells.read, cells.first_unread) else { return };
        let name = cols.name(column);
        let what = if cols.kind == TableKind::Daily { "date" } else { "month" };
        let message = format!(
            "column `{name}` of table `{table}` holds no {what}: none of its {} cells reads as one (the first: {why}); nothing was evaluated",
            cells.unread
        );
        let at = Some(RecordRef { table: table.to_string(), row });
        self.fatal.push(RecordError::at(InputError::new("", None, name, message), at));
    }

    fn push_row<C: Cells + ?Sized>(&mut self, table: &str, cols: &Columns, row: u64, cells: &C) {
        self.rejecting_designation = cols.kind == TableKind::Designations;
        self.push_row_of(table, cols, row, cells);
        self.rejecting_designation = false;
    }

    fn push_row_of<C: Cells + ?Sized>(&mut self, table: &str, cols: &Columns, row: u64, cells: &C) {
        let id = text_of(cols, cells, &ColumnRole::CustomerId);
        if cells.count() != cols.width() {
            let message = format!("the record has {} fields, the header {}", cells.count(), cols.width());
            self.reject(table, row, id, None, "record", message);
            return;
        }
        let id = id.unwrap_or_default();
        let kind = match text_of(cols, cells, &ColumnRole::CustomerKind).filter(|k| !k.is_empty()) {
            None => None,
            Some(k) => match customer_kind(k) {
                Ok(k) => Some(k),
                Err(e) => {
                    self.reject(table, row, Some(id), None, "customer_kind", e);
                    return;
                }
            },
        };
        let at = At { table, row, id, entity: text_of(cols, cells, &ColumnRole::LegalEntity), kind };
        match cols.kind {
            TableKind::Aum => self.push_aum_cells(&at, cols, cells),
            TableKind::Daily => self.push_daily_cells(&at, cols, cells),
            TableKind::Designations => {
                let Ok(Some(month)) = self.month_cell(&at, text_of(cols, cells, &ColumnRole::Month), "month") else {
                    return;
                };
                match self.designation_change(cols, cells) {
                    Ok(change) => self.push_designation(table, row, id, month, change),
                    Err((field, message)) => self.reject(table, row, Some(id), Some(month), &field, message),
                }
            }
        }
    }

    /// Reads a month cell (none: the table has no month column), counting it for
    /// [`Extract::end_table`]; a cell that is not a month rejects the record (`Err`).
    fn month_cell(&mut self, at: &At<'_>, text: Option<&str>, field: &str) -> Result<Option<Month>, ()> {
        match text {
            None => Ok(None),
            Some(t) => match t.parse::<Month>() {
                Ok(m) => {
                    self.month_cells.read += 1;
                    Ok(Some(m))
                }
                Err(e) => {
                    let message = e.to_string();
                    self.month_cells.unread(at.row, &message);
                    self.reject(at.table, at.row, Some(at.id), None, field, message);
                    Err(())
                }
            },
        }
    }

    /// Reads the cells of an AUM record: its measure values (SPEC §19.1), then component
    /// averages or a total.
    fn push_aum_cells<C: Cells + ?Sized>(&mut self, at: &At<'_>, cols: &Columns, cells: &C) {
        let Ok(month) = self.month_cell(at, text_of(cols, cells, &ColumnRole::Month), "month") else { return };
        if !cols.has_measures() {
            return self.push_aum_figures(at, month, cols, cells);
        }
        if self.read_measures((at.table, at.row, at.id), month, cols, cells) {
            self.push_aum_figures(at, month, cols, cells);
        }
        // Stored with the record when it was pushed; dropped when it was rejected.
        self.drop_pending_measures();
    }

    /// Reads the AUM figures of an AUM record: component averages, or a total.
    fn push_aum_figures<C: Cells + ?Sized>(&mut self, at: &At<'_>, month: Option<Month>, cols: &Columns, cells: &C) {
        let At { table, row, id, entity, kind } = *at;
        if cols.has_components() {
            return self.push_component_cells(at, month, cols, cells);
        }
        let column = cols.column(&ColumnRole::Aum).unwrap_or_default();
        let aum = match cell_amount_at(cols, cells, column) {
            Ok(Some(a)) => AumInput::Total(a),
            Ok(None) => return self.reject(table, row, Some(id), month, "aum", "the AUM is empty"),
            Err(e) => return self.reject(table, row, Some(id), month, "aum", e),
        };
        self.push_aum(table, row, id, entity, kind, month, aum);
    }

    /// Reads the component averages of an AUM record.
    fn push_component_cells<C: Cells + ?Sized>(
        &mut self,
        at: &At<'_>,
        month: Option<Month>,
        cols: &Columns,
        cells: &C,
    ) {
        let At { table, row, id, entity, kind } = *at;
        // Read into the scratch list first: the usual record goes from there to the fen arena,
        // any other is allocated once at its exact length.
        let mut read = std::mem::take(&mut self.scratch);
        read.clear();
        for (k, (i, code)) in cols.components.iter().enumerate() {
            match cell_amount_at(cols, cells, *i) {
                Ok(Some(amount)) => read.push((k, amount)),
                Ok(None) => {}
                Err(e) => return self.reject(table, row, Some(id), month, code, e),
            }
        }
        let Some(entity) = self.admit(table, row, id, entity, month) else {
            self.scratch = read;
            return;
        };
        let stored = self.store_columns(cols, &read);
        self.scratch = read;
        let stored = match stored {
            Some(stored) => stored,
            None => {
                let list = self
                    .scratch
                    .iter()
                    .filter_map(|&(k, amount)| {
                        let component = cols.components.get(k)?.1.clone();
                        Some(ComponentAmount { component, amount })
                    })
                    .collect();
                self.store_general(AumInput::Averages(list))
            }
        };
        self.push_record(table, row, id, entity, kind, month, stored);
    }

    /// Reads the cells of a daily balance.
    fn push_daily_cells<C: Cells + ?Sized>(&mut self, at: &At<'_>, cols: &Columns, cells: &C) {
        let At { table, row, id, entity, kind } = *at;
        let text = text_of(cols, cells, &ColumnRole::Date).unwrap_or_default();
        let Some(day) = date(text) else {
            let message = format!("`{text}` is not a date: expected YYYY-MM-DD or YYYYMMDD");
            self.month_cells.unread(row, &message);
            return self.reject(table, row, Some(id), None, "date", message);
        };
        self.month_cells.read += 1;
        let month = Month::from_date(day).ok();
        let component = text_of(cols, cells, &ColumnRole::Component).unwrap_or_default();
        let column = cols.column(&ColumnRole::Balance).unwrap_or_default();
        let balance = match cell_amount_at(cols, cells, column) {
            Ok(balance) => balance,
            Err(e) => return self.reject(table, row, Some(id), month, "balance", e),
        };
        self.push_daily(table, row, id, entity, kind, day, component, balance);
    }

    fn designation_change<C: Cells + ?Sized>(
        &self,
        cols: &Columns,
        cells: &C,
    ) -> Result<SpecialChange, (String, String)> {
        let cell = |role: &ColumnRole| cols.column(role).and_then(|i| cells.text(i)).map(trim_cr).unwrap_or_default();
        let action = cell(&ColumnRole::Action);
        // One spelling rule (SPEC §16): codes and names exactly as written, no case folding.
        match action {
            "revoke" | "撤销" => return Ok(SpecialChange::Revoke),
            "grant" | "认定" => {}
            _ => {
                return Err((
                    "special".into(),
                    format!("`{action}` is not a designation action: expected grant (认定) or revoke (撤销)"),
                ));
            }
        }
        let tier_text = cell(&ColumnRole::Tier);
        let tier = if tier_text.is_empty() {
            None
        } else {
            match self.tier_names.get(tier_text) {
                Some(t) => Some(*t),
                None => {
                    return Err((
                        "special.tier".into(),
                        format!("`{tier_text}` is not a tier of the rule book (a code or a Chinese or English name)"),
                    ));
                }
            }
        };
        let months_text = cell(&ColumnRole::Months);
        let months = if months_text.is_empty() {
            None
        } else if months_text.bytes().all(|b| b.is_ascii_digit()) && months_text.len() <= 4 {
            months_text.parse::<u32>().ok()
        } else {
            return Err((
                "special.months".into(),
                format!("`{months_text}` is not a number of months: expected a whole number such as 12"),
            ));
        };
        Ok(SpecialChange::Grant { tier, months })
    }
}

/// Where a record is and whose it is: the cells every kind of record has.
#[derive(Clone, Copy)]
struct At<'c> {
    table: &'c str,
    row: u64,
    id: &'c str,
    entity: Option<&'c str>,
    kind: Option<CustomerKind>,
}

/// The text of the cell of a role (`\r` trimmed); none when the header has no such column.
#[inline]
fn text_of<'c, C: Cells + ?Sized>(cols: &Columns, cells: &'c C, role: &ColumnRole) -> Option<&'c str> {
    cols.column(role).and_then(|i| cells.text(i)).map(trim_cr)
}
