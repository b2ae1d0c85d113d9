//! The single-customer API: rule books, states, events, alerts, outcomes and the engine.

use std::sync::Arc;

use crm_tiering::{
    Alert, CustomerKind, CustomerState, Engine, EngineOptions, Event, MissingMonths, Month, MonthInput, MonthOutcome,
    RuleBook, RuleBookFile, RuleError,
};
use crm_tiering::{AumInput, ComponentAmount, SpecialChange};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyTuple};
use serde_json::json;

use crate::convert::{
    extract_amount, extract_customer, extract_month, json_to_py, py_to_json, to_py_decimal, to_py_decimal_opt, to_value,
};
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
            list.append(d)?;
        }
        Ok(list)
    }

    /// The settings in force: months of watch, exit and retention, downgrade target, bands.
    #[pyo3(signature = (month=None, legal_entity=None, kind="personal"))]
    fn settings<'py>(
        &self,
        py: Python<'py>,
        month: Option<&Bound<'py, PyAny>>,
        legal_entity: Option<&str>,
        kind: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let v = self.version(py, month, legal_entity, kind)?;
        let s = &v.settings;
        let d = PyDict::new(py);
        d.set_item("effective_from", v.effective_from.to_string())?;
        d.set_item(
            "threshold_comparison",
            match s.threshold_comparison {
                crm_tiering::ThresholdComparison::AtLeast => "at_least",
                crm_tiering::ThresholdComparison::GreaterThan => "greater_than",
            },
        )?;
        d.set_item("entry_threshold", to_py_decimal(py, v.entry_threshold())?)?;
        d.set_item("exit_after_months", s.exit_after_months)?;
        d.set_item("retention_months", s.retention_months)?;
        d.set_item("watch_months", s.watch_months)?;
        d.set_item("downgrade_target", s.downgrade_target.as_str())?;
        d.set_item("special_vip_months", s.special_vip_months)?;
        d.set_item("special_vip_default_tier", s.special_vip_default_tier.as_str())?;
        d.set_item("special_vip_notice_months", s.special_vip_notice_months)?;
        d.set_item("near_threshold_band", to_py_decimal(py, s.near_threshold_band)?)?;
        Ok(d)
    }

    /// A new book with tier `tier`'s minimum AUM set to `min_aum` (a `Decimal`, str or int) in
    /// every version that has the tier, or only in rule set `rule_set` (by name) and the version
    /// in force from `effective_from`. The new book is validated by the core (ascending
    /// minimums, ...): a `RuleFileError` names the field. This book is unchanged.
    #[pyo3(signature = (tier, min_aum, *, rule_set=None, effective_from=None))]
    fn with_tier_minimum(
        &self,
        py: Python<'_>,
        tier: &str,
        min_aum: &Bound<'_, PyAny>,
        rule_set: Option<&str>,
        effective_from: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let amount = extract_amount(min_aum, "min_aum")?;
        let mut file = self.book.source().clone();
        let mut found = 0;
        for v in versions(py, &mut file, rule_set, effective_from)?.into_iter().map(|(_, v)| v) {
            for t in v.tiers.iter_mut().filter(|t| t.code == tier) {
                t.min_aum = amount;
                found += 1;
            }
        }
        if found == 0 {
            return Err(input_error(py, None, None, "tier", &format!("no selected version has a tier `{tier}`")));
        }
        Ok(PyRuleBook { book: Arc::new(RuleBook::from_file(file).map_err(py_err)?) })
    }

    /// A new book with setting `name` (a field of a rule version: `watch_months`,
    /// `exit_after_months`, `retention_months`, `downgrade_target`, `near_threshold_band`,
    /// `threshold_comparison`, `special_vip_months`, ...) set to `value` in every version, or
    /// only in rule set `rule_set` and the version in force from `effective_from`. Validated by
    /// the core (a `RuleFileError` names the field); this book is unchanged.
    #[pyo3(signature = (name, value, *, rule_set=None, effective_from=None))]
    fn with_setting(
        &self,
        py: Python<'_>,
        name: &str,
        value: &Bound<'_, PyAny>,
        rule_set: Option<&str>,
        effective_from: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        if matches!(name, "tiers" | "effective_from") {
            return Err(input_error(
                py,
                None,
                None,
                name,
                "not a setting: use with_tier_minimum for tiers, or edit to_dict() for the versions",
            ));
        }
        let value = py_to_json(value, name)?;
        let mut file = self.book.source().clone();
        for (at, v) in versions(py, &mut file, rule_set, effective_from)? {
            let mut obj = serde_json::to_value(&*v).map_err(|e| PyValueError::new_err(e.to_string()))?;
            let known = obj.get(name).is_some() || matches!(name, "special_vip_default_tier" | "tier_map");
            if !known {
                return Err(input_error(py, None, None, name, &format!("`{name}` is not a setting of a rule version")));
            }
            if let Some(o) = obj.as_object_mut() {
                o.insert(name.to_string(), value.clone());
            }
            *v = serde_json::from_value(obj)
                .map_err(|e| py_err(RuleError::new(format!("{at}.{name}"), e.to_string()).into()))?;
        }
        Ok(PyRuleBook { book: Arc::new(RuleBook::from_file(file).map_err(py_err)?) })
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

/// The versions of a book file selected by rule set name and effective month, with their field
/// paths; an error when the selection is empty.
fn versions<'f>(
    py: Python<'_>,
    file: &'f mut RuleBookFile,
    rule_set: Option<&str>,
    effective_from: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<(String, &'f mut crm_tiering::RuleVersionFile)>> {
    let from = effective_from.map(extract_month).transpose()?;
    let mut out = Vec::new();
    for (i, set) in file.rule_sets.iter_mut().enumerate() {
        if rule_set.is_some_and(|n| n != set.name) {
            continue;
        }
        for (j, v) in set.versions.iter_mut().enumerate() {
            if from.is_some_and(|m| m != v.effective_from) {
                continue;
            }
            out.push((format!("rule_sets[{i}].versions[{j}]"), v));
        }
    }
    if out.is_empty() {
        let what = match (rule_set, from) {
            (Some(n), Some(m)) => format!("rule set `{n}` has no version effective from {m}"),
            (Some(n), None) => format!("the book has no rule set `{n}`"),
            (None, Some(m)) => format!("no version is effective from {m}"),
            (None, None) => "the book has no versions".to_string(),
        };
        return Err(input_error(py, None, None, if rule_set.is_some() { "rule_set" } else { "effective_from" }, &what));
    }
    Ok(out)
}

/// A customer's standing between evaluations; pickles and serializes to JSON.
#[pyclass(module = "crm_tiering._native", name = "CustomerState", frozen)]
#[derive(Clone)]
pub(crate) struct PyCustomerState {
    pub(crate) state: CustomerState,
}

/// A Python-style repr of an optional value: `'gold'` or `None`.
fn py_opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "None".to_string(), |v| format!("'{v}'"))
}

