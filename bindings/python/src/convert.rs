//! Python values to engine values and back: amounts, months, customers, JSON.
//!
//! Money crosses as `decimal.Decimal` built from a decimal string, or is read from a
//! `decimal.Decimal` through its `(sign, digits, exponent)` tuple: never through a float.

use crm_tiering::portfolio::{MonthRange, validate_customer_id};
use crm_tiering::{Customer, CustomerKind, Decimal, Month, parse_amount};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use serde_json::Value;

use crate::errors::input_error;

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The message of every float rejection.
const USE_DECIMAL: &str = "money is exact in crm_tiering: pass a decimal.Decimal or a str such as \"200000.00\"";

/// A `decimal.Decimal` with the amount's exact digits.
pub(crate) fn to_py_decimal<'py>(py: Python<'py>, amount: Decimal) -> PyResult<Bound<'py, PyAny>> {
    DECIMAL.import(py, "decimal", "Decimal")?.call1((amount.to_string(),))
}

/// An optional amount as an optional `decimal.Decimal`.
pub(crate) fn to_py_decimal_opt<'py>(py: Python<'py>, amount: Option<Decimal>) -> PyResult<Option<Bound<'py, PyAny>>> {
    amount.map(|a| to_py_decimal(py, a)).transpose()
}

/// Reads an amount: a `decimal.Decimal`, a decimal `str` or an `int`. A float is a `TypeError`.
pub(crate) fn extract_amount(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Decimal> {
    let py = obj.py();
    if obj.is_instance_of::<PyFloat>() {
        return Err(PyTypeError::new_err(format!("{what} is the float {obj}: {USE_DECIMAL}")));
    }
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{what} is a bool: {USE_DECIMAL}")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let text = s.to_cow()?;
        return parse_amount(&text).map_err(|e| input_error(py, None, None, what, &e.to_string()));
    }
    if obj.is_instance_of::<PyInt>() {
        let v: i128 = obj.extract().map_err(|_| input_error(py, None, None, what, "the integer is too large"))?;
        return Decimal::try_from_i128_with_scale(v, 0)
            .map_err(|_| input_error(py, None, None, what, "the integer is too large for an amount"));
    }
    if obj.is_instance(DECIMAL.import(py, "decimal", "Decimal")?)? {
        return decimal_from_tuple(obj, what);
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be a decimal.Decimal, a str or an int, not {}",
        obj.get_type().name()?
    )))
}

/// Reads a `decimal.Decimal` exactly from `as_tuple()`: sign, digits, exponent.
fn decimal_from_tuple(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Decimal> {
    let py = obj.py();
    let t = obj.call_method0("as_tuple")?;
    let sign: i64 = t.get_item(0)?.extract()?;
    let digits: Vec<u8> = t.get_item(1)?.extract()?;
    let exponent = t.get_item(2)?;
    let bad = |m: &str| input_error(py, None, None, what, &format!("`{obj}` {m}"));
    let Ok(exponent) = exponent.extract::<i64>() else {
        return Err(bad("is not a finite amount"));
    };
    let mut mantissa: i128 = 0;
    for d in digits {
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|m| m.checked_add(i128::from(d)))
            .ok_or_else(|| bad("has too many digits"))?;
    }
    let mut scale = 0u32;
    if exponent > 0 {
        for _ in 0..exponent {
            mantissa = mantissa.checked_mul(10).ok_or_else(|| bad("is too large"))?;
        }
    } else {
        scale = u32::try_from(-exponent).map_err(|_| bad("has too many decimals"))?;
    }
    if sign == 1 {
        mantissa = -mantissa;
    }
    // Trailing zeros beyond 28 decimals are harmless: drop them before giving up.
    while scale > 28 && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| bad("does not fit in 28 significant digits"))
}

/// Reads a month: a `datetime.date` (its month) or a `"YYYY-MM"` string, parsed by the core
/// (so `"2024-+3"` is not March). A `datetime.datetime` is a date: a naive one gives its
/// calendar month; a timezone-aware one is refused (its month depends on the zone: convert it
/// to the bank's zone and pass `.date()`). Integers are refused.
pub(crate) fn extract_month(obj: &Bound<'_, PyAny>) -> PyResult<Month> {
    let py = obj.py();
    let parsed = if let Ok(s) = obj.cast::<PyString>() {
        s.to_cow()?.parse::<Month>()
    } else if obj.is_instance(DATE.import(py, "datetime", "date")?)? {
        if obj.hasattr("tzinfo")? && !obj.getattr("tzinfo")?.is_none() {
            return Err(PyTypeError::new_err(format!(
                "a month cannot be the timezone-aware datetime {obj}: its month depends on the zone; \
                 convert it to the bank's zone and pass .date() (or a \"YYYY-MM\" string)"
            )));
        }
        let year: i32 = obj.getattr("year")?.extract()?;
        let month: u32 = obj.getattr("month")?.extract()?;
        Month::new(year, month)
    } else {
        return Err(PyTypeError::new_err(format!(
            "a month must be a datetime.date or a \"YYYY-MM\" string, not {}",
            obj.get_type().name()?
        )));
    };
    parsed.map_err(|e| input_error(py, None, None, "month", &e.to_string()))
}

