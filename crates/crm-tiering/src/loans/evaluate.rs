//! One customer's loans for one month: the checks, each loan's classes and the customer's
//! summary and signals (SPEC §21.3–§21.6).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::class::{LoanClass, Trend, Upgrade};
use super::error::LoanError;
use super::input::{LoanMemory, LoanMonth, LoanState};
use super::settings::LoanSettings;
use super::signal::{LoanSignal, LoanSignalKind};
use crate::month::Month;

/// One loan's classification for the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoanResult {
    /// The loan id.
    pub loan_id: String,
    /// Days the principal is overdue.
    pub principal_overdue_days: u32,
    /// Days interest is overdue.
    pub interest_overdue_days: u32,
    /// The larger of the two: what the floor reads.
    pub overdue_days: u32,
    /// The regulatory floor from the overdue days.
    pub floor: LoanClass,
    /// The bank's own class.
    pub bank: LoanClass,
    /// The effective class: the worse of the floor and the bank's class, held at 次级 while an
    /// upgrade out of non-performing waits for the clean window.
    pub effective: LoanClass,
    /// Whether the bank's class is kinder than the floor.
    pub bank_kinder_than_floor: bool,
    /// Whether the loan leaves non-performing this month, or is held.
    pub upgrade: Upgrade,
    /// Consecutive clean months, this month included.
    pub clean_months: u32,
    /// Consecutive clean repayment periods, this month included.
    pub clean_periods: u32,
    /// The record's expected-loss ratio, when given.
    pub expected_loss: Option<Decimal>,
}

/// A customer's loan classification for one month: each loan, the customer's summary, the
/// signals and the state for the next month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoanOutcome {
    /// The customer id.
    pub customer_id: String,
    /// The evaluated month.
    pub month: Month,
    /// Each loan's result, by loan id.
    pub loans: Vec<LoanResult>,
    /// The worst effective class of the month's loans (none without loans).
    pub worst: Option<LoanClass>,
    /// The worst class against last month's worst (none without loans this month).
    pub trend: Option<Trend>,
    /// Whether some loan's effective class is non-performing: what a later policy pausing VIP
    /// upgrades reads.
    pub has_non_performing: bool,
    /// The signals, by loan id, then by signal number.
    pub signals: Vec<LoanSignal>,
    /// The state after the month, for the next month's evaluation.
    pub state: LoanState,
}

/// A record that passed the checks.
struct Checked<'a> {
    loan_id: &'a str,
    principal: u32,
    interest: u32,
    bank: LoanClass,
    expected_loss: Option<Decimal>,
    repayment_due: bool,
}

/// Classifies one customer's loans for `month` against the state of the month before (SPEC
/// §21): each loan's floor, bank and effective class, the clean window, the customer's worst
/// class and trend, and the signals. Loans in `state` without a record this month are closed
/// and leave the state.
///
/// ```
/// use crm_tiering::{evaluate_loans, LoanClass, LoanMonth, LoanSettings, LoanSignalKind, LoanState};
/// let loan = LoanMonth {
///     customer_id: "c1".into(),
///     loan_id: "L1".into(),
///     month: "2024-03".parse()?,
///     principal_overdue_days: 120,
///     interest_overdue_days: 0,
///     bank_class: "关注".into(), // a secured loan the bank still keeps at 关注
///     expected_loss: None,
///     repayment_due: true,
/// };
/// let out = evaluate_loans(&LoanSettings::default(), "c1", loan.month, &LoanState::default(), &[loan])?;
/// assert_eq!(out.loans[0].floor, LoanClass::Substandard);
/// assert_eq!(out.loans[0].effective, LoanClass::Substandard);
/// assert!(out.has_non_performing);
/// let kinds: Vec<_> = out.signals.iter().map(|s| s.kind.as_str()).collect();
/// assert_eq!(kinds, ["overdue", "non_performing", "bank_class_kinder_than_floor"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`LoanError::Rules`] when the settings do not pass [`LoanSettings::validate`] (settings
/// built in code are checked as those read from TOML are);
/// [`LoanError::Behind`] or [`LoanError::Gap`] when `month` does not follow the state's month;
/// [`LoanError::Input`] for a record of another customer or month, an empty loan id, negative
/// overdue days, an unknown class text or an expected-loss ratio outside 0–1 (the first bad
/// record in the given order); [`LoanError::Duplicate`] for two records of one loan. Nothing
/// is evaluated after an error.
pub fn evaluate_loans(
    settings: &LoanSettings,
    customer: &str,
    month: Month,
    state: &LoanState,
    loans: &[LoanMonth],
) -> Result<LoanOutcome, LoanError> {
    settings.validate()?;
    // SPEC §21.6: a customer must be identifiable, as in a portfolio month (§15.2).
    if let Err(e) = crate::portfolio::validate_customer_id(customer) {
        let loan = loans.first().map_or("", |l| l.loan_id.as_str());
        return Err(LoanError::input(customer, loan, month, "customer_id", e.to_string()));
    }
    check_sequence(customer, month, state)?;
    let mut checked = loans.iter().map(|l| check_record(customer, month, l)).collect::<Result<Vec<_>, _>>()?;
    checked.sort_by(|a, b| a.loan_id.cmp(b.loan_id));
    if let Some((dup, _)) = checked.iter().zip(checked.iter().skip(1)).find(|(a, b)| a.loan_id == b.loan_id) {
        return Err(LoanError::Duplicate { customer: customer.to_string(), loan: dup.loan_id.to_string(), month });
    }
    let results: Vec<LoanResult> = checked.iter().map(|c| classify(settings, c, state.loans.get(c.loan_id))).collect();
    let mut signals = Vec::new();
    for r in &results {
        loan_signals(settings, customer, month, r, &mut signals);
    }
    let worst = results.iter().map(|r| r.effective).max();
    let trend = worst.map(|w| match state.worst() {
        None => Trend::New,
        Some(last) if w > last => Trend::Worse,
        Some(last) if w < last => Trend::Better,
        Some(_) => Trend::Same,
    });
    let next = LoanState {
        month: Some(month),
        loans: results
            .iter()
            .map(|r| {
                let memory = LoanMemory {
                    floor: r.floor,
                    bank: r.bank,
                    effective: r.effective,
                    clean_months: r.clean_months,
                    clean_periods: r.clean_periods,
                };
                (r.loan_id.clone(), memory)
            })
            .collect(),
    };
    Ok(LoanOutcome {
        customer_id: customer.to_string(),
        month,
        has_non_performing: worst.is_some_and(LoanClass::is_non_performing),
        worst,
        trend,
        loans: results,
        signals,
        state: next,
    })
}