fn tier_str(t: Option<crm_tiering::TierCode>) -> Option<String> {
    t.map(|t| t.to_string())
}

#[pymethods]
impl PyCustomerState {
    /// A new customer's state: not enrolled, never evaluated.
    #[new]
    fn new() -> Self {
        PyCustomerState { state: CustomerState::default() }
    }

    /// Reads a state written by `to_json`.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        Ok(PyCustomerState { state: CustomerState::from_json(text).map_err(py_err)? })
    }

    /// Reads a state from a dict shaped like its JSON form.
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        Self::from_json(&py_to_json(data, "state")?.to_string())
    }

    /// The state as JSON with its schema version.
    fn to_json(&self) -> String {
        self.state.to_json()
    }

    /// The state as a dict (the JSON form).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &to_value(&self.state)?)
    }

    /// `not_enrolled`, `rated` or `retained`.
    #[getter]
    fn status(&self) -> &'static str {
        self.state.status.as_str()
    }

    /// The status' Chinese name: 未纳入, 已评级 or 已退未评级.
    #[getter]
    fn status_zh(&self) -> &'static str {
        self.state.status.name_zh()
    }

    /// The earned tier (current when rated, last when retained).
    #[getter]
    fn tier(&self) -> Option<String> {
        tier_str(self.state.tier)
    }

    /// The effective tier: the earned tier when rated, or a higher special VIP tier.
    #[getter]
    fn effective_tier(&self) -> Option<String> {
        tier_str(self.state.effective_tier)
    }

    /// Whether the customer counts as a VIP (rated, or an active special VIP).
    #[getter]
    fn is_vip(&self) -> bool {
        self.state.is_vip()
    }

    /// Consecutive months short of the tier in the downgrade watch (0 without a watch).
    #[getter]
    fn watch_months(&self) -> u32 {
        self.state.watch_months()
    }

    /// Consecutive months below the entry threshold while rated.
    #[getter]
    fn below_entry_months(&self) -> u32 {
        self.state.below_entry_months()
    }

    /// Months of retention (已退未评级) left.
    #[getter]
    fn retention_months_left(&self) -> u32 {
        self.state.retention_months_left
    }

    /// The special VIP designation's tier, while it lasts.
    #[getter]
    fn special_tier(&self) -> Option<String> {
        self.state.special.map(|s| s.tier.to_string())
    }

    /// The last month of the special VIP designation.
    #[getter]
    fn special_until(&self) -> Option<String> {
        self.state.special.map(|s| s.last_month.to_string())
    }

    /// The last month evaluated ("YYYY-MM").
    #[getter]
    fn last_month(&self) -> Option<String> {
        self.state.last_month.map(|m| m.to_string())
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((slf.get_type().getattr("from_json")?, (slf.get().state.to_json(),)))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyCustomerState>().is_ok_and(|o| o.get().state == self.state)
    }

    fn __repr__(&self) -> String {
        format!(
            "CustomerState(status='{}', tier={}, effective_tier={}, last_month={})",
            self.state.status.as_str(),
            py_opt(self.state.tier),
            py_opt(self.state.effective_tier),
            py_opt(self.state.last_month)
        )
    }
}

