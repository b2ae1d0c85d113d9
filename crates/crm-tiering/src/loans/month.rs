//! One loan month (SPEC §21.9): a month's loan records grouped by customer, every customer of
//! the records and of the states after the month before classified by [`evaluate_loans`] in id
//! order, all or nothing. The one grouping the CLI and the C ABI call.

use std::collections::{BTreeMap, BTreeSet};

use super::error::LoanError;
use super::evaluate::{LoanOutcome, evaluate_loans};
use super::input::{LoanMonth, LoanState};
use super::settings::LoanSettings;
use crate::month::Month;

/// One customer's error in a loan month, with the records it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanMonthError {
    /// The error of [`evaluate_loans`] for the customer.
    pub error: LoanError,
    /// The record the error names: its index in the month's records, from 0 (SPEC §21.9: the
    /// record `evaluate_loans` refused; for a loan given twice, the second record; none for a
    /// sequence or settings error).
    pub record: Option<usize>,
    /// For a loan given twice, the first record of the loan; otherwise none.
    pub other_record: Option<usize>,
}

/// A refused loan month: every customer's error, customers in id order (bytes); never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanMonthErrors(pub Vec<LoanMonthError>);

impl std::fmt::Display for LoanMonthErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, e) in self.0.iter().enumerate() {
            if k > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", e.error)?;
        }
        Ok(())
    }
}

impl std::error::Error for LoanMonthErrors {}

/// The records of each customer, by id, each with its index in the month's records.
type ByCustomer<'a> = BTreeMap<&'a str, Vec<(usize, &'a LoanMonth)>>;

/// Classifies a month's loans (SPEC §21.9): the records are grouped by their `customer_id`,
/// and every customer with a record and every customer of `states` (the states after the month
/// before, whose loans may all have closed) is classified by [`evaluate_loans`] in id order
/// (bytes), from its state (none: the initial state), under `settings`. Returns the outcomes in
/// customer-id order.
///
/// # Errors
/// All or nothing: when any customer's month is refused (SPEC §21.6: a bad record, a loan
/// twice, a month out of order for the state, invalid settings), every customer is still
/// checked and [`LoanMonthErrors`] lists each refused customer's error in id order, with the
/// record it names (an index into `records`).
pub fn evaluate_loan_month(
    settings: &LoanSettings,
    month: Month,
    records: &[LoanMonth],
    states: &BTreeMap<String, LoanState>,
) -> Result<Vec<LoanOutcome>, LoanMonthErrors> {
    let mut by_customer: ByCustomer<'_> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        by_customer.entry(r.customer_id.as_str()).or_default().push((i, r));
    }
    let customers: BTreeSet<&str> = by_customer.keys().copied().chain(states.keys().map(String::as_str)).collect();
    let (mut outcomes, mut errors) = (Vec::with_capacity(customers.len()), Vec::new());
    let empty = LoanState::default();
    for id in customers {
        let rows = by_customer.get(id).map(Vec::as_slice).unwrap_or_default();
        let loans: Vec<LoanMonth> = rows.iter().map(|r| r.1.clone()).collect();
        match evaluate_loans(settings, id, month, states.get(id).unwrap_or(&empty), &loans) {
            Ok(o) if errors.is_empty() => outcomes.push(o),
            Ok(_) => {}
            Err(error) => {
                let (record, other_record) = records_named(&error, settings, month, rows);
                errors.push(LoanMonthError { error, record, other_record });
            }
        }
    }
    if errors.is_empty() { Ok(outcomes) } else { Err(LoanMonthErrors(errors)) }
}

/// The record an error names, and for a duplicate the first record of the loan: the record the
/// core checked and refused, found by checking the customer's records of that loan one by one.
fn records_named(
    e: &LoanError,
    settings: &LoanSettings,
    month: Month,
    rows: &[(usize, &LoanMonth)],
) -> (Option<usize>, Option<usize>) {
    let Some(loan) = e.loan() else { return (None, None) };
    let mut of_loan = rows.iter().filter(|(_, r)| r.loan_id == loan);
    if let LoanError::Duplicate { .. } = e {
        let first = of_loan.next().map(|r| r.0);
        return (of_loan.next().map(|r| r.0), first);
    }
    let customer = e.customer().unwrap_or_default();
    let alone = |r: &LoanMonth| {
        evaluate_loans(settings, customer, month, &LoanState::default(), std::slice::from_ref(r)).err().as_ref()
            == Some(e)
    };
    let named = rows.iter().filter(|(_, r)| r.loan_id == loan).find(|(_, r)| alone(r)).or_else(|| rows.first());
    (named.map(|r| r.0), None)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "tests index outcomes and errors whose count they check")]
