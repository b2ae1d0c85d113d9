//! The measure values of an [`Extract`]'s records (SPEC §19.1): read from a record's measure
//! columns, kept exactly as given (decimals, never floats) beside the records, and handed to
//! the evaluation as [`MonthInput::measures`](crate::engine::MonthInput::measures).
//!
//! A book without measures has no measure columns: nothing is read, stored or looked up for
//! its records, and a record's measures are an empty map (which does not allocate).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::Extract;
use super::cells::{Cells, cell_amount_at};
use crate::aum::AumInput;
use crate::code::MeasureCode;
use crate::engine::Measures;
use crate::error::{InputError, RuleError, TieringError};
use crate::month::Month;
use crate::portfolio::columns::Columns;
use crate::rules::{CustomerKind, RuleBook};

/// The measure values of the records that give any, records in reading order.
#[derive(Debug, Clone, Default)]
pub(super) struct MeasureArena {
    /// The measure codes, interned: a value's code is an index into them.
    codes: Vec<MeasureCode>,
    /// The values, record after record: (code index, value as given).
    values: Vec<(u16, Decimal)>,
    /// The records that give values: (record index, first value), by record index; a record's
    /// values end where the next one's begin.
    spans: Vec<(usize, usize)>,
    /// The values of the record being read, until it is stored.
    pending: Vec<(u16, Decimal)>,
}

impl MeasureArena {
    /// The index of a measure code, interned; none past `u16::MAX` codes (never: a book
    /// declares far fewer).
    fn code(&mut self, code: &Arc<str>) -> Option<u16> {
        if let Some(i) = self.codes.iter().position(|c| c.as_str() == &**code) {
            return u16::try_from(i).ok();
        }
        // A column resolves as a measure only when the book declares it, and the book's codes
        // are registered: interning finds it.
        self.intern(MeasureCode::new(code).ok()?)
    }

    /// The index of an interned measure code; none past `u16::MAX` codes.
    fn intern(&mut self, code: MeasureCode) -> Option<u16> {
        if let Some(i) = self.codes.iter().position(|c| *c == code) {
            return u16::try_from(i).ok();
        }
        let i = u16::try_from(self.codes.len()).ok()?;
        self.codes.push(code);
        Some(i)
    }

    /// The values of record `k`, by code index.
    fn of(&self, k: usize) -> &[(u16, Decimal)] {
        let Ok(at) = self.spans.binary_search_by_key(&k, |&(record, _)| record) else { return &[] };
        let start = self.spans.get(at).map_or(0, |&(_, start)| start);
        let end = self.spans.get(at + 1).map_or(self.values.len(), |&(_, start)| start);
        self.values.get(start..end).unwrap_or_default()
    }
}

impl Extract {
    /// Adds a typed AUM record with its measure values (SPEC §19.1), kept as given: the
    /// record [`Extract::push_aum`] adds, whose evaluation reads `measures` as a text record's
    /// measure columns are read. A measure without a value follows its `absent`; a value of a
    /// measure the rules in force do not declare fails the customer's evaluation, as any
    /// input's does.
    ///
    /// ```
    /// use crm_tiering::{AumInput, MeasureCode, Measures, RuleBook, from_fen};
    /// use crm_tiering::portfolio::Extract;
    /// let book = RuleBook::default_book()?;
    /// let mut extract = Extract::new(&book);
    /// let loans: MeasureCode = "loan_balance".parse()?;
    /// let measures: Measures = [(loans, from_fen(650_000_000))].into_iter().collect();
    /// let aum = AumInput::Total(from_fen(100_000_000));
    /// extract.push_aum_with_measures("aum", 1, "c1", None, None, None, aum, &measures);
    /// assert_eq!(extract.rows().get(0).map(|r| r.measures()), Some(measures));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[expect(clippy::too_many_arguments, reason = "a record's cells, as typed readers hold them apart")]
    pub fn push_aum_with_measures(
        &mut self,
        table: &str,
        row: u64,
        customer_id: &str,
        legal_entity: Option<&str>,
        kind: Option<CustomerKind>,
        month: Option<Month>,
        aum: AumInput,
        measures: &Measures,
    ) {
        self.measures.pending.clear();
        for (code, value) in measures.iter() {
            let Some(c) = self.measures.intern(code) else {
                // Never: a book declares far fewer codes. Refused rather than dropped.
                self.measures.pending.clear();
                self.reject(table, row, Some(customer_id), month, code.as_str(), "the measure code cannot be kept");
                return;
            };
            self.measures.pending.push((c, *value));
        }
        self.push_aum(table, row, customer_id, legal_entity, kind, month, aum);
        // Stored with the record when it was pushed; dropped when it was rejected.
        self.drop_pending_measures();
    }

