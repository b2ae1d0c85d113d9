//! The rule book (规则手册) as Python sees it: loading, inspection and edits as values.

use std::sync::Arc;

use crm_tiering::{CustomerKind, RuleBook, VersionSelection};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::{Value, json};

use crate::convert::{extract_amount, extract_month, json_to_py, py_to_json, to_py_decimal, to_value};
use crate::errors::{input_error, py_err};

/// A validated rule book (规则手册).
#[pyclass(module = "crm_tiering._native", name = "RuleBook", frozen)]
pub(crate) struct PyRuleBook {
    pub(crate) book: Arc<RuleBook>,
}

fn kind_of(py: Python<'_>, kind: &str) -> PyResult<CustomerKind> {
    kind.parse().map_err(|e: String| input_error(py, None, None, "kind", &e))
}

impl PyRuleBook {
    fn version(
        &self,
        py: Python<'_>,
        month: Option<&Bound<'_, PyAny>>,
        legal_entity: Option<&str>,
        kind: &str,
    ) -> PyResult<&crm_tiering::RuleVersion> {
        let set = self.book.rule_set(self.book.select(legal_entity, kind_of(py, kind)?).map_err(py_err)?);
        match month {
            Some(m) => {
                let m = extract_month(m)?;
                set.version_for(m).ok_or_else(|| {
                    input_error(
                        py,
                        None,
                        Some(m),
                        "month",
                        &format!("no version of rule set `{}` is in force", set.name),
                    )
                })
            }
            None => set.versions.last().ok_or_else(|| PyValueError::new_err("the rule set has no version")),
        }
    }
}

#[pymethods]
impl PyRuleBook {
    /// The default rule book shipped with the library.
    #[staticmethod]
    fn default() -> PyResult<Self> {
        Ok(PyRuleBook { book: Arc::new(RuleBook::default_book().map_err(py_err)?) })
    }

    /// Reads a rule file: `.json` is JSON, anything else TOML.
    #[staticmethod]
    fn from_path(path: std::path::PathBuf) -> PyResult<Self> {
        Ok(PyRuleBook { book: Arc::new(RuleBook::from_path(path).map_err(py_err)?) })
    }

    /// Parses rule-book text: JSON when it starts with `{`, TOML otherwise.
    #[staticmethod]
    fn from_str(text: &str) -> PyResult<Self> {
        Ok(PyRuleBook { book: Arc::new(RuleBook::from_str_auto(text).map_err(py_err)?) })
    }

