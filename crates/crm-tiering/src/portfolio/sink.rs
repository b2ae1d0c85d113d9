//! Where a portfolio evaluation's results go: a [`PortfolioSink`], or the collected
//! [`PortfolioOutcome`].

use rust_decimal::Decimal;

use super::record::RecordError;
use super::states::PortfolioStates;
use crate::engine::CustomerRef;
use crate::event::{Alert, Event};
use crate::month::Month;
use crate::state::CustomerState;

/// Receives a portfolio evaluation's results in order: month by month, customer by customer
/// (a customer's events, then its alerts, then [`PortfolioSink::evaluated`]); held customers
/// are reported with [`PortfolioSink::held`] in the month they are first held.
pub trait PortfolioSink {
    /// A month starts.
    fn begin_month(&mut self, _month: Month) {}
    /// An event of the customer at `index` (in the portfolio's states).
    fn event(&mut self, month: Month, index: usize, customer: CustomerRef<'_>, event: &Event);
    /// An alert of the customer at `index`.
    fn alert(&mut self, month: Month, index: usize, customer: CustomerRef<'_>, alert: &Alert);
    /// The customer at `index` was evaluated: its AUM, whether it had a record, its new state.
    fn evaluated(
        &mut self,
        month: Month,
        index: usize,
        customer: CustomerRef<'_>,
        aum: Decimal,
        has_record: bool,
        state: &CustomerState,
    );
    /// A customer is held back from this month on (state kept, nothing emitted), or a record
    /// was refused; `index` is none for a customer the states do not hold.
    fn held(&mut self, month: Month, index: Option<usize>, error: &RecordError);
    /// The month's evaluation is over: `states` are the portfolio's states after it, with
    /// each customer's history (SPEC §19.5; a sink writing the states table takes the month's
    /// histories from them). Called just before [`PortfolioSink::end_month`].
    fn after_month(&mut self, _month: Month, _states: &PortfolioStates) {}
    /// A month ends.
    fn end_month(&mut self, _month: Month) {}

    /// Whether the run goes on with month `next` of a range, asked before every month after
    /// the first. A sink that answers no stops the run after the months already evaluated:
    /// they stay applied, whole, and the states are stamped as after any run (a binding
    /// honouring an interrupt between months). Yes by default.
    fn proceed(&mut self, _next: Month) -> bool {
        true
    }
}

/// A customer evaluated in a month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluated {
    /// The customer's index in the portfolio's states.
    pub index: usize,
    /// The month's AUM.
    pub aum: Decimal,
    /// Whether the customer had a record (false: absent, evaluated at zero).
    pub has_record: bool,
    /// The new state.
    pub state: CustomerState,
}

/// One month of a [`PortfolioOutcome`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PortfolioMonth {
    /// The month.
    pub month: Option<Month>,
    /// Events: (customer index, event), in customer order.
    pub events: Vec<(usize, Event)>,
    /// Alerts: (customer index, alert), in customer order.
    pub alerts: Vec<(usize, Alert)>,
    /// The evaluated customers, in customer order.
    pub evaluated: Vec<Evaluated>,
    /// Customers held back and refused records, in order.
    pub held: Vec<(Option<usize>, RecordError)>,
}

/// The collected results of a portfolio evaluation, one entry per month.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PortfolioOutcome {
    /// The months, in order.
    pub months: Vec<PortfolioMonth>,
}

impl PortfolioOutcome {
    /// Every error, month by month.
    pub fn errors(&self) -> impl Iterator<Item = &RecordError> {
        self.months.iter().flat_map(|m| m.held.iter().map(|(_, e)| e))
    }
}

impl PortfolioSink for PortfolioOutcome {
    fn begin_month(&mut self, month: Month) {
        self.months.push(PortfolioMonth { month: Some(month), ..PortfolioMonth::default() });
    }
    fn event(&mut self, _month: Month, index: usize, _customer: CustomerRef<'_>, event: &Event) {
        if let Some(m) = self.months.last_mut() {
            m.events.push((index, *event));
        }
    }
    fn alert(&mut self, _month: Month, index: usize, _customer: CustomerRef<'_>, alert: &Alert) {
        if let Some(m) = self.months.last_mut() {
            m.alerts.push((index, *alert));
        }
    }
    fn evaluated(
        &mut self,
        _: Month,
        index: usize,
        _: CustomerRef<'_>,
        aum: Decimal,
        has_record: bool,
        state: &CustomerState,
    ) {
        if let Some(m) = self.months.last_mut() {
            m.evaluated.push(Evaluated { index, aum, has_record, state: *state });
        }
    }
    fn held(&mut self, _month: Month, index: Option<usize>, error: &RecordError) {
        if let Some(m) = self.months.last_mut() {
            m.held.push((index, error.clone()));
        }
    }
}