    /// Reads the measure cells of an AUM record into the pending values: an empty cell gives
    /// no value (the measure's `absent` applies); a cell that is not an amount rejects the
    /// record, naming the measure's column (`false`).
    pub(super) fn read_measures<C: Cells + ?Sized>(
        &mut self,
        (table, row, id): (&str, u64, &str),
        month: Option<Month>,
        cols: &Columns,
        cells: &C,
    ) -> bool {
        self.measures.pending.clear();
        for (i, code) in &cols.measures {
            match cell_amount_at(cols, cells, *i) {
                Ok(Some(value)) => {
                    let Some(c) = self.measures.code(code) else {
                        // Never: a measure column names a code the book registered. Refused
                        // rather than dropped, should it ever happen.
                        self.measures.pending.clear();
                        self.reject(table, row, Some(id), month, code, "the measure code cannot be kept");
                        return false;
                    };
                    self.measures.pending.push((c, value));
                }
                Ok(None) => {}
                Err(e) => {
                    self.measures.pending.clear();
                    self.reject(table, row, Some(id), month, code, e);
                    return false;
                }
            }
        }
        true
    }

    /// Stores the pending measure values (if any) as record `k`'s, the record just pushed.
    #[inline]
    pub(super) fn store_pending_measures(&mut self, k: usize) {
        if self.measures.pending.is_empty() {
            return;
        }
        let arena = &mut self.measures;
        arena.spans.push((k, arena.values.len()));
        arena.values.append(&mut arena.pending);
    }

    /// Drops the pending measure values of a record that was not pushed.
    #[inline]
    pub(super) fn drop_pending_measures(&mut self) {
        self.measures.pending.clear();
    }

    /// The measure values of record `k`, by measure code: empty (no allocation) when it gives
    /// none.
    pub(super) fn measures_of(&self, k: usize) -> Measures {
        if self.measures.spans.is_empty() {
            return Measures::EMPTY;
        }
        let codes = &self.measures.codes;
        self.measures.of(k).iter().filter_map(|&(c, value)| Some((*codes.get(usize::from(c))?, value))).collect()
    }
}

