//! Lineage lines before they are made: each refers to its input record and carries what was
//! computed, so a customer's lines are sorted small and made once, in their final order, into
//! the lineage list (SPEC §20.6).

use crm_tiering::Decimal;

use crate::fen::fen_decimal;
use crate::inputs::{AccountMonth, DirectCost, Fee};
use crate::lineage::{LineKind, LineageLine};
use crate::rules::RuleBook;

/// A lineage line to be made.
pub(crate) enum Pending<'a> {
    /// An account's interest, risk cost or capital charge line: `rate` is the FTP rate of an
    /// interest line, else the provision or capital rate.
    Account { a: &'a AccountMonth, kind: LineKind, amount: i128, days: u32, rate: Decimal },
    /// A fee, in fen.
    Fee { f: &'a Fee, fen: i128 },
    /// A direct cost, in fen (a cost: the line's amount is its negation).
    Direct { d: &'a DirectCost, fen: i128 },
    /// A customer's share of a stage's pool (stage counting from 1).
    Allocated { stage: usize, quantity: Decimal, total: Decimal, share: i128 },
}

impl Pending<'_> {
    /// The line's kind, which orders a customer's lines.
    pub(crate) fn kind(&self) -> LineKind {
        match self {
            Pending::Account { kind, .. } => *kind,
            Pending::Fee { .. } => LineKind::Fee,
            Pending::Direct { .. } => LineKind::DirectCost,
            Pending::Allocated { .. } => LineKind::AllocatedCost,
        }
    }

    /// The line of `customer`.
    pub(crate) fn line(&self, customer: &str, book: &RuleBook) -> LineageLine {
        match self {
            Pending::Account { a, kind, amount, days, rate } => {
                let mut line = LineageLine::new(customer, *kind, fen_decimal(*amount));
                line.account = Some(a.account.clone());
                line.product = Some(a.product.clone());
                line.balance = Some(a.average_balance);
                line.days = Some(*days);
                match kind {
                    LineKind::InterestAsset | LineKind::InterestLiability => {
                        line.ftp_rate = Some(*rate);
                        line.customer_rate = Some(a.customer_rate);
                    }
                    LineKind::CapitalCharge => {
                        line.rate = Some(*rate);
                        line.risk_weight = a.risk_weight;
                    }
                    _ => line.rate = Some(*rate),
                }
                line
            }
            Pending::Fee { f, fen } => {
                let mut line = LineageLine::new(customer, LineKind::Fee, fen_decimal(*fen));
                line.product.clone_from(&f.product);
                line
            }
            Pending::Direct { d, fen } => {
                let mut line = LineageLine::new(customer, LineKind::DirectCost, fen_decimal(-*fen));
                line.item = Some(d.item.clone());
                line
            }
            Pending::Allocated { stage, quantity, total, share } => {
                let mut line = LineageLine::new(customer, LineKind::AllocatedCost, fen_decimal(-*share));
                line.pool = book.stages().get(stage.wrapping_sub(1)).map(|s| s.pool.clone());
                line.stage = Some(*stage);
                line.driver_quantity = Some(*quantity);
                line.driver_total = Some(*total);
                line
            }
        }
    }
}
