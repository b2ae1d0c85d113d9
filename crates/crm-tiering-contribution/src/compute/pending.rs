//! Lineage lines before they are made: each refers to its input record by its row and carries
//! what was computed, so a customer's lines are sorted small and made once, in their final
//! order, into the lineage list (SPEC §20.6). A customer keeps its fee, direct cost and stage
//! share lines until the end; its account lines are made again from its accounts then, by the
//! same computation.

use crm_tiering::Decimal;

use super::Run;
use crate::fen::{amount_fen, fen_decimal};
use crate::lineage::{LineKind, LineageLine};

/// An amount in fen, kept in 4-byte alignment so that a line to be made stays small.
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
pub(crate) struct Amount(i128);

impl Amount {
    pub(crate) fn new(fen: i128) -> Self {
        Amount(fen)
    }

    pub(crate) fn get(self) -> i128 {
        self.0
    }
}

/// A lineage line to be made.
#[derive(Clone, Copy)]
pub(crate) enum Pending {
    /// An account's interest, risk cost or capital charge line (the account-month by its
    /// row): `rate` is the FTP rate of an interest line, else the provision or capital rate.
    Account { row: u32, kind: LineKind, amount: Amount, days: u32, rate: Decimal },
    /// A fee, by its index in the inputs.
    Fee { index: u32 },
    /// A direct cost, by its index in the inputs (a cost: the line's amount is its negation).
    Direct { index: u32 },
    /// A customer's share of a stage's pool (stage counting from 1).
    Allocated { stage: u32, quantity: Decimal, share: Amount },
}

impl Pending {
    /// The line's kind, which orders a customer's lines.
    pub(crate) fn kind(&self) -> LineKind {
        match self {
            Pending::Account { kind, .. } => *kind,
            Pending::Fee { .. } => LineKind::Fee,
            Pending::Direct { .. } => LineKind::DirectCost,
            Pending::Allocated { .. } => LineKind::AllocatedCost,
        }
    }

    /// The line of `customer`; `totals` are the stages' driver totals, in stage order.
    pub(crate) fn line(&self, customer: &str, run: &Run<'_>, totals: &[Decimal]) -> LineageLine {
        match *self {
            Pending::Account { row, kind, amount, days, rate } => {
                let mut line = LineageLine::new(customer, kind, fen_decimal(amount.get()));
                let Some(a) = usize::try_from(row).ok().and_then(|r| run.accounts.row(r)) else { return line };
                line.account = Some(a.account.to_string());
                line.product = Some(a.product.to_string());
                line.balance = Some(a.average_balance);
                line.days = Some(days);
                match kind {
                    LineKind::InterestAsset | LineKind::InterestLiability => {
                        line.ftp_rate = Some(rate);
                        line.customer_rate = Some(a.customer_rate);
                    }
                    LineKind::CapitalCharge => {
                        line.rate = Some(rate);
                        line.risk_weight = a.risk_weight;
                    }
                    _ => line.rate = Some(rate),
                }
                line
            }
            Pending::Fee { index } => {
                let f = usize::try_from(index).ok().and_then(|i| run.inputs.fees.get(i));
                // Validated: two decimals, within the largest amount.
                let fen = f.and_then(|f| amount_fen(f.amount)).unwrap_or(0);
                let mut line = LineageLine::new(customer, LineKind::Fee, fen_decimal(fen));
                line.product = f.and_then(|f| f.product.clone());
                line
            }
            Pending::Direct { index } => {
                let d = usize::try_from(index).ok().and_then(|i| run.inputs.direct_costs.get(i));
                let fen = d.and_then(|d| amount_fen(d.amount)).unwrap_or(0);
                let mut line = LineageLine::new(customer, LineKind::DirectCost, fen_decimal(-fen));
                line.item = d.map(|d| d.item.clone());
                line
            }
            Pending::Allocated { stage, quantity, share } => {
                let mut line = LineageLine::new(customer, LineKind::AllocatedCost, fen_decimal(-share.get()));
                let i = usize::try_from(stage).unwrap_or(usize::MAX).wrapping_sub(1);
                line.pool = run.book.stages().get(i).map(|s| s.pool.clone());
                line.stage = usize::try_from(stage).ok();
                line.driver_quantity = Some(quantity);
                line.driver_total = totals.get(i).copied();
                line
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_kept_line_is_small() {
        assert_eq!(std::mem::size_of::<super::Pending>(), 44);
    }
}
