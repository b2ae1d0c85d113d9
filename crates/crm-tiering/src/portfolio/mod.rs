//! The portfolio month (SPEC §15): a month's extract (or several months') meets the stored
//! states of a whole portfolio, keyed by customer id.
//!
//! This is the one place where the rules of that meeting are written; the CLI, the C ABI (and
//! so Java) and the Python binding all call it:
//!
//! - [`PortfolioStates`] holds every customer's identity and state, keyed by id, with the
//!   fingerprint of the rule book that wrote them; its text form ([`PortfolioStates::to_jsonl`])
//!   detects truncation at any byte and corruption.
//! - [`Extract`] collects a month's records (AUM rows, daily balances, designations) from text
//!   cells under a header ([`Columns`]) or from typed values, validating each and naming the
//!   record and field of every problem.
//! - [`Engine::evaluate_portfolio`] evaluates a declared month or range of months: records dated
//!   outside it, duplicates and bad records hold their customer back (state kept, no events,
//!   reported), absent customers follow one [`Absent`] policy, and everything else goes through
//!   the batch.
//!
//! [`Engine::evaluate_portfolio`]: crate::Engine::evaluate_portfolio

#[cfg(feature = "arrow")]
pub mod arrow;
mod columns;
mod control;
mod evaluate;
mod extract;
mod feed;
mod history;
mod options;
mod placement;
mod record;
mod run;
mod simulate;
mod sink;
mod states;

pub use columns::{ColumnRole, Columns, TableKind};
pub use extract::{AumRow, AumRowIter, AumRows, Cell, DesignationRow, Extract};
pub use options::{Absent, MAX_THREADS, MonthRange, OptionError, PortfolioOptions, RuleBookChange};
pub use record::{MAX_CUSTOMER_ID_BYTES, PortfolioFailure, RecordError, RecordRef, validate_customer_id};
pub use simulate::{BaselineDifference, CommittedCount, Simulation, TierChange, TierCount, simulate};
pub use sink::{Evaluated, PortfolioMonth, PortfolioOutcome, PortfolioSink};
pub use states::{PortfolioStates, STATES_FORMAT_VERSION};
