//! `crm-tiering bench`.
use crate::exit::{Exit, Failure};

/// Options of the benchmark.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct BenchArgs {}

pub(crate) fn bench_command(_args: &BenchArgs) -> Result<Exit, Failure> {
    Ok(Exit::Ok)
}
