//! A failure's details (`Failure`) and the thread's error details that `crmt_last_error_*` read.
//!
//! Uses only `code`; the boundary (`boundary`) records and clears the details, `error` exports
//! their readers.

use std::cell::RefCell;

use crm_tiering::TieringError;

use crate::code::crmt_result;

/// A failure's details: the code, a message, and the customer, month and field it is about.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) code: crmt_result,
    pub(crate) message: String,
    pub(crate) customer: Option<String>,
    pub(crate) month: i32,
    pub(crate) field: Option<String>,
    /// The record (table, row) it is about.
    pub(crate) record: Option<Box<(String, u64)>>,
    /// The other record, for a duplicate.
    pub(crate) other_record: Option<Box<(String, u64)>>,
}

impl Failure {
    pub(crate) fn new(code: crmt_result, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            customer: None,
            month: 0,
            field: None,
            record: None,
            other_record: None,
        }
    }

    pub(crate) fn null(name: &str) -> Self {
        Failure::new(crmt_result::CRMT_NULL_ARGUMENT, format!("`{name}` must not be null")).field(name)
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub(crate) fn customer(mut self, customer: impl Into<String>) -> Self {
        self.customer = Some(customer.into());
        self
    }

    pub(crate) fn month(mut self, yyyymm: i32) -> Self {
        self.month = yyyymm;
        self
    }
}

impl From<TieringError> for Failure {
    fn from(e: TieringError) -> Self {
        let code = match e {
            TieringError::Rules(_) => crmt_result::CRMT_RULES_ERROR,
            TieringError::Input(_) => crmt_result::CRMT_INPUT_ERROR,
            TieringError::Sequence(_) => crmt_result::CRMT_SEQUENCE_ERROR,
            TieringError::State(_) => crmt_result::CRMT_STATE_ERROR,
        };
        // A state error names the state when it is about no particular field of it.
        let field = e.field().or(matches!(e, TieringError::State(_)).then_some("state")).filter(|f| !f.is_empty());
        Failure {
            code,
            message: e.to_string(),
            customer: e.customer().map(str::to_string),
            month: e.month().map_or(0, |m| i32::try_from(m.yyyymm()).unwrap_or(0)),
            field: field.map(str::to_string),
            record: None,
            other_record: None,
        }
    }
}

thread_local! {
    static LAST: RefCell<Option<Failure>> = const { RefCell::new(None) };
}

pub(crate) fn clear_last_error() {
    let _ = LAST.try_with(|l| l.borrow_mut().take());
}

pub(crate) fn set_last_error(f: Failure) {
    let _ = LAST.try_with(|l| *l.borrow_mut() = Some(f));
}

pub(crate) fn with_last<T>(f: impl FnOnce(Option<&Failure>) -> T) -> T {
    // Only fails during thread teardown; callers run inside a panic boundary.
    LAST.with(|l| f(l.borrow().as_ref()))
}