mod tests {
    use super::*;

    fn record(customer: &str, loan: &str, days: i64) -> LoanMonth {
        LoanMonth {
            customer_id: customer.into(),
            loan_id: loan.into(),
            month: "2024-03".parse().unwrap(),
            principal_overdue_days: days,
            interest_overdue_days: 0,
            bank_class: "正常".into(),
            expected_loss: None,
            repayment_due: false,
        }
    }

    fn month() -> Month {
        "2024-03".parse().unwrap()
    }

    #[test]
    fn customers_of_records_and_states_in_id_order() {
        let records = [record("c2", "L2", 0), record("c1", "L1", 95), record("c2", "L3", 0)];
        let earlier = [record("c3", "L9", 0)];
        let feb: Month = "2024-02".parse().unwrap();
        let earlier = [LoanMonth { month: feb, ..earlier[0].clone() }];
        let c3 = evaluate_loans(&LoanSettings::default(), "c3", feb, &LoanState::default(), &earlier).unwrap();
        let states = BTreeMap::from([("c3".to_string(), c3.state)]);
        let outcomes = evaluate_loan_month(&LoanSettings::default(), month(), &records, &states).unwrap();
        let ids: Vec<&str> = outcomes.iter().map(|o| o.customer_id.as_str()).collect();
        assert_eq!(ids, ["c1", "c2", "c3"]);
        assert_eq!(outcomes[1].loans.len(), 2);
        assert!(outcomes[0].has_non_performing);
        assert!(outcomes[2].loans.is_empty(), "c3's loan closed");
    }

    #[test]
    fn every_customer_error_is_listed_with_its_record() {
        let records = [
            record("c2", "L2", -1),
            record("c1", "L1", 0),
            record("c3", "L4", 0),
            record("c1", "L1", 0),
            record("c3", "L5", 0),
        ];
        let errors = evaluate_loan_month(&LoanSettings::default(), month(), &records, &BTreeMap::new()).unwrap_err();
        let named: Vec<(Option<&str>, Option<usize>, Option<usize>)> =
            errors.0.iter().map(|e| (e.error.customer(), e.record, e.other_record)).collect();
        assert_eq!(named, [(Some("c1"), Some(3), Some(1)), (Some("c2"), Some(0), None)]);
        assert_eq!(errors.to_string().lines().count(), 2);
        assert!(errors.to_string().starts_with("invalid loan record for customer `c1`"), "{errors}");
    }

    #[test]
    fn the_refused_record_of_a_loan_is_named() {
        let records = [record("c1", "L1", 0), record("c1", "L1", -5)];
        let errors = evaluate_loan_month(&LoanSettings::default(), month(), &records, &BTreeMap::new()).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!((errors.0[0].record, errors.0[0].error.field()), (Some(1), Some("principal_overdue_days")));
    }

    #[test]
    fn a_sequence_error_names_no_record() {
        let jan: Month = "2024-01".parse().unwrap();
        let state = LoanState { month: Some(jan), ..LoanState::default() };
        let mut r = record("c1", "L1", 0);
        let c1 = evaluate_loans(
            &LoanSettings::default(),
            "c1",
            jan,
            &LoanState::default(),
            &[LoanMonth { month: jan, ..r.clone() }],
        )
        .unwrap();
        r.month = month();
        let states = BTreeMap::from([("c1".to_string(), c1.state), ("c0".to_string(), state)]);
        let errors = evaluate_loan_month(&LoanSettings::default(), month(), &[r], &states).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!((errors.0[0].error.category(), errors.0[0].record), ("sequence", None));
    }
}
