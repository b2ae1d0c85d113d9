//! Loan signals: what an account manager is told about a customer's loans (SPEC §21.5).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::class::LoanClass;
use crate::month::Month;

/// The kind of a loan signal, with a stable snake_case code, a stable number and a Chinese
/// name. Signals of one loan are ordered by their number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoanSignalKind {
    /// 逾期: principal or interest is overdue (more than 0 days).
    Overdue,
    /// 临近不良: overdue days are within `approaching_days` of the 次级 boundary, not past it.
    ApproachingNonPerforming,
    /// 不良贷款: the effective class is 次级, 可疑 or 损失.
    NonPerforming,
    /// 分类宽于监管底线: the bank's own class is kinder than the regulatory floor.
    BankClassKinderThanFloor,
    /// 不良上调观察期未满: the loan would leave non-performing, but the clean window is not met.
    UpgradeHeldByCleanWindow,
}

impl LoanSignalKind {
    /// Every kind, in number order.
    pub const ALL: [LoanSignalKind; 5] = [
        LoanSignalKind::Overdue,
        LoanSignalKind::ApproachingNonPerforming,
        LoanSignalKind::NonPerforming,
        LoanSignalKind::BankClassKinderThanFloor,
        LoanSignalKind::UpgradeHeldByCleanWindow,
    ];

    /// The stable snake_case code used in files and across languages.
    pub fn as_str(self) -> &'static str {
        match self {
            LoanSignalKind::Overdue => "overdue",
            LoanSignalKind::ApproachingNonPerforming => "approaching_non_performing",
            LoanSignalKind::NonPerforming => "non_performing",
            LoanSignalKind::BankClassKinderThanFloor => "bank_class_kinder_than_floor",
            LoanSignalKind::UpgradeHeldByCleanWindow => "upgrade_held_by_clean_window",
        }
    }

    /// The stable number (2201–2205: issue 22's block, apart from the alert kinds' numbers).
    pub fn number(self) -> u16 {
        match self {
            LoanSignalKind::Overdue => 2201,
            LoanSignalKind::ApproachingNonPerforming => 2202,
            LoanSignalKind::NonPerforming => 2203,
            LoanSignalKind::BankClassKinderThanFloor => 2204,
            LoanSignalKind::UpgradeHeldByCleanWindow => 2205,
        }
    }

    /// The Chinese display name.
    pub fn name_zh(self) -> &'static str {
        match self {
            LoanSignalKind::Overdue => "逾期",
            LoanSignalKind::ApproachingNonPerforming => "临近不良",
            LoanSignalKind::NonPerforming => "不良贷款",
            LoanSignalKind::BankClassKinderThanFloor => "分类宽于监管底线",
            LoanSignalKind::UpgradeHeldByCleanWindow => "不良上调观察期未满",
        }
    }

    /// Parses a code written by [`Self::as_str`].
    pub fn from_code(code: &str) -> Option<Self> {
        LoanSignalKind::ALL.into_iter().find(|k| k.as_str() == code)
    }
}

impl fmt::Display for LoanSignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A loan signal with its evidence: the loan, its overdue days, the boundary concerned and the
/// classes (SPEC §21.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoanSignal {
    /// The customer id.
    pub customer_id: String,
    /// The evaluated month.
    pub month: Month,
    /// The loan id.
    pub loan_id: String,
    /// What it is about.
    pub kind: LoanSignalKind,
    /// The loan's overdue days: the larger of principal and interest overdue days.
    pub overdue_days: u32,
    /// The day boundary concerned, in days (a class applies past it): the floor class's
    /// boundary for `non_performing` (when the floor is non-performing) and
    /// `bank_class_kinder_than_floor`, the 次级 boundary for `approaching_non_performing`, none
    /// otherwise.
    pub boundary: Option<u32>,
    /// The regulatory floor from the overdue days.
    pub floor: LoanClass,
    /// The bank's own class.
    pub bank: LoanClass,
    /// The effective class.
    pub effective: LoanClass,
    /// For `upgrade_held_by_clean_window`: consecutive clean months so far.
    pub clean_months: Option<u32>,
    /// For `upgrade_held_by_clean_window`: consecutive clean repayment periods so far.
    pub clean_periods: Option<u32>,
}
