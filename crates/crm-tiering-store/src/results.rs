//! One month's results as the store takes them: what the core's portfolio month reports for
//! the month, by customer index in the month's `PortfolioStates`.

use crm_tiering::portfolio::{PortfolioMonth, PortfolioSink, RecordError};
use crm_tiering::{Alert, CustomerRef, CustomerState, Decimal, Event, Month};

/// A customer evaluated in the month: its index, AUM and whether it had a record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvaluatedAum {
    /// The customer's index in the month's states.
    pub index: u32,
    /// The month's AUM.
    pub aum: Decimal,
    /// Whether the customer had a record (false: absent, evaluated at zero).
    pub has_record: bool,
}

/// One month's events, alerts, evaluated customers and held customers, by customer index.
///
/// A [`PortfolioSink`] for a single month (the core's `evaluate_portfolio_with` fills it), or
/// made from a collected `PortfolioMonth`. The states are not kept here: they are the
/// `PortfolioStates` given beside it ([`crate::MonthWriter::commit_portfolio_month`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MonthResults {
    /// The month, once known.
    pub month: Option<Month>,
    /// Events: (customer index, event), in customer order.
    pub events: Vec<(usize, Event)>,
    /// Alerts: (customer index, alert), in customer order.
    pub alerts: Vec<(usize, Alert)>,
    /// The evaluated customers, in customer order.
    pub evaluated: Vec<EvaluatedAum>,
    /// Customers held back and refused records, in order.
    pub held: Vec<RecordError>,
}

impl MonthResults {
    /// Empty results of `month`.
    pub fn new(month: Month) -> Self {
        MonthResults { month: Some(month), ..MonthResults::default() }
    }
}

impl From<&PortfolioMonth> for MonthResults {
    fn from(m: &PortfolioMonth) -> Self {
        MonthResults {
            month: m.month,
            events: m.events.clone(),
            alerts: m.alerts.clone(),
            evaluated: m
                .evaluated
                .iter()
                .filter_map(|e| {
                    Some(EvaluatedAum { index: u32::try_from(e.index).ok()?, aum: e.aum, has_record: e.has_record })
                })
                .collect(),
            held: m.held.iter().map(|(_, e)| e.clone()).collect(),
        }
    }
}

impl PortfolioSink for MonthResults {
    fn begin_month(&mut self, month: Month) {
        self.month = Some(month);
    }
    fn event(&mut self, _: Month, index: usize, _: CustomerRef<'_>, event: &Event) {
        self.events.push((index, *event));
    }
    fn alert(&mut self, _: Month, index: usize, _: CustomerRef<'_>, alert: &Alert) {
        self.alerts.push((index, *alert));
    }
    fn evaluated(
        &mut self,
        _: Month,
        index: usize,
        _: CustomerRef<'_>,
        aum: Decimal,
        has_record: bool,
        _: &CustomerState,
    ) {
        if let Ok(index) = u32::try_from(index) {
            self.evaluated.push(EvaluatedAum { index, aum, has_record });
        }
    }
    fn held(&mut self, _: Month, _: Option<usize>, error: &RecordError) {
        self.held.push(error.clone());
    }
}
