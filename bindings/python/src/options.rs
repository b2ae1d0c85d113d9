//! Portfolio options from Python keyword arguments, each given to the core's one parser
//! ([`PortfolioOptions::set`]) as text: nothing about a key is decided here.

use crm_tiering::portfolio::PortfolioOptions;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PySet, PyString, PyTuple};

use crate::errors::option_error;

/// The text of an option's value: a `bool` as `true`/`false`, a `str` as it is, an `int` in
/// decimal, a list, tuple or set of those joined with commas.
fn text_of(key: &str, value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(if b.is_true() { "true" } else { "false" }.to_string());
    }
    if value.is_instance_of::<PyString>() {
        return value.extract();
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(value.str()?.to_string());
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() || value.is_instance_of::<PySet>() {
        let mut items = Vec::new();
        for item in value.try_iter()? {
            let item = item?;
            if item.is_instance_of::<PyList>() || item.is_instance_of::<PyTuple>() {
                return Err(PyTypeError::new_err(format!("option `{key}`: a list of str, not of lists")));
            }
            items.push(text_of(key, &item)?);
        }
        return Ok(items.join(","));
    }
    let kind = value.get_type().name()?.to_string();
    Err(PyTypeError::new_err(format!("option `{key}`: a str, bool, int or list of str, not {kind}")))
}

/// Applies keyword options over `options`, in order. `None` leaves a key as it is;
/// `accept_rule_change` (a bool) is the key `rule_book_change` (`accept`/`refuse`), its
/// historical name in Python.
///
/// # Errors
/// The core's message as an `InputError` naming the key, for an unknown key or a value the key
/// does not take; `TypeError` for a value that has no text (a float, a dict).
pub(crate) fn apply(
    py: Python<'_>,
    options: &mut PortfolioOptions,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    let Some(kwargs) = kwargs else { return Ok(()) };
    for (key, value) in kwargs.iter() {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        let (key, text) = match key.as_str() {
            "accept_rule_change" => {
                let accept = value
                    .cast::<PyBool>()
                    .map(|b| b.is_true())
                    .map_err(|_| PyTypeError::new_err("option `accept_rule_change`: True or False"))?;
                ("rule_book_change".to_string(), if accept { "accept" } else { "refuse" }.to_string())
            }
            _ => {
                let text = text_of(&key, &value)?;
                (key, text)
            }
        };
        options.set(&key, &text).map_err(|e| option_error(py, &e))?;
    }
    Ok(())
}
