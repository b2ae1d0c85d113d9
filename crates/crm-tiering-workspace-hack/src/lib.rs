//! No code: this crate only asks features of shared dependencies, so that the CLI's and the
//! Python extension's ship builds resolve the same feature set and compile those dependencies
//! once. See its `Cargo.toml` for why and `scripts/check-shared-features.py` for the check.
