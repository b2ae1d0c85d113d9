//! Loan classification signals (五级分类 floors, SPEC §21, issue 22): the regulatory floor of
//! each loan from its overdue days, the bank's own class against it, the clean window an
//! upgrade out of non-performing needs, and per customer the worst class, its trend and the
//! signals an account manager acts on. A pure function of the settings, the customer's loan
//! state and the month's loan records: [`evaluate_loans`]; a whole month, every customer in id
//! order and all or nothing, by [`evaluate_loan_month`].

mod class;
mod error;
mod evaluate;
mod input;
mod month;
mod settings;
mod signal;
mod states;

pub use class::{LoanClass, Trend, Upgrade};
pub use error::LoanError;
pub use evaluate::{LoanOutcome, LoanResult, evaluate_loans};
pub use input::{LoanMemory, LoanMonth, LoanState};
pub use month::{LoanMonthError, LoanMonthErrors, evaluate_loan_month};
pub use settings::{CleanRule, LoanSettings};
pub use signal::{LoanSignal, LoanSignalKind};
pub use states::{LoanStatesError, read_loan_states, write_loan_states};
