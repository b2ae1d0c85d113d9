//! Where an [`Extract`] keeps its records: legal entities, component codes and table names
//! interned, the usual figures in integer fen, anything else as given; and the figures made
//! back from that storage.

use std::borrow::Cow;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::{AumForm, Extract, NO_ENTITY, Record};
use crate::aum::{AumInput, ComponentAmount, FenSlot, sum_fen};
use crate::engine::{MonthInput, SpecialChange};
use crate::money::fen_of;
use crate::portfolio::columns::Columns;

impl Extract {
    /// The input of a record kept as given.
    pub(super) fn general_of(&self, r: &Record) -> Option<&MonthInput> {
        match r.form {
            AumForm::General => self.general.get(usize::try_from(r.aum_at).ok()?),
            AumForm::Fen | AumForm::Total => None,
        }
    }

    /// The fen entries of a record kept in fen: (code index, fen).
    fn fen_entries(&self, r: &Record) -> impl Iterator<Item = (usize, i64)> + '_ {
        let range = match r.form {
            AumForm::Fen => usize::try_from(r.aum_at).map_or(0..0, |at| at..at + r.aum_len as usize),
            AumForm::Total | AumForm::General => 0..0,
        };
        let codes = self.fen_codes.get(range.clone()).unwrap_or_default();
        let amounts = self.fen_amounts.get(range).unwrap_or_default();
        codes.iter().zip(amounts).map(|(&c, &fen)| (usize::from(c), fen))
    }

    /// A record's figures, as given.
    pub(super) fn aum_of(&self, r: &Record) -> AumInput {
        match r.form {
            AumForm::Fen => AumInput::Averages(
                self.fen_entries(r)
                    .map(|(c, fen)| ComponentAmount {
                        component: self.codes.get(c).cloned().unwrap_or_else(|| Arc::from("")),
                        amount: crate::money::from_fen(fen),
                    })
                    .collect(),
            ),
            AumForm::Total => AumInput::Total(total_of(r.aum_at, r.aum_len)),
            AumForm::General => self.general_of(r).map(|i| i.aum.clone()).unwrap_or_default(),
        }
    }

    /// The component codes of the fen arena, by index: [`Extract::input_of`] takes the
    /// composition's [`FenSlot`] of each.
    pub(crate) fn fen_codes(&self) -> &[Arc<str>] {
        &self.codes
    }

    /// The month input of record `k` for the evaluation, with a designation change and the
    /// record's measure values (none for a book without measures): component averages kept in
    /// fen are summed here with `slots` (the [`FenSlot`] of each code of [`Extract::fen_codes`]
    /// under the customer's composition, when known) and given as the total they make, which
    /// the engine takes as is; whatever the sum in fen cannot decide is given as the averages
    /// themselves, for the engine's general computation.
    pub(crate) fn input_of(
        &self,
        k: usize,
        slots: Option<&[FenSlot]>,
        special: Option<SpecialChange>,
    ) -> Cow<'_, MonthInput> {
        let Some(r) = self.records.get(k) else {
            return Cow::Owned(MonthInput { aum: AumInput::default(), special, measures: Default::default() });
        };
        // Empty (no allocation, no look-up) for a book without measures.
        let measures = self.measures_of(k);
        let aum = match r.form {
            AumForm::General => match (self.general_of(r), special) {
                (Some(input), None) if measures.is_empty() => return Cow::Borrowed(input),
                (Some(input), _) => input.aum.clone(),
                (None, _) => AumInput::default(),
            },
            AumForm::Total => AumInput::Total(total_of(r.aum_at, r.aum_len)),
            AumForm::Fen => match slots.and_then(|slots| sum_fen(slots, self.fen_entries(r))) {
                Some(total) => AumInput::Total(total),
                None => self.aum_of(r),
            },
        };
        Cow::Owned(MonthInput { aum, special, measures })
    }

    /// The index of a legal entity, interned.
    pub(super) fn entity(&mut self, entity: &str) -> u32 {
        if let Some(&i) = self.entity_index.get(entity) {
            return i;
        }
        let Ok(i) = u32::try_from(self.entities.len()) else { return NO_ENTITY };
        if i == NO_ENTITY {
            return NO_ENTITY;
        }
        self.entities.push(entity.into());
        self.entity_index.insert(entity.into(), i);
        i
    }

    /// The index of a component code, interned; none past `u16::MAX` codes.
    fn code(&mut self, code: &Arc<str>) -> Option<u16> {
        if let Some(&i) = self.code_index.get(&**code) {
            return Some(i);
        }
        let i = u16::try_from(self.codes.len()).ok()?;
        self.codes.push(code.clone());
        self.code_index.insert(code.clone(), i);
        Some(i)
    }

    /// The code indices of a header's component columns (remembered for the next record
    /// under the same header); none when there are too many codes for the fen arena.
    fn column_codes(&mut self, cols: &Columns) -> bool {
        let same = self.column_codes.len() == cols.components.len()
            && self.column_codes.iter().zip(&cols.components).all(|((a, _), (_, b))| Arc::ptr_eq(a, b));
        if same {
            return true;
        }
        self.column_codes.clear();
        for (_, code) in &cols.components {
            let Some(i) = self.code(code) else {
                self.column_codes.clear();
                return false;
            };
            self.column_codes.push((code.clone(), i));
        }
        true
    }

    /// Stores a record's figures: in fen when they allow it, as given otherwise.
    pub(super) fn store_aum(&mut self, aum: AumInput) -> (AumForm, u64, u32) {
        match aum {
            AumInput::Total(a) if !a.is_sign_negative() => match u64::try_from(a.mantissa()) {
                Ok(m) => (AumForm::Total, m, a.scale()),
                Err(_) => self.store_general(AumInput::Total(a)),
            },
            AumInput::Averages(list) => {
                let at = self.fen_codes.len();
                for c in &list {
                    match (fen_of(&c.amount), self.code(&c.component)) {
                        (Some(fen), Some(code)) => {
                            self.fen_codes.push(code);
                            self.fen_amounts.push(fen);
                        }
                        _ => {
                            self.fen_codes.truncate(at);
                            self.fen_amounts.truncate(at);
                            return self.store_general(AumInput::Averages(list));
                        }
                    }
                }
                match u32::try_from(list.len()) {
                    Ok(len) => (AumForm::Fen, at as u64, len),
                    Err(_) => {
                        self.fen_codes.truncate(at);
                        self.fen_amounts.truncate(at);
                        self.store_general(AumInput::Averages(list))
                    }
                }
            }
            other => self.store_general(other),
        }
    }

    /// Stores the component averages read under a header, (component, amount) in column
    /// order, in fen; none (nothing stored) when they do not all allow it.
    pub(super) fn store_columns(&mut self, cols: &Columns, read: &[(usize, Decimal)]) -> Option<(AumForm, u64, u32)> {
        if !self.column_codes(cols) {
            return None;
        }
        let len = u32::try_from(read.len()).ok()?;
        let at = self.fen_codes.len();
        for &(k, amount) in read {
            match (fen_of(&amount), self.column_codes.get(k)) {
                (Some(fen), Some(&(_, code))) => {
                    self.fen_codes.push(code);
                    self.fen_amounts.push(fen);
                }
                _ => {
                    self.fen_codes.truncate(at);
                    self.fen_amounts.truncate(at);
                    return None;
                }
            }
        }
        Some((AumForm::Fen, at as u64, len))
    }

    pub(super) fn store_general(&mut self, aum: AumInput) -> (AumForm, u64, u32) {
        self.general.push(MonthInput { aum, special: None, measures: Default::default() });
        (AumForm::General, (self.general.len() - 1) as u64, 0)
    }

    pub(super) fn table(&mut self, name: &str) -> u32 {
        // Records come table by table: the last table is the usual answer.
        if let Some(last) = self.tables.last()
            && last == name
        {
            return table_index(self.tables.len() - 1);
        }
        if let Some(i) = self.tables.iter().rposition(|t| t == name) {
            return table_index(i);
        }
        self.tables.push(name.to_string());
        table_index(self.tables.len() - 1)
    }
}

/// A table's index as records keep it. One table is a file or a record batch read: never
/// 2^32 of them; `u32::MAX` would name no table (its records' table name would read empty).
fn table_index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// A total kept as its mantissa and scale ([`AumForm::Total`]): the same decimal.
#[inline]
fn total_of(mantissa: u64, scale: u32) -> Decimal {
    Decimal::try_from_i128_with_scale(i128::from(mantissa), scale).unwrap_or_default()
}
