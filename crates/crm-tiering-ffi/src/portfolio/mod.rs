//! The portfolio month (SPEC §15) over the C ABI: states keyed by customer id
//! (`crmt_portfolio`), a month's records (`crmt_extract`, from text cells under a resolved
//! header `crmt_columns` or typed values), and the evaluation of a declared month or range
//! (`crmt_evaluate_portfolio`) into a reusable result handle (`crmt_portfolio_result`).
//!
//! Every rule of the meeting of an extract with stored states (matching by id, duplicates,
//! records outside the declared month, bad records holding their customer back, absent
//! customers, integrity of the stored text) is the core's (`crm_tiering::portfolio`); this module
//! only converts at the boundary and reports the core's errors as they are.
//!
//! One file per idea: `states` (the stored states handle), `extract` (resolved columns and the
//! month's records), `totals` (typed totals pushed in bulk, a chunk of customers per call), `run`
//! (the evaluation and its result handle) and `report` (errors as C structs, the JSON of a run).

// The order of these modules is the order of their functions in the header (cbindgen reads them
// in turn): keep it, and keep them apart so that rustfmt does not sort them.
mod states;
// The month's records.
mod extract;
// Typed totals in bulk.
mod totals;
// Options by key.
mod options;
// The evaluation and its result.
mod run;
// Errors and JSON.
mod report;

pub use extract::*;
pub use options::*;
pub use report::crmt_record_error;
pub use run::*;
pub use states::*;
pub use totals::*;