impl Extract {
    /// Gives measure `code` to the records of `month` from values computed beside the extract
    /// (SPEC §20.11: a contribution month as a tiering measure): the record of customer `c`
    /// gets `values[c]`. A record without one has no value, and the measure's `absent` applies
    /// in the evaluation. A record without a month (a table without a month column) counts as
    /// of `month`; records of other months are left as they are. Returns how many records got
    /// a value.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use crm_tiering::{Decimal, RuleBook};
    /// use crm_tiering::portfolio::{Columns, Extract, TableKind};
    /// let book = RuleBook::from_toml_str(&crm_tiering::DEFAULT_RULES_TOML.replace(
    ///     "[[rule_sets.versions.tiers]]\ncode = \"gold\"",
    ///     "[[rule_sets.versions.measures]]\ncode = \"contribution\"\n\n[[rule_sets.versions.tiers]]\ncode = \"gold\"",
    /// ))?;
    /// let cols = Columns::resolve(&book, TableKind::Aum, &["month", "customer_id", "aum"])?;
    /// let mut extract = Extract::new(&book);
    /// extract.push_cells("aum.csv", &cols, 2, &["2024-03", "c1", "250000"]);
    /// extract.push_cells("aum.csv", &cols, 3, &["2024-03", "c2", "12000"]);
    /// let month = "2024-03".parse()?;
    /// let values = HashMap::from([("c1", Decimal::new(164027, 2)), ("c9", Decimal::ONE)]);
    /// assert_eq!(extract.supply_measure(&book, "contribution", month, &values)?, 1);
    /// // Twice is a second source for the same value: refused, naming the customer.
    /// let again = extract.supply_measure(&book, "contribution", month, &values);
    /// assert_eq!(again.unwrap_err().field(), Some("measures.contribution"));
    /// // Values none of whose customers has a record: the ids do not match; refused.
    /// let elsewhere = HashMap::from([("C000001", Decimal::ONE)]);
    /// let mut fresh = Extract::new(&book);
    /// fresh.push_cells("aum.csv", &cols, 2, &["2024-03", "c1", "250000"]);
    /// assert!(fresh.supply_measure(&book, "contribution", month, &elsewhere).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Nothing is changed when it fails:
    /// - a rules error on `measures` when `book` declares no measure `code`, and on
    ///   `rule_sets[i].measures` when a rule set's version in force for `month` does not;
    /// - an input error naming the customer, the month and `measures.<code>` when a record of
    ///   `month` gives the measure already (from its own column): two sources for one value;
    /// - an input error on `measures.<code>` when `values` is not empty and none of its
    ///   customers has a record of `month`: the two name their customers differently (or are
    ///   of different months), and every record would silently take the measure's `absent`.
    pub fn supply_measure<K: Borrow<str> + Eq + Hash>(
        &mut self,
        book: &RuleBook,
        code: &str,
        month: Month,
        values: &HashMap<K, Decimal>,
    ) -> Result<usize, TieringError> {
        let Some(declared) = book.measure_codes().into_iter().find(|c| c.as_str() == code) else {
            return Err(RuleError::new("measures", format!("the rule book declares no measure `{code}`")).into());
        };
        // Every customer of the month gets the value, whichever rule set tiers it: each set's
        // version in force declares the measure, or the values would be refused customer by
        // customer as undeclared.
        for (i, set) in book.rule_sets().iter().enumerate() {
            if let Some(v) = set.version_for(month)
                && !v.measures.iter().any(|m| m.code.as_str() == code)
            {
                let message = format!(
                    "rule set `{}` (version from {}) does not declare measure `{code}`, which is given to every customer of {month}: declare it there too (a measure no criterion reads changes no tier)",
                    set.name, v.effective_from
                );
                return Err(RuleError::new(format!("rule_sets[{i}].measures"), message).into());
            }
        }
        let Some(c) = self.measures.intern(declared) else {
            return Err(RuleError::new("measures", format!("the measure `{code}` cannot be kept")).into());
        };
        let (mut kept, mut spans, mut given) = (Vec::new(), Vec::new(), 0);
        for (k, r) in self.records.iter().enumerate() {
            let old = self.measures.of(k);
            let mut supplied = None;
            if r.month.is_none_or(|m| m == month) {
                let id = self.id_of(r);
                if old.iter().any(|&(x, _)| x == c) {
                    let message = "is given twice: by the input's column and by the values supplied for the month";
                    return Err(InputError::new(id, Some(month), format!("measures.{code}"), message).into());
                }
                supplied = values.get(id).copied();
            }
            if old.is_empty() && supplied.is_none() {
                continue;
            }
            spans.push((k, kept.len()));
            kept.extend_from_slice(old);
            if let Some(v) = supplied {
                kept.push((c, v));
                given += 1;
            }
        }
        if given == 0 && !values.is_empty() {
            let message = format!(
                "none of the {} customers given a value has a record of {month}: the values and the records name their customers differently, or are of other months",
                values.len()
            );
            return Err(InputError::new("", Some(month), format!("measures.{code}"), message).into());
        }
        self.measures.values = kept;
        self.measures.spans = spans;
        Ok(given)
    }
}