/// `month` must come after the state's month, and be the next month when the state has loans.
fn check_sequence(customer: &str, month: Month, state: &LoanState) -> Result<(), LoanError> {
    let Some(last) = state.month else { return Ok(()) };
    if month <= last {
        return Err(LoanError::Behind { customer: customer.to_string(), last, got: month });
    }
    if !state.loans.is_empty() && month != last.next() {
        return Err(LoanError::Gap { customer: customer.to_string(), last, expected: last.next(), got: month });
    }
    Ok(())
}

/// Checks one record, naming it and the field on the first problem.
fn check_record<'a>(customer: &str, month: Month, l: &'a LoanMonth) -> Result<Checked<'a>, LoanError> {
    let err = |field: &str, message: String| LoanError::input(customer, &l.loan_id, month, field, message);
    if l.customer_id != customer {
        return Err(err("customer_id", format!("the record is for customer `{}`", l.customer_id)));
    }
    if l.month != month {
        return Err(err("month", format!("the record is for month {}", l.month)));
    }
    if l.loan_id.trim().is_empty() {
        return Err(err("loan_id", "a loan id is not empty".to_string()));
    }
    let days = |field: &str, value: i64| {
        u32::try_from(value).map_err(|_| {
            if value < 0 {
                err(field, format!("overdue days cannot be negative, got {value}"))
            } else {
                err(field, format!("overdue days above {} are out of range, got {value}", u32::MAX))
            }
        })
    };
    let principal = days("principal_overdue_days", l.principal_overdue_days)?;
    let interest = days("interest_overdue_days", l.interest_overdue_days)?;
    let bank = LoanClass::from_text(&l.bank_class).ok_or_else(|| {
        err(
            "bank_class",
            format!(
                "unknown loan class `{}` (expected normal, special_mention, substandard, doubtful, loss; 正常, 关注, 次级, 可疑, 损失; or 1 to 5)",
                l.bank_class
            ),
        )
    })?;
    if let Some(r) = l.expected_loss
        && (r < Decimal::ZERO || r > Decimal::ONE)
    {
        return Err(err("expected_loss", format!("an expected-loss ratio is between 0 and 1, got {r}")));
    }
    Ok(Checked {
        loan_id: &l.loan_id,
        principal,
        interest,
        bank,
        expected_loss: l.expected_loss,
        repayment_due: l.repayment_due,
    })
}

