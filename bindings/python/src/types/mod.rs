//! The single-customer API: rule books, states, events, alerts, outcomes and the engine, one
//! concept a file.

mod engine;
mod input;
mod rulebook;
mod values;

pub(crate) use engine::PyEngine;
pub(crate) use input::options;
pub(crate) use rulebook::PyRuleBook;
pub(crate) use values::{PyAlert, PyCustomerState, PyEvent, PyMonthOutcome};