/// Reads the declared month or range of a portfolio run: a month (as [`extract_month`]), a
/// `"YYYY-MM..YYYY-MM"` string, or a `(first, last)` pair of months (a tuple or a list, as
/// `json.load` gives it).
pub(crate) fn extract_months(obj: &Bound<'_, PyAny>) -> PyResult<MonthRange> {
    let py = obj.py();
    let range = if let Ok(s) = obj.cast::<PyString>()
        && s.to_cow()?.contains("..")
    {
        s.to_cow()?.parse::<MonthRange>()
    } else if obj.is_instance_of::<PyTuple>() || obj.is_instance_of::<PyList>() {
        let items: Vec<Bound<'_, PyAny>> = obj.try_iter()?.collect::<PyResult<_>>()?;
        let [first, last] = items.as_slice() else {
            return Err(PyTypeError::new_err("a month range is a (first, last) pair of months (a tuple or a list)"));
        };
        MonthRange::new(extract_month(first)?, extract_month(last)?)
    } else {
        MonthRange::single(extract_month(obj)?)
    };
    range.map_err(|e| input_error(py, None, None, "month", &e))
}

/// Checks a customer id given from Python with the core's rule (no empty id, control
/// characters, or leading or trailing spaces).
pub(crate) fn check_customer_id(py: Python<'_>, id: &str) -> PyResult<()> {
    validate_customer_id(id).map_err(|e| input_error(py, Some(id), None, "customer_id", &e.to_string()))
}

/// Reads a customer: an id string, or a dict with `id` and optional `legal_entity` and `kind`.
pub(crate) fn extract_customer(obj: &Bound<'_, PyAny>) -> PyResult<Customer> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        let id = s.to_cow()?;
        check_customer_id(py, &id)?;
        return Ok(Customer::personal(id.as_ref()));
    }
    let Ok(d) = obj.cast::<PyDict>() else {
        return Err(PyTypeError::new_err(
            "a customer must be an id string or a dict with `id`, `legal_entity`, `kind`",
        ));
    };
    let id: String = match d.get_item("id")? {
        Some(v) => v.extract()?,
        None => return Err(input_error(py, None, None, "customer.id", "the customer has no `id`")),
    };
    check_customer_id(py, &id)?;
    let legal_entity: Option<String> = d.get_item("legal_entity")?.map(|v| v.extract()).transpose()?;
    let kind = match d.get_item("kind")? {
        None => CustomerKind::Personal,
        Some(v) if v.is_none() => CustomerKind::Personal,
        Some(v) => {
            v.extract::<String>()?.parse().map_err(|e: String| input_error(py, Some(&id), None, "customer.kind", &e))?
        }
    };
    Ok(Customer { id, legal_entity, kind })
}

/// A Python value as JSON for the engine's serde formats. Floats are refused; `Decimal`s
/// become decimal strings, dates become `"YYYY-MM"`.
pub(crate) fn py_to_json(obj: &Bound<'_, PyAny>, at: &str) -> PyResult<Value> {
    let py = obj.py();
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Err(PyTypeError::new_err(format!("`{at}` is the float {obj}: {USE_DECIMAL}")));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(v) = obj.extract::<i64>() {
            return Ok(Value::from(v));
        }
        return Ok(Value::String(obj.str()?.to_cow()?.into_owned()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if obj.is_instance(DECIMAL.import(py, "decimal", "Decimal")?)? {
        return Ok(Value::String(decimal_from_tuple(obj, at)?.to_string()));
    }
    if obj.is_instance(DATE.import(py, "datetime", "date")?)? {
        return Ok(Value::String(extract_month(obj)?.to_string()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key: String =
                k.extract().map_err(|_| PyTypeError::new_err(format!("`{at}` has a key that is not a str")))?;
            let value = py_to_json(&v, &format!("{at}.{key}"))?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for (i, v) in obj.try_iter()?.enumerate() {
            out.push(py_to_json(&v?, &format!("{at}[{i}]"))?);
        }
        return Ok(Value::Array(out));
    }
    Err(PyTypeError::new_err(format!("`{at}` has a value of type {} that has no JSON form", obj.get_type().name()?)))
}

/// A JSON value as plain Python objects (amounts stay decimal strings, as in the JSON formats).
pub(crate) fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(v), _) => v.into_pyobject(py)?.into_any(),
            (None, Some(v)) => v.into_pyobject(py)?.into_any(),
            // The engine's formats have no fractional numbers; keep the text, never a float.
            _ => PyString::new(py, &n.to_string()).into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for v in items {
                list.append(json_to_py(py, v)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// Serializes a value to JSON; the engine's types always serialize.
pub(crate) fn to_value<T: serde::Serialize>(v: &T) -> PyResult<Value> {
    serde_json::to_value(v).map_err(|e| PyRuntimeError::new_err(format!("cannot serialize: {e}")))
}
