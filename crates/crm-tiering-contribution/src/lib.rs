//! # crm-tiering-contribution
//!
//! Customer contribution (客户贡献度) for the tiering month: transfer-priced interest on each
//! account, fee income, costs allocated from cost pools by staged drivers (费用分解), direct
//! costs, risk cost by loan class and an optional capital charge, per customer, rolled up by
//! account manager (主办/协办 shares) and by branch and legal entity, with a lineage line for
//! every amount. Exact in decimals (`rust_decimal`, integer fen), deterministic, normative in
//! `rules-spec/SPEC.md` §20.
//!
//! ```
//! use crm_tiering_contribution::{compute, read_account_months, Inputs, RuleBook};
//!
//! let book = RuleBook::from_toml_str(r#"
//!     basis = 360
//!     [ftp]
//!     rates = [{ product = "demand", term = "none", effective = "2024-01", rate = "0.0200" }]
//! "#)?;
//! let accounts = read_account_months("accounts.csv", "\
//! month,customer,account,product,side,average_balance,customer_rate,branch,legal_entity
//! 2024-03,c1,a1,demand,liability,360000.00,0.0020,b1,le1
//! ")?;
//! let inputs = Inputs { account_months: accounts, ..Inputs::default() };
//! let month = "2024-03".parse()?;
//! let result = compute(&book, month, &inputs)?;
//! // 360,000.00 × (2.00% − 0.20%) × 31 / 360 = 558.00
//! assert_eq!(result.customers[0].figures.net_contribution.to_string(), "558.00");
//! assert_eq!(result.explain("c1").count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(
    clippy::too_many_lines,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::allow_attributes_without_reason
)]

mod allocate;
#[cfg(feature = "arrow")]
pub mod arrow;
mod codes;
mod compute;
mod csv;
mod error;
mod fen;
mod ftp;
mod inputs;
mod json;
mod lineage;
mod records;
mod rollup;
mod rules;
mod table;
mod validate;

pub use allocate::largest_remainder;
pub use compute::{compute, compute_streaming, compute_table, compute_table_streaming};
pub use csv::{
    read_account_months, read_activities, read_assignments, read_cost_pools, read_direct_costs, read_fees,
    read_ftp_rates,
};
pub use error::{ContributionError, ContributionErrors};
pub use fen::Rounding;
pub use ftp::{FtpRate, FtpTable};
pub use inputs::{AccountMonth, Activity, Assignment, CostPool, DirectCost, Fee, Inputs, LoanClass, Role, Side};
pub use lineage::{
    BranchFigures, Contribution, CustomerMonth, Figures, LegalEntityFigures, LineKind, LineageLine, ManagerFigures,
    PoolAmount, StageOutcome,
};
pub use rules::{Dimension, Driver, RuleBook, Stage};
pub use table::AccountMonthTable;
pub use validate::check_assignments;

/// The crate's README, whose examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
