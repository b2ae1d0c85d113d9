//! # crm-tiering
//!
//! A deterministic rules engine for bank customer tiering (客户分层管理): a customer's monthly
//! daily-average AUM (月日均) decides entry into VIP management, upgrades, the downgrade watch
//! (关注), the exit into retention (已退未评级) and special VIP designations (特殊VIP).
//!
//! Everything is a pure function: the same rule book and inputs give the same states, events
//! and alerts, in Rust and through the C ABI and the Python binding. Money is
//! [`rust_decimal::Decimal`], never floating point. The rules are normative in `rules-spec/`.
//!
//! ```
//! use crm_tiering::{Engine, RuleBook, Customer, CustomerState, MonthInput, EventKind, parse_amount};
//!
//! let engine = Engine::new(RuleBook::default_book()?);
//! let customer = Customer::personal("6221000001");
//! let history: Vec<_> = [("2024-01", "1200000"), ("2024-02", "650000"), ("2024-03", "640000"), ("2024-04", "630000")]
//!     .iter()
//!     .map(|(m, a)| Ok((m.parse()?, MonthInput::total(parse_amount(a)?))))
//!     .collect::<Result<_, Box<dyn std::error::Error>>>()?;
//! let months = engine.replay(&customer, &CustomerState::default(), &history)?;
//! // Entered at 钻石卡 (diamond) for February, watched for three short months, then
//! // downgraded to the highest tier reached in the window, 白金卡 (platinum), from May.
//! let last = months.last().unwrap();
//! assert_eq!(last.state.tier.unwrap().as_str(), "platinum");
//! assert_eq!(last.events.last().unwrap().kind, EventKind::Downgraded);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The shape of the crate is explained in `DESIGN.md`.
#![forbid(unsafe_code)]
#![warn(
    clippy::too_many_lines,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::allow_attributes_without_reason
)]

mod aum;
mod code;
mod digest;
mod engine;
mod error;
mod event;
mod history;
mod loans;
mod money;
mod month;
mod parse;
pub mod portfolio;
mod rules;
mod state;

pub use aum::{
    AumFile, AumInput, Component, ComponentAmount, ComponentDaily, ComponentFile, Composition, Divisor, MissingDay,
    Rounding, RoundingLevel,
};
pub use code::{MeasureCode, TierCode};
pub use engine::{
    BatchAlert, BatchError, BatchEvent, BatchOutcome, BatchSink, Customer, CustomerIdentity, CustomerRef, Engine,
    EngineOptions, Measures, MissingMonths, MonthInput, MonthOutcome, SpecialChange,
};
pub use error::{InputError, RuleError, SequenceError, StateError, TieringError};
pub use event::{Alert, AlertKind, Event, EventKind, Evidence, Reason, Severity};
pub use history::{Histories, History, HistoryLayout};
pub use loans::{
    CleanRule, LoanClass, LoanError, LoanMemory, LoanMonth, LoanMonthError, LoanMonthErrors, LoanOutcome, LoanResult,
    LoanSettings, LoanSignal, LoanSignalKind, LoanState, LoanStatesError, Trend, Upgrade, evaluate_loan_month,
    evaluate_loans, read_loan_states, write_loan_states,
};
pub use money::{MAX_AMOUNT, from_fen, parse_amount, to_fen};
pub use month::Month;
pub use parse::ParseError;
pub use rules::{
    Absent, Criterion, CriterionFile, CustomerKind, DEFAULT_RULES_TOML, DowngradeTarget, Lifecycle, LifecycleFile,
    MAX_WINDOW_MONTHS, Measure, MeasureComponentFile, MeasureFile, Qualify, QualifyFile, RULE_FORMAT_VERSION, RuleBook,
    RuleBookFile, RuleSet, RuleSetFile, RuleSetId, RuleVersion, RuleVersionFile, STANDARD_LIFECYCLE_TOML, Settings,
    Stage, StageFile, StageRule, StageTest, StageTestFile, ThresholdComparison, Tier, TierFile, UpgradeTiming,
    VersionSelection, Warning, WarningFile, WarningKind, WarningRole, Window,
};
pub use rust_decimal::Decimal;
pub use state::{BelowEntryRun, CustomerState, STATE_SCHEMA_VERSION, SpecialVip, Status, Watch};

/// The crate's README, whose examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
