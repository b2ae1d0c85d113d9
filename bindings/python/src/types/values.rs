//! States, events, alerts and one month's outcome as Python values.

use crm_tiering::{Alert, CustomerState, Event, History, MonthOutcome};
use pyo3::prelude::*;

use crate::convert::{json_to_py, py_to_json, to_py_decimal, to_py_decimal_opt, to_value};
use crate::errors::py_err;

/// A customer's standing between evaluations; pickles and serializes to JSON.
#[pyclass(module = "crm_tiering._native", name = "CustomerState", frozen)]
#[derive(Clone)]
pub(crate) struct PyCustomerState {
    pub(crate) state: CustomerState,
    /// The months the rule book's windows read (SPEC §19.5), empty without windows.
    pub(crate) history: History,
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
        PyCustomerState { state: CustomerState::default(), history: History::new() }
    }

    /// Reads a state written by `to_json` (with its `history` when it has one).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let (state, history) = CustomerState::from_json_with_history(text).map_err(py_err)?;
        Ok(PyCustomerState { state, history })
    }

    /// Reads a state from a dict shaped like its JSON form.
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        Self::from_json(&py_to_json(data, "state")?.to_string())
    }

    /// The state as JSON with its schema version, and a `history` member under a rule book
    /// whose windows read earlier months.
    fn to_json(&self) -> String {
        self.state.to_json_with_history(&self.history)
    }

    /// The months the rule book's windows read, by measure, newest first: `{"aum":
    /// [Decimal, None, ...]}` (empty without windows, SPEC §19.5).
    #[getter]
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = pyo3::types::PyDict::new(py);
        for code in self.history.measures() {
            let months: PyResult<Vec<Bound<'py, PyAny>>> = self
                .history
                .months(code)
                .into_iter()
                .map(|m| match m {
                    Some(v) => to_py_decimal(py, v),
                    None => Ok(py.None().into_bound(py)),
                })
                .collect();
            d.set_item(code.as_str(), months?)?;
        }
        Ok(d.into_any())
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
        u32::from(self.state.retention_months_left)
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
        Ok((slf.get_type().getattr("from_json")?, (slf.get().state.to_json_with_history(&slf.get().history),)))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyCustomerState>().is_ok_and(|o| o.get().state == self.state && o.get().history == self.history)
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
        self.event.effective_from().to_string()
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
        to_py_decimal(py, self.event.evidence.aum())
    }
    /// The threshold compared with.
    #[getter]
    fn threshold<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_py_decimal_opt(py, self.event.evidence.threshold())
    }
    /// Highest AUM of the deciding window.
    #[getter]
    fn peak_aum<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_py_decimal_opt(py, self.event.evidence.peak_aum())
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
    /// The measure of the criterion that decided (a rule book that qualifies by criteria).
    #[getter]
    fn measure(&self) -> Option<&'static str> {
        self.event.evidence.measure.map(|m| m.as_str())
    }
    /// That measure's value this month.
    #[getter]
    fn measure_value<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_py_decimal_opt(py, self.event.evidence.measure_value())
    }
    /// The window that measure was read over (`avg_6`, `prev_quarter`, ...), none for the
    /// evaluated month alone.
    #[getter]
    fn measure_window(&self) -> Option<&'static str> {
        self.event.evidence.measure_window.map(|w| w.as_str())
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
    /// The evaluated month's AUM; `None` for a `held_back` alert (the customer was not
    /// evaluated).
    #[getter]
    fn aum<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.alert.aum().map(|a| to_py_decimal(py, a)).transpose()
    }
    /// The threshold concerned.
    #[getter]
    fn threshold<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_py_decimal_opt(py, self.alert.threshold())
    }
    /// Distance to the threshold.
    #[getter]
    fn gap<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_py_decimal_opt(py, self.alert.gap())
    }
    /// The measure of the criterion the alert is about (a rule book that qualifies by criteria).
    #[getter]
    fn measure(&self) -> Option<&'static str> {
        self.alert.measure.map(|m| m.as_str())
    }
    /// That measure's value this month.
    #[getter]
    fn measure_value<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        to_py_decimal_opt(py, self.alert.measure_value())
    }
    /// The window that measure was read over, none for the evaluated month alone.
    #[getter]
    fn measure_window(&self) -> Option<&'static str> {
        self.alert.measure_window.map(|w| w.as_str())
    }
    /// How soon to act (SPEC §11.1): `high`, `medium` or `low`, the core's `Alert::severity`.
    #[getter]
    fn severity(&self) -> &'static str {
        self.alert.severity().as_str()
    }
    /// The severity's Chinese name: 高, 中 or 低.
    #[getter]
    fn severity_zh(&self) -> &'static str {
        self.alert.severity().name_zh()
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
        PyCustomerState { state: self.outcome.state, history: self.outcome.history.clone() }
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
    /// `{"aum", "state", "events", "alerts"}` (and `"history"` under a rule book with
    /// windows) exactly as the conformance vectors write them.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.outcome.to_json_value())
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
