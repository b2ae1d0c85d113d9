//! The typed push API of an [`Extract`]: AUM records, designations and daily balances given
//! as values, each customer id and legal entity checked, and bad records rejected (the
//! customer held back) or fatal (the customer cannot be identified).

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::{AumForm, DesignationRow, Extract, NO_ENTITY, Record, Reject};
use crate::aum::{AumInput, ComponentDaily};
use crate::engine::{MonthInput, SpecialChange};
use crate::error::InputError;
use crate::month::Month;
use crate::portfolio::record::{MAX_CUSTOMER_ID_BYTES, RecordError, RecordRef, validate_customer_id};
use crate::rules::CustomerKind;

impl Extract {
    /// Records a bad record. With a usable customer id the customer is held back (from the
    /// record's month on, or for every month when the month is unknown); without one the month
    /// cannot run.
    pub fn reject(
        &mut self,
        table: &str,
        row: u64,
        customer_id: Option<&str>,
        month: Option<Month>,
        field: &str,
        message: impl Into<String>,
    ) {
        let at = Some(RecordRef { table: table.to_string(), row });
        match customer_id.filter(|id| validate_customer_id(id).is_ok()) {
            Some(id) => {
                let error = RecordError::at(InputError::new(id, month, field, message), at);
                let aum = !self.rejecting_designation;
                self.rejects.push(Reject { customer_id: id.to_string(), aum, month, error });
            }
            None => {
                let message = message.into();
                let why = match customer_id {
                    Some(id) => match validate_customer_id(id) {
                        Err(e) => format!("{message}; and the customer cannot be identified: {e}"),
                        Ok(()) => message,
                    },
                    None => format!("{message}; and the record names no customer"),
                };
                self.fatal.push(RecordError::at(InputError::new("", month, field, why), at));
            }
        }
    }

    /// Checks an id; an unusable one makes the record fatal.
    fn identify(&mut self, table: &str, row: u64, id: &str, month: Option<Month>) -> bool {
        if plainly_valid(id) {
            return true;
        }
        match validate_customer_id(id) {
            Ok(()) => true,
            Err(e) => {
                let at = Some(RecordRef { table: table.to_string(), row });
                let error = InputError::new(
                    "",
                    month,
                    "customer_id",
                    format!("{e}: a record whose customer cannot be identified stops the run"),
                );
                self.fatal.push(RecordError::at(error, at));
                false
            }
        }
    }

    /// Adds a typed AUM record.
    ///
    /// Component averages of two decimals, not negative and within the maximum amount (the
    /// usual record), and totals are kept in integer fen; anything else is kept as given.
    #[expect(clippy::too_many_arguments, reason = "a record's cells, as typed readers hold them apart")]
    pub fn push_aum(
        &mut self,
        table: &str,
        row: u64,
        customer_id: &str,
        legal_entity: Option<&str>,
        kind: Option<CustomerKind>,
        month: Option<Month>,
        aum: AumInput,
    ) {
        if let Some(entity) = self.admit(table, row, customer_id, legal_entity, month) {
            let stored = self.store_aum(aum);
            self.push_record(table, row, customer_id, entity, kind, month, stored);
        }
    }