/// One loan's floor, effective class, clean window and upgrade (SPEC §21.2, §21.3).
fn classify(settings: &LoanSettings, c: &Checked<'_>, last: Option<&LoanMemory>) -> LoanResult {
    let overdue_days = c.principal.max(c.interest);
    let floor = settings.floor(overdue_days);
    let clean = overdue_days == 0;
    let (clean_months, clean_periods) = match (clean, last) {
        (false, _) => (0, 0),
        (true, None) => (1, u32::from(c.repayment_due)),
        (true, Some(m)) => {
            (m.clean_months.saturating_add(1), m.clean_periods.saturating_add(u32::from(c.repayment_due)))
        }
    };
    let candidate = floor.max(c.bank);
    let leaving = last.is_some_and(|m| m.effective.is_non_performing()) && !candidate.is_non_performing();
    let (effective, upgrade) = if !leaving {
        (candidate, Upgrade::None)
    } else if settings.clean_window_met(clean_months, clean_periods) {
        (candidate, Upgrade::Allowed)
    } else {
        (LoanClass::Substandard, Upgrade::Held)
    };
    LoanResult {
        loan_id: c.loan_id.to_string(),
        principal_overdue_days: c.principal,
        interest_overdue_days: c.interest,
        overdue_days,
        floor,
        bank: c.bank,
        effective,
        bank_kinder_than_floor: c.bank < floor,
        upgrade,
        clean_months,
        clean_periods,
        expected_loss: c.expected_loss,
    }
}

/// The signals of one loan, in number order (SPEC §21.5).
fn loan_signals(settings: &LoanSettings, customer: &str, month: Month, r: &LoanResult, out: &mut Vec<LoanSignal>) {
    let held = r.upgrade == Upgrade::Held;
    let clean = |kind: LoanSignalKind| kind == LoanSignalKind::UpgradeHeldByCleanWindow;
    let floor_boundary = settings.boundary(r.floor);
    let signals = [
        (LoanSignalKind::Overdue, r.overdue_days > 0, None),
        (
            LoanSignalKind::ApproachingNonPerforming,
            settings.approaching(r.overdue_days),
            Some(settings.substandard_after_days),
        ),
        (
            LoanSignalKind::NonPerforming,
            r.effective.is_non_performing(),
            floor_boundary.filter(|_| r.floor.is_non_performing()),
        ),
        (LoanSignalKind::BankClassKinderThanFloor, r.bank_kinder_than_floor, floor_boundary),
        (LoanSignalKind::UpgradeHeldByCleanWindow, held, None),
    ];
    for (kind, on, boundary) in signals {
        if on {
            out.push(LoanSignal {
                customer_id: customer.to_string(),
                month,
                loan_id: r.loan_id.clone(),
                kind,
                overdue_days: r.overdue_days,
                boundary,
                floor: r.floor,
                bank: r.bank,
                effective: r.effective,
                clean_months: Some(r.clean_months).filter(|_| clean(kind)),
                clean_periods: Some(r.clean_periods).filter(|_| clean(kind)),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(days: i64) -> LoanMonth {
        LoanMonth {
            customer_id: "c1".into(),
            loan_id: "L1".into(),
            month: "2024-03".parse().unwrap(),
            principal_overdue_days: days,
            interest_overdue_days: 0,
            bank_class: "正常".into(),
            expected_loss: None,
            repayment_due: false,
        }
    }

    #[test]
    fn settings_built_in_code_are_checked() {
        let settings = LoanSettings { doubtful_after_days: 400, ..LoanSettings::default() };
        let r = record(10);
        let e = evaluate_loans(&settings, "c1", r.month, &LoanState::default(), &[r]).unwrap_err();
        assert_eq!((e.category(), e.field()), ("rules", Some("loss_after_days")));
    }

    #[test]
    fn days_too_large_are_an_input_error() {
        let r = record(i64::from(u32::MAX) + 1);
        let e = evaluate_loans(&LoanSettings::default(), "c1", r.month, &LoanState::default(), &[r]).unwrap_err();
        assert_eq!(e.field(), Some("principal_overdue_days"));
        assert!(e.to_string().contains("out of range"), "{e}");
    }

    #[test]
    fn record_json_names_no_rust_type() {
        let text = r#"{"customer_id":"c1","loan_id":"L1","month":"2024-03","principal_overdue_days":1.5,"interest_overdue_days":0,"bank_class":"1"}"#;
        let e = serde_json::from_str::<LoanMonth>(text).unwrap_err().to_string();
        assert!(e.starts_with("expected a whole number, got 1.5"), "{e}");
        let state = r#"{"month":"2024-03","loans":{"L1":{"floor":"normal","bank":"normal","effective":"normal","clean_months":-1,"clean_periods":0}}}"#;
        let e = serde_json::from_str::<LoanState>(state).unwrap_err().to_string();
        assert!(e.starts_with("expected a whole number from 0, got -1"), "{e}");
    }
}