/// A change of standing with its reason and evidence.
#[pyclass(module = "crm_tiering._native", name = "Event", frozen)]
#[derive(Clone)]
pub(crate) struct PyEvent {
    pub(crate) event: Event,
}

#[pymethods]
impl PyEvent {
    /// The evaluated month.
    #[getter]
    fn month(&self) -> String {
        self.event.month.to_string()
    }
    /// The month the change takes effect.
    #[getter]
    fn effective_from(&self) -> String {
        self.event.effective_from.to_string()
    }
    /// The event code, such as `entered` or `downgraded`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.event.kind.as_str()
    }
    /// The event's Chinese name.
    #[getter]
    fn kind_zh(&self) -> &'static str {
        self.event.kind.name_zh()
    }
    /// The tier before.
    #[getter]
    #[allow(clippy::wrong_self_convention)]
    fn from_tier(&self) -> Option<String> {
        tier_str(self.event.from_tier)
    }
    /// The tier after.
    #[getter]
    fn to_tier(&self) -> Option<String> {
        tier_str(self.event.to_tier)
    }
    /// The tier the event is about, the same rule for every kind: the tier after it (`to_tier`)
    /// when there is one, else the tier it ends or leaves (`from_tier`).
    #[getter]
    fn tier(&self) -> Option<String> {
        tier_str(self.event.to_tier.or(self.event.from_tier))
    }
    /// The rule that decided it, such as `met_tier_minimum`.
    #[getter]
    fn reason(&self) -> &'static str {
        self.event.reason.as_str()
    }
    /// The reason's Chinese text.
    #[getter]
    fn reason_zh(&self) -> &'static str {
        self.event.reason.name_zh()
    }
    /// The evaluated month's AUM.
    #[getter]
    fn aum<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_decimal(py, self.event.evidence.aum)
    }
    /// The threshold compared with.
    #[getter]
    fn threshold<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_py_decimal_opt(py, self.event.evidence.threshold)
    }
    /// Highest AUM of the deciding window.
    #[getter]
    fn peak_aum<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_py_decimal_opt(py, self.event.evidence.peak_aum)
    }
    /// First month of the deciding window.
    #[getter]
    fn window_from(&self) -> Option<String> {
        self.event.evidence.window_from.map(|m| m.to_string())
    }
    /// Months in the deciding window.
    #[getter]
    fn window_months(&self) -> Option<u32> {
        self.event.evidence.window_months
    }
    /// One line explaining the event, in English.
    fn explain(&self) -> String {
        self.event.explain()
    }
    /// The event as a dict (the JSON form, amounts as decimal strings).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &to_value(&self.event)?)
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyEvent>().is_ok_and(|o| o.get().event == self.event)
    }
    fn __repr__(&self) -> String {
        format!("Event({})", self.event.explain())
    }
}

/// A notice for the account manager.
#[pyclass(module = "crm_tiering._native", name = "Alert", frozen)]
#[derive(Clone)]
pub(crate) struct PyAlert {
    pub(crate) alert: Alert,
}

