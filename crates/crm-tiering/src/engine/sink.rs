//! Where a step's events and alerts go: the one-customer entry points collect them in vectors,
//! the batch forwards them with the customer's index. Below the step, the alerts and the
//! batch, which all write to it.

use crate::event::{Alert, Event};

/// Receives what a step produces.
pub(super) trait Sink {
    fn event(&mut self, e: Event);
    fn alert(&mut self, a: Alert);
}

/// Collects a step's output in vectors (one customer's month).
pub(super) struct VecSink<'a> {
    pub(super) events: &'a mut Vec<Event>,
    pub(super) alerts: &'a mut Vec<Alert>,
}

impl Sink for VecSink<'_> {
    fn event(&mut self, e: Event) {
        self.events.push(e);
    }
    fn alert(&mut self, a: Alert) {
        self.alerts.push(a);
    }
}