    /// Builds a rule book from a dict shaped like the JSON format (amounts as Decimal or str).
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let value = py_to_json(data, "rules")?;
        Ok(PyRuleBook { book: Arc::new(RuleBook::from_json_str(&value.to_string()).map_err(py_err)?) })
    }

    /// The book's name.
    #[getter]
    fn name(&self) -> &str {
        self.book.name()
    }

    /// The book as JSON text, defaults filled in.
    /// The rule book's fingerprint (stamped on the states it writes).
    #[getter]
    fn fingerprint(&self) -> &str {
        self.book.fingerprint()
    }

    fn to_json(&self) -> String {
        self.book.to_json()
    }

    /// The book as a dict (amounts as decimal strings).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &to_value(self.book.source())?)
    }

    /// The rule sets: name, selectors and the months their versions take effect.
    fn rule_sets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for s in self.book.rule_sets() {
            let v = json!({
                "name": s.name,
                "legal_entity": s.legal_entity,
                "customer_kind": s.customer_kind.map(|k| k.as_str()),
                "versions": s.versions.iter().map(|v| v.effective_from.to_string()).collect::<Vec<_>>(),
            });
            list.append(json_to_py(py, &v)?)?;
        }
        Ok(list)
    }

    /// The tier table in force (lowest first): code, names, minimum AUM (Decimal), watch months.
    #[pyo3(signature = (month=None, legal_entity=None, kind="personal"))]
    fn tiers<'py>(
        &self,
        py: Python<'py>,
        month: Option<&Bound<'py, PyAny>>,
        legal_entity: Option<&str>,
        kind: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        let v = self.version(py, month, legal_entity, kind)?;
        let list = PyList::empty(py);
        for t in &v.tiers {
            let d = PyDict::new(py);
            d.set_item("code", t.code.as_str())?;
            d.set_item("name_zh", &t.name_zh)?;
            d.set_item("name_en", &t.name_en)?;
            d.set_item("min_aum", to_py_decimal(py, t.min_aum)?)?;
            d.set_item("watch_months", t.watch_months)?;
            if let Some(label) = t.label_after {
                d.set_item("label_after", label)?;
            }
            // A tier that qualifies by criteria (SPEC §19.3): `min_aum` is 0, `qualify` says how.
            if let Some(q) = t.qualify.as_ref().filter(|_| t.min_aum.is_zero()) {
                let criteria = PyList::empty(py);
                for c in &q.criteria {
                    let cd = PyDict::new(py);
                    cd.set_item("measure", c.measure.as_str())?;
                    cd.set_item("window", c.window.as_str())?;
                    cd.set_item("min", to_py_decimal(py, c.min)?)?;
                    criteria.append(cd)?;
                }
                let qd = PyDict::new(py);
                qd.set_item(if q.all { "all_of" } else { "any_of" }, criteria)?;
                d.set_item("qualify", qd)?;
            }
            list.append(d)?;
        }
        Ok(list)
    }

    /// The settings in force: months of watch, exit and retention, downgrade target, bands, and
    /// the settings a book leaves out until set (`label_after`, `assessment_months`, ...) when
    /// it sets them: the core's settings, named as in the rule file.
    #[pyo3(signature = (month=None, legal_entity=None, kind="personal"))]
    fn settings<'py>(
        &self,
        py: Python<'py>,
        month: Option<&Bound<'py, PyAny>>,
        legal_entity: Option<&str>,
        kind: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let v = self.version(py, month, legal_entity, kind)?;
        let d = PyDict::new(py);
        d.set_item("effective_from", v.effective_from.to_string())?;
        // None when the lowest tier qualifies by other criteria than this month's AUM.
        d.set_item("entry_threshold", v.entry_threshold().map(|t| to_py_decimal(py, t)).transpose()?)?;
        // The core's settings as one serialisable struct (the rule file's names; a setting a
        // book leaves out until set is absent), not listed key by key here; its one amount as
        // a Decimal.
        let Value::Object(settings) = to_value(&v.settings)? else {
            return Err(PyRuntimeError::new_err("the settings do not serialize as an object"));
        };
        for (key, value) in &settings {
            match (key.as_str(), value) {
                ("near_threshold_band", _) => d.set_item(key, to_py_decimal(py, v.settings.near_threshold_band)?)?,
                _ => d.set_item(key, json_to_py(py, value)?)?,
            }
        }
        Ok(d)
    }

    /// A new book with tier `tier`'s minimum AUM set to `min_aum` (a `Decimal`, str or int) in
    /// every version that has the tier, or only in rule set `rule_set` (by name) and the version
    /// in force from `effective_from`. The new book is validated by the core (ascending
    /// minimums, ...): a `RuleFileError` names the field. This book is unchanged.
    #[pyo3(signature = (tier, min_aum, *, rule_set=None, effective_from=None))]
    fn with_tier_minimum(
        &self,
        tier: &str,
        min_aum: &Bound<'_, PyAny>,
        rule_set: Option<&str>,
        effective_from: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let amount = extract_amount(min_aum, "min_aum")?;
        let book = self.book.with_tier_minimum(tier, amount, selection(rule_set, effective_from)?).map_err(py_err)?;
        Ok(PyRuleBook { book: Arc::new(book) })
    }

    /// A new book with the minimum of tier `tier`'s criterion on `measure` (`aum` or a measure the
    /// book declares, SPEC §19.3) set to `min` (a `Decimal`, str or int), as
    /// [`with_tier_minimum`] does for `min_aum`: a what-if on a loan threshold, say. An
    /// `InputError` on `measure` when the tier has no criterion on it; this book is unchanged.
    #[pyo3(signature = (tier, measure, min, *, rule_set=None, effective_from=None))]
    fn with_criterion_minimum(
        &self,
        tier: &str,
        measure: &str,
        min: &Bound<'_, PyAny>,
        rule_set: Option<&str>,
        effective_from: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let amount = extract_amount(min, "min")?;
        let book = self
            .book
            .with_criterion_minimum(tier, measure, amount, selection(rule_set, effective_from)?)
            .map_err(py_err)?;
        Ok(PyRuleBook { book: Arc::new(book) })
    }

    /// A new book with setting `name` (a field of a rule version: `watch_months`,
    /// `exit_after_months`, `retention_months`, `downgrade_target`, `near_threshold_band`,
    /// `threshold_comparison`, `special_vip_months`, ...) set to `value` in every version, or
    /// only in rule set `rule_set` and the version in force from `effective_from`. Validated by
    /// the core (a `RuleFileError` names the field); this book is unchanged.
    #[pyo3(signature = (name, value, *, rule_set=None, effective_from=None))]
    fn with_setting(
        &self,
        name: &str,
        value: &Bound<'_, PyAny>,
        rule_set: Option<&str>,
        effective_from: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let value = py_to_json(value, name)?;
        let book = self.book.with_setting(name, &value, selection(rule_set, effective_from)?).map_err(py_err)?;
        Ok(PyRuleBook { book: Arc::new(book) })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((slf.get_type().getattr("from_str")?, (slf.get().book.to_json(),)))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyRuleBook>().is_ok_and(|o| o.get().book.source() == self.book.source())
    }

    fn __repr__(&self) -> String {
        format!("RuleBook(name={:?}, rule_sets={})", self.book.name(), self.book.rule_sets().len())
    }
}

/// The versions a rule edit applies to (the core's [`VersionSelection`]): every version, or
/// those of rule set `rule_set` and in force from `effective_from`.
fn selection<'a>(
    rule_set: Option<&'a str>,
    effective_from: Option<&Bound<'_, PyAny>>,
) -> PyResult<VersionSelection<'a>> {
    Ok(VersionSelection { rule_set, effective_from: effective_from.map(extract_month).transpose()? })
}