#[pymethods]
impl PyAlert {
    /// The evaluated month.
    #[getter]
    fn month(&self) -> String {
        self.alert.month.to_string()
    }
    /// The alert code, such as `watch_active`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.alert.kind.as_str()
    }
    /// The alert's Chinese name.
    #[getter]
    fn kind_zh(&self) -> &'static str {
        self.alert.kind.name_zh()
    }
    /// The tier concerned.
    #[getter]
    fn tier(&self) -> Option<String> {
        tier_str(self.alert.tier)
    }
    /// Months counted so far.
    #[getter]
    fn months_counted(&self) -> Option<u32> {
        self.alert.months_counted
    }
    /// Months left.
    #[getter]
    fn months_left(&self) -> Option<u32> {
        self.alert.months_left
    }
    /// The evaluated month's AUM.
    #[getter]
    fn aum<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_decimal(py, self.alert.aum)
    }
    /// The threshold concerned.
    #[getter]
    fn threshold<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_py_decimal_opt(py, self.alert.threshold)
    }
    /// Distance to the threshold.
    #[getter]
    fn gap<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_py_decimal_opt(py, self.alert.gap)
    }
    /// The alert as a dict (the JSON form).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &to_value(&self.alert)?)
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyAlert>().is_ok_and(|o| o.get().alert == self.alert)
    }
    fn __repr__(&self) -> String {
        format!("Alert({} {} {})", self.alert.month, self.alert.kind, tier_str(self.alert.tier).unwrap_or_default())
    }
}

/// The result of evaluating one customer for one month.
#[pyclass(module = "crm_tiering._native", name = "MonthOutcome", frozen)]
pub(crate) struct PyMonthOutcome {
    pub(crate) outcome: MonthOutcome,
}

#[pymethods]
impl PyMonthOutcome {
    /// The evaluated month ("YYYY-MM").
    #[getter]
    fn month(&self) -> String {
        self.outcome.month.to_string()
    }
    /// The month's AUM, rounded to the fen.
    #[getter]
    fn aum<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_decimal(py, self.outcome.aum)
    }
    /// The new state, effective for the next month.
    #[getter]
    fn state(&self) -> PyCustomerState {
        PyCustomerState { state: self.outcome.state }
    }
    /// What changed.
    #[getter]
    fn events(&self) -> Vec<PyEvent> {
        self.outcome.events.iter().map(|e| PyEvent { event: *e }).collect()
    }
    /// Notices for the account manager.
    #[getter]
    fn alerts(&self) -> Vec<PyAlert> {
        self.outcome.alerts.iter().map(|a| PyAlert { alert: *a }).collect()
    }
    /// `{"aum", "state", "events", "alerts"}` exactly as the conformance vectors write them.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let o = &self.outcome;
        let v = json!({
            "aum": o.aum.to_string(),
            "state": to_value(&o.state)?,
            "events": to_value(&o.events)?,
            "alerts": to_value(&o.alerts)?,
        });
        json_to_py(py, &v)
    }
    fn __repr__(&self) -> String {
        let o = &self.outcome;
        format!(
            "MonthOutcome(month='{}', aum=Decimal('{}'), status='{}', tier={}, events={}, alerts={})",
            o.month,
            o.aum,
            o.state.status.as_str(),
            py_opt(o.state.tier),
            o.events.len(),
            o.alerts.len()
        )
    }
}

/// An error about one month of a customer's history: an input error is given the customer
/// and month (the value's own error knows neither); other errors get them in the message.
fn in_month(py: Python<'_>, e: PyErr, customer: &str, month: Option<Month>) -> PyErr {
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

/// Reads a month's input: an amount (the month's AUM), or a mapping. A mapping is either the
/// conformance vectors' nested form (`{"aum": {"total": "200000"}, "special": {"action":
/// "grant"}}`) or the plain form: `aum` (an amount) or component codes with amounts
/// (`{"time_deposit": "150000", "wealth_product": "60000"}`), plus optionally `grant` (a mapping
/// with optional `tier` and `months`, or `True`) or `revoke` (`True`), or the nested `special`.
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
    for (k, v) in d.iter() {
        let key: String = k.extract().map_err(|_| PyTypeError::new_err("a month input's keys are str"))?;
        match key.as_str() {
            "aum" => total = Some(extract_amount(&v, "aum")?),
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
            code => components.push(ComponentAmount { component: code.to_string(), amount: extract_amount(&v, code)? }),
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
            let names: Vec<&str> = components.iter().map(|c| c.component.as_str()).collect();
            return Err(bad(
                "aum",
                &format!(
                    "the month input has both `aum` and component amounts ({}): give one or the other",
                    names.join(", ")
                ),
            ));
        }
    };
    Ok(MonthInput { aum, special })
}

