//! Events (what changed, why, on what evidence) and alerts (what an account manager should see):
//! their codes (`codes.rs`), their amounts in whole fen (`fen.rs`), and one file for each of
//! [`Evidence`], [`Event`] and [`Alert`] with its JSON form (SPEC §11, §12).

mod alert;
mod codes;
mod evidence;
mod fen;
mod record;

pub use alert::Alert;
pub use codes::{AlertKind, EventKind, Reason, Severity};
pub use evidence::Evidence;
pub use record::Event;
pub(crate) use record::may_take_effect_same_month;
