//! A month's input and the engine options, read from Python values.

use crm_tiering::{AumInput, ComponentAmount, SpecialChange};
use crm_tiering::{EngineOptions, MissingMonths, Month, MonthInput};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};

use crate::convert::{extract_amount, py_to_json};
use crate::errors::input_error;

/// An error about one month of a customer's history: an input error is given the customer
/// and month (the value's own error knows neither); other errors get them in the message.
pub(super) fn in_month(py: Python<'_>, e: PyErr, customer: &str, month: Option<Month>) -> PyErr {
    let value = e.value(py);
    let is_input = value.getattr("category").and_then(|c| c.extract::<String>()).is_ok_and(|c| c == "input");
    if is_input {
        let field: String = value.getattr("field").and_then(|f| f.extract()).unwrap_or_else(|_| "input".into());
        let message: String = value.getattr("message").and_then(|m| m.extract()).unwrap_or_default();
        let message = message.strip_prefix(&format!("invalid `{field}`: ")).unwrap_or(&message).to_string();
        return input_error(py, Some(customer), month, &field, &message);
    }
    let at = month.map_or_else(String::new, |m| format!(", month {m}"));
    let text = value.str().map(|s| s.to_string()).unwrap_or_default();
    let new = PyTypeError::new_err(format!("customer {customer}{at}: {text}"));
    if value.is_instance_of::<PyTypeError>() { new } else { e }
}

pub(crate) fn options(py: Python<'_>, missing_months: &str) -> PyResult<EngineOptions> {
    let missing_months = match missing_months {
        "error" => MissingMonths::Error,
        "treat_as_zero" => MissingMonths::TreatAsZero,
        other => {
            return Err(input_error(
                py,
                None,
                None,
                "missing_months",
                &format!("`{other}` is not an option: expected \"error\" or \"treat_as_zero\""),
            ));
        }
    };
    Ok(EngineOptions { missing_months })
}

/// Reads a month input's `measures`: a mapping of measure codes to exact amounts.
fn extract_measures(v: &Bound<'_, PyAny>) -> PyResult<crm_tiering::Measures> {
    let m = v.cast::<PyDict>().map_err(|_| {
        input_error(v.py(), None, None, "measures", "`measures` is a mapping of measure codes to amounts")
    })?;
    let mut out = crm_tiering::Measures::default();
    for (mk, mv) in m.iter() {
        let code: String = mk.extract().map_err(|_| PyTypeError::new_err("measure codes are str"))?;
        let field = format!("measures.{code}");
        let amount = extract_amount(&mv, &field)?;
        let code = crm_tiering::MeasureCode::new(&code)
            .map_err(|e| input_error(v.py(), None, None, &field, &e.to_string()))?;
        out.insert(code, amount);
    }
    Ok(out)
}

/// Reads a month's input: an amount (the month's AUM), or a mapping. A mapping is either the
/// conformance vectors' nested form (`{"aum": {"total": "200000"}, "special": {"action":
/// "grant"}}`) or the plain form: `aum` (an amount) or component codes with amounts
/// (`{"time_deposit": "150000", "wealth_product": "60000"}`), plus optionally `grant` (a mapping
/// with optional `tier` and `months`, or `True`) or `revoke` (`True`), or the nested `special`,
/// and `measures`, the values of the rule book's other measures (`{"loan_balance": "6500000"}`).
pub(crate) fn extract_input(obj: &Bound<'_, PyAny>) -> PyResult<MonthInput> {
    let py = obj.py();
    let Ok(d) = obj.cast::<PyDict>() else {
        if obj.is_instance_of::<PyDict>() || obj.hasattr("keys")? && obj.hasattr("items")? {
            let d = PyDict::new(py);
            for item in obj.call_method0("items")?.try_iter()? {
                let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
                d.set_item(k, v)?;
            }
            return extract_input(d.as_any());
        }
        return Ok(MonthInput::total(extract_amount(obj, "aum")?));
    };
    let bad = |field: &str, m: &str| input_error(py, None, None, field, m);
    let nested = match d.get_item("aum")? {
        Some(a) => a.is_instance_of::<PyDict>(),
        None => false,
    };
    if nested {
        let value = py_to_json(obj, "input")?;
        return serde_json::from_value(value).map_err(|e| bad("input", &format!("not a month input: {e}")));
    }
    let mut total = None;
    let mut components = Vec::new();
    let mut special: Option<SpecialChange> = None;
    let mut measures = crm_tiering::Measures::default();
    for (k, v) in d.iter() {
        let key: String = k.extract().map_err(|_| PyTypeError::new_err("a month input's keys are str"))?;
        match key.as_str() {
            "aum" => total = Some(extract_amount(&v, "aum")?),
            "measures" => measures = extract_measures(&v)?,
            "special" => {
                let value = py_to_json(&v, "special")?;
                special = Some(
                    serde_json::from_value(value)
                        .map_err(|e| bad("special", &format!("not a designation change: {e}")))?,
                );
            }
            "grant" => {
                let (mut tier, mut months) = (None, None);
                if let Ok(g) = v.cast::<PyDict>() {
                    for (gk, gv) in g.iter() {
                        let gk: String = gk.extract()?;
                        match gk.as_str() {
                            "tier" if !gv.is_none() => {
                                let t: String = gv.extract()?;
                                tier = Some(
                                    crm_tiering::TierCode::new(&t).map_err(|e| bad("special.tier", &e.to_string()))?,
                                );
                            }
                            "months" if !gv.is_none() => months = Some(gv.extract::<u32>()?),
                            "tier" | "months" => {}
                            other => {
                                return Err(bad(
                                    "special",
                                    &format!("`{other}` is not part of a grant: expected tier and months"),
                                ));
                            }
                        }
                    }
                } else if !(v.is_instance_of::<PyBool>() && v.is_truthy()?) {
                    return Err(bad("special", "`grant` is a mapping with optional `tier` and `months`, or True"));
                }
                special = Some(SpecialChange::Grant { tier, months });
            }
            "revoke" => {
                if !(v.is_instance_of::<PyBool>() && v.is_truthy()?) {
                    return Err(bad("special", "`revoke` is True"));
                }
                special = Some(SpecialChange::Revoke);
            }
            code => components.push(ComponentAmount { component: code.into(), amount: extract_amount(&v, code)? }),
        }
    }
    let aum = match (total, components.is_empty()) {
        (Some(t), true) => AumInput::Total(t),
        (None, false) => AumInput::Averages(components),
        (None, true) if special.is_some() => AumInput::Total(crm_tiering::Decimal::ZERO),
        (None, true) => {
            return Err(bad("aum", "the month input has neither `aum` nor component amounts"));
        }
        (Some(_), false) => {
            let names: Vec<&str> = components.iter().map(|c| &*c.component).collect();
            return Err(bad(
                "aum",
                &format!(
                    "the month input has both `aum` and component amounts ({}): give one or the other",
                    names.join(", ")
                ),
            ));
        }
    };
    Ok(MonthInput { aum, special, measures })
}
