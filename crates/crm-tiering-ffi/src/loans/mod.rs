//! Loan classification signals (五级分类, SPEC §21) over the C ABI: a month's loan-month records
//! (`crmt_loan_records`, pushed one by one) and the customers' states after the month before
//! (`crmt_loan_states`, the JSON Lines the CLI writes) in, a result handle (`crmt_loan_result`)
//! out, whose customers, loans and signals are read as C structs, and the next month's states
//! as JSON Lines.
//!
//! Every rule (the settings of the rule book's `[loans]` table, the checks, the classes, the
//! signals, the states' text) is the core's (`evaluate_loans`, `read_loan_states`,
//! `write_loan_states`); this module groups the records by customer and converts at the
//! boundary.
//!
//! One file per idea: `codes` (the stable enums and their codes), `input` (the records and the
//! states), `evaluate` (the month and its failure) and `read` (the result's readers).

// The order of these modules is the order of their functions in the header.
mod codes;
// The inputs.
mod input;
// The evaluation.
mod evaluate;
// The readers.
mod read;

pub use codes::*;
pub use evaluate::*;
pub use input::*;
pub use read::*;

#[cfg(test)]
mod tests;