    /// Checks an AUM record's customer id and legal entity: the legal entity to keep (none for
    /// an empty one) when the record can be added; none when it was rejected or is fatal.
    pub(super) fn admit<'e>(
        &mut self,
        table: &str,
        row: u64,
        customer_id: &str,
        legal_entity: Option<&'e str>,
        month: Option<Month>,
    ) -> Option<Option<&'e str>> {
        if !self.identify(table, row, customer_id, month) {
            return None;
        }
        let legal_entity = legal_entity.filter(|e| !e.is_empty());
        if let Some(e) = legal_entity
            && !plainly_valid(e)
            && let Err(err) = validate_customer_id(e)
        {
            let message = err.to_string().replace("customer id", "legal entity code");
            self.reject(table, row, Some(customer_id), month, "legal_entity", message);
            return None;
        }
        Some(legal_entity)
    }

    /// Adds an admitted record whose figures are stored.
    #[expect(clippy::too_many_arguments, reason = "a record's cells, as the readers hold them apart")]
    pub(super) fn push_record(
        &mut self,
        table: &str,
        row: u64,
        customer_id: &str,
        legal_entity: Option<&str>,
        kind: Option<CustomerKind>,
        month: Option<Month>,
        (form, aum_at, aum_len): (AumForm, u64, u32),
    ) {
        let table = self.table(table);
        let entity = legal_entity.map_or(NO_ENTITY, |e| self.entity(e));
        let id_at = self.ids.len() as u64;
        self.ids.push_str(customer_id);
        // Admitted ids have at most `MAX_CUSTOMER_ID_BYTES` bytes.
        let id_len = u8::try_from(customer_id.len()).unwrap_or(u8::MAX);
        self.records.push(Record { row, id_at, aum_at, table, entity, aum_len, month, id_len, kind, form });
        self.store_pending_measures(self.records.len() - 1);
    }

    /// Adds a typed designation.
    pub fn push_designation(&mut self, table: &str, row: u64, customer_id: &str, month: Month, change: SpecialChange) {
        if !self.identify(table, row, customer_id, Some(month)) {
            return;
        }
        let t = self.table(table);
        self.designations.push(DesignationRow { table: t, row, customer_id: customer_id.to_string(), month, change });
    }

    /// Adds one daily balance (`None`: no balance that day).
    #[expect(clippy::too_many_arguments, reason = "a daily balance's cells, as typed readers hold them apart")]
    pub fn push_daily(
        &mut self,
        table: &str,
        row: u64,
        customer_id: &str,
        legal_entity: Option<&str>,
        kind: Option<CustomerKind>,
        day: NaiveDate,
        component: &str,
        balance: Option<Decimal>,
    ) {
        let month = match Month::from_date(day) {
            Ok(m) => m,
            Err(e) => {
                self.reject(table, row, Some(customer_id), None, "date", e.to_string());
                return;
            }
        };
        if !self.identify(table, row, customer_id, Some(month)) {
            return;
        }
        let key = (customer_id.to_string(), month);
        let index = match self.daily_rows.get(&key) {
            Some(&i) => i,
            None => {
                let before = self.records.len();
                self.push_aum(table, row, customer_id, legal_entity, kind, Some(month), AumInput::Daily(Vec::new()));
                if self.records.len() == before {
                    return;
                }
                self.daily_rows.insert(key, before);
                before
            }
        };
        let days = month.days() as usize;
        let slot = day.day0() as usize;
        let Some(&r) = self.records.get(index) else { return };
        if let Some(e) = legal_entity.filter(|e| !e.is_empty())
            && r.entity == NO_ENTITY
        {
            let entity = self.entity(e);
            if let Some(r) = self.records.get_mut(index) {
                r.entity = entity;
            }
        }
        if kind.is_some()
            && let Some(r) = self.records.get_mut(index)
        {
            r.kind = r.kind.or(kind);
        }
        let general = match r.form {
            AumForm::General => usize::try_from(r.aum_at).ok().and_then(|at| self.general.get_mut(at)),
            AumForm::Fen | AumForm::Total => None,
        };
        let Some(MonthInput { aum: AumInput::Daily(series), .. }) = general else { return };
        let k = match series.iter().position(|s| s.component == component) {
            Some(k) => k,
            None => {
                series.push(ComponentDaily { component: component.to_string(), balances: vec![None; days] });
                series.len() - 1
            }
        };
        // `k` is a component of the series, `slot` a day of its month: both always there.
        let Some(at) = series.get_mut(k).and_then(|s| s.balances.get_mut(slot)) else { return };
        if at.is_some() {
            let message = format!("a second balance of component `{component}` for {day}");
            self.reject(table, row, Some(customer_id), Some(month), "balance", message);
            return;
        }
        *at = balance;
    }

    /// Room for `additional` more AUM records, for a reader that knows how many are coming.
    pub fn reserve(&mut self, additional: usize) {
        self.records.reserve(additional);
    }
}

/// Whether an id or code is certainly valid (printable ASCII without spaces, 1 to 64 bytes),
/// the usual case, checked without [`validate_customer_id`]'s character-by-character rule.
#[inline]
fn plainly_valid(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CUSTOMER_ID_BYTES && id.bytes().all(|b| b.is_ascii_graphic())
}