/// The rules engine: a rule book and options.
#[pyclass(module = "crm_tiering._native", name = "Engine", frozen)]
pub(crate) struct PyEngine {
    pub(crate) engine: Arc<Engine>,
}

#[pymethods]
impl PyEngine {
    #[new]
    #[pyo3(signature = (rules, missing_months="error"))]
    fn new(py: Python<'_>, rules: &PyRuleBook, missing_months: &str) -> PyResult<Self> {
        Ok(PyEngine { engine: Arc::new(Engine::with_options((*rules.book).clone(), options(py, missing_months)?)) })
    }

    /// The rule book.
    #[getter]
    fn rules(&self) -> PyRuleBook {
        PyRuleBook { book: Arc::new(self.engine.rule_book().clone()) }
    }

    /// `"error"` or `"treat_as_zero"`.
    #[getter]
    fn missing_months(&self) -> &'static str {
        match self.engine.options().missing_months {
            MissingMonths::Error => "error",
            MissingMonths::TreatAsZero => "treat_as_zero",
        }
    }

    /// Evaluates one customer for one month.
    #[pyo3(signature = (customer, month, input, *, state=None))]
    fn evaluate(
        &self,
        customer: &Bound<'_, PyAny>,
        month: &Bound<'_, PyAny>,
        input: &Bound<'_, PyAny>,
        state: Option<&PyCustomerState>,
    ) -> PyResult<PyMonthOutcome> {
        let customer = extract_customer(customer)?;
        let month = extract_month(month)?;
        let input = extract_input(input)?;
        let prior = state.map(|s| s.state).unwrap_or_default();
        let outcome = self.engine.evaluate(&customer, &prior, month, &input).map_err(py_err)?;
        Ok(PyMonthOutcome { outcome })
    }

    /// Replays a history: an iterable of `(month, input)` pairs (tuples or lists, as
    /// `json.load` gives them), or a mapping month -> input. A month that cannot be evaluated
    /// raises its error naming the customer and the month, with the outcomes of the months
    /// before it as `.outcomes` (nothing evaluated is lost).
    #[pyo3(signature = (customer, history, *, initial=None))]
    fn replay(
        &self,
        py: Python<'_>,
        customer: &Bound<'_, PyAny>,
        history: &Bound<'_, PyAny>,
        initial: Option<&PyCustomerState>,
    ) -> PyResult<Vec<PyMonthOutcome>> {
        let customer = extract_customer(customer)?;
        let items = match history.cast::<PyDict>() {
            Ok(d) => d.items().into_any(),
            Err(_) if history.hasattr("items")? && !history.is_instance_of::<PyList>() => {
                history.call_method0("items")?
            }
            Err(_) => history.clone(),
        };
        let mut state = initial.map(|s| s.state).unwrap_or_default();
        let mut out: Vec<PyMonthOutcome> = Vec::new();
        let fail = |err: PyErr, out: Vec<PyMonthOutcome>| -> PyErr {
            let value = err.value(py);
            let done = PyList::empty(py);
            for o in out {
                if let Ok(o) = Py::new(py, o) {
                    let _ = done.append(o);
                }
            }
            let _ = value.setattr("outcomes", done);
            err
        };
        for item in items.try_iter()? {
            let item = item?;
            let pair: Vec<Bound<'_, PyAny>> = match (item.cast::<PyTuple>(), item.cast::<PyList>()) {
                (Ok(t), _) => t.iter().collect(),
                (_, Ok(l)) => l.iter().collect(),
                _ => {
                    let e = PyTypeError::new_err("a history is a mapping month -> input or (month, input) pairs");
                    return Err(fail(e, out));
                }
            };
            let [month, input] = pair.as_slice() else {
                return Err(fail(PyTypeError::new_err("a history item is a (month, input) pair"), out));
            };
            let month = match extract_month(month) {
                Ok(m) => m,
                Err(e) => {
                    let e = in_month(py, e, &customer.id, None);
                    return Err(fail(e, out));
                }
            };
            let input = match extract_input(input) {
                Ok(i) => i,
                Err(e) => return Err(fail(in_month(py, e, &customer.id, Some(month)), out)),
            };
            match self.engine.evaluate(&customer, &state, month, &input) {
                Ok(outcome) => {
                    state = outcome.state;
                    out.push(PyMonthOutcome { outcome });
                }
                Err(e) => return Err(fail(py_err(e), out)),
            }
        }
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!("Engine(rules={:?}, missing_months={:?})", self.engine.rule_book().name(), self.missing_months())
    }
}
