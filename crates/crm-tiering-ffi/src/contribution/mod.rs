//! The contribution month (客户贡献度, SPEC §20) over the C ABI: a rule book's TOML text and the
//! input tables' CSV texts in, a result handle (`crmt_contribution`) out, whose customers,
//! account managers and figures are read one by one, or whole as JSON.
//!
//! Every rule (reading the book and the tables, the computation, its errors, the JSON form) is
//! the crate `crm-tiering-contribution`'s; this module only converts at the boundary.
//!
//! One file per idea: `compute` (the handle, the computation and its failure) and `read` (the
//! readers of a computed month).

// The order of these modules is the order of their functions in the header.
mod compute;
// The readers.
mod read;

pub use compute::*;
pub use read::*;

#[cfg(test)]
mod tests;
