//! The tables of a simulation: `counts` and `changes`.

use std::sync::Arc;

use arrow_array::builder::{Date32Builder, Int64Builder, StringBuilder};
use arrow_schema::ArrowError;
use crm_tiering::TierCode;
use crm_tiering::portfolio::Simulation;
use pyo3_arrow::PyTable;

use super::columns::{append_dec, batch, dec_builder, month_days, table};

/// The `counts` and `changes` tables of a simulation (the core's [`Simulation`]).
pub(crate) fn simulation_tables(sim: &Simulation) -> Result<[PyTable; 2], ArrowError> {
    let n = sim.counts.len();
    let (mut month_b, mut tier_b) = (Date32Builder::with_capacity(n), StringBuilder::new());
    let (mut ca, mut cb, mut delta) =
        (Int64Builder::with_capacity(n), Int64Builder::with_capacity(n), Int64Builder::with_capacity(n));
    for c in &sim.counts {
        month_b.append_value(month_days(c.month));
        tier_b.append_option(c.tier.as_ref().map(TierCode::as_str));
        ca.append_value(c.count_a as i64);
        cb.append_value(c.count_b as i64);
        delta.append_value(c.delta());
    }
    let counts = batch(vec![
        ("month", Arc::new(month_b.finish())),
        ("tier", Arc::new(tier_b.finish())),
        ("count_a", Arc::new(ca.finish())),
        ("count_b", Arc::new(cb.finish())),
        ("delta", Arc::new(delta.finish())),
    ])?;
    let k = sim.changes.len();
    let s = || StringBuilder::with_capacity(k, k * 8);
    let (mut c_id, mut c_ta, mut c_tb, mut c_sa, mut c_sb) = (s(), s(), s(), s(), s());
    let mut c_month = Date32Builder::with_capacity(k);
    let mut c_aum = dec_builder(k);
    for c in &sim.changes {
        c_id.append_value(&c.customer_id);
        c_month.append_value(month_days(c.month));
        append_dec(&mut c_aum, Some(c.aum));
        c_ta.append_option(c.tier_a.as_ref().map(TierCode::as_str));
        c_tb.append_option(c.tier_b.as_ref().map(TierCode::as_str));
        c_sa.append_value(c.status_a.as_str());
        c_sb.append_value(c.status_b.as_str());
    }
    let changes = batch(vec![
        ("customer_id", Arc::new(c_id.finish())),
        ("month", Arc::new(c_month.finish())),
        ("aum", Arc::new(c_aum.finish())),
        ("tier_a", Arc::new(c_ta.finish())),
        ("tier_b", Arc::new(c_tb.finish())),
        ("status_a", Arc::new(c_sa.finish())),
        ("status_b", Arc::new(c_sb.finish())),
    ])?;
    Ok([table(counts)?, table(changes)?])
}
