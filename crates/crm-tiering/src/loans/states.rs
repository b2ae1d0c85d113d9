//! Customers' loan states between months as JSON Lines (SPEC §21.1): one line a customer,
//! `{"customer_id": "c1", "state": {"month": "2024-05", "loans": {...}}}`, the state in
//! [`LoanState`]'s JSON. The one reader and writer of the form, for every surface (the CLI's
//! `loan-states.jsonl`, the C ABI's `crmt_loan_states`, Java).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::input::LoanState;

/// A line of loan states that cannot be used: its line (from 1) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LoanStatesError {
    /// The line, from 1.
    pub line: u64,
    /// The customer the line is about, when it could be read.
    pub customer: Option<String>,
    /// What is wrong with it (lowercase).
    pub message: String,
}

/// One line: a customer's state after its month.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<S> {
    customer_id: String,
    state: S,
}

/// Writes customers' loan states as JSON Lines, one line a customer in the order given, each
/// ending with a newline; [`read_loan_states`] reads them back.
///
/// ```
/// use crm_tiering::{LoanState, read_loan_states, write_loan_states};
/// let text = write_loan_states([("c1", &LoanState::default())]);
/// assert_eq!(text, "{\"customer_id\":\"c1\",\"state\":{\"month\":null,\"loans\":{}}}\n");
/// assert_eq!(read_loan_states(&text)?.get("c1"), Some(&LoanState::default()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_loan_states<'a>(states: impl IntoIterator<Item = (&'a str, &'a LoanState)>) -> String {
    let mut out = String::new();
    for (customer, state) in states {
        let line = Line { customer_id: customer.to_string(), state };
        // A loan state has string keys and plain values: its JSON cannot fail.
        out.push_str(&serde_json::to_string(&line).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Reads customers' loan states written by [`write_loan_states`], by customer id; blank lines
/// are skipped.
///
/// # Errors
/// [`LoanStatesError`] naming the first line that is not a loan state (`not a loan state: ...`)
/// or that lists a customer already listed (`customer `c1` is listed twice`).
pub fn read_loan_states(text: &str) -> Result<BTreeMap<String, LoanState>, LoanStatesError> {
    let mut out = BTreeMap::new();
    for (k, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line_no = k as u64 + 1;
        let s: Line<LoanState> = serde_json::from_str(line).map_err(|e| LoanStatesError {
            line: line_no,
            customer: None,
            message: format!("not a loan state: {e}"),
        })?;
        if out.contains_key(&s.customer_id) {
            return Err(LoanStatesError {
                line: line_no,
                message: format!("customer `{}` is listed twice", s.customer_id),
                customer: Some(s.customer_id),
            });
        }
        out.insert(s.customer_id, s.state);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_named() {
        let line = write_loan_states([("c1", &LoanState::default())]);
        let e = read_loan_states(&format!("{line}\n{line}")).unwrap_err();
        assert_eq!((e.line, e.customer.as_deref()), (3, Some("c1")));
        assert_eq!(e.to_string(), "line 3: customer `c1` is listed twice");
        let e = read_loan_states("{\"customer_id\":\"c1\"}").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.starts_with("not a loan state: missing field `state`"), "{e}");
    }
}
