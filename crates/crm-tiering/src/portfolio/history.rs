//! The portfolio's histories (SPEC §19.5): beside the states, in a
//! [`Histories`](crate::Histories) table.

use crate::error::TieringError;
use crate::history::History;

use super::PortfolioStates;

impl PortfolioStates {
    /// The customer's history at `index` (SPEC §19.5): the months before its next evaluation
    /// that the windows of the rule book that evaluated it read; empty for a book without
    /// windows, a new customer, and past the end.
    pub fn history(&self, index: usize) -> History {
        self.history.get(index)
    }

    /// Sets the history of the customer at `index` (a store or an import reading it back).
    ///
    /// # Errors
    /// [`TieringError::Input`] on field `customer_id` past the end.
    pub fn set_history(&mut self, index: usize, history: &History) -> Result<(), TieringError> {
        if index >= self.states.len() {
            return Err(crate::error::InputError::new("", None, "customer_id", "no customer at that index").into());
        }
        self.history.set(index, self.states.len(), history);
        Ok(())
    }

    /// Whether every customer's history equals `other`'s.
    pub(crate) fn same_history(&self, other: &PortfolioStates) -> bool {
        if self.history.is_empty() && other.history.is_empty() {
            return true;
        }
        (0..self.states.len()).all(|i| self.history(i) == other.history(i))
    }
}
