//! # crm-tiering C ABI
//!
//! The engine for C and Java core-banking systems: every symbol and type starts with `crmt_`,
//! every function returns a [`crmt_result`] (or a plain value for infallible accessors) and runs
//! inside a panic boundary, so no Rust panic ever unwinds into the caller.
//!
//! ## Conventions
//! - **Months** cross as `int32_t` `year * 100 + month` (`202403` is March 2024).
//! - **Amounts** cross as decimal strings (`"523400.50"`, plain notation, no exponent, no
//!   separators) or as `int64_t` fen (integer minor units: `52340050` is 523400.50 CNY). Amounts
//!   the library returns in fen use [`CRMT_NO_AMOUNT`] (`INT64_MIN`) for "none".
//! - **Strings** passed in are NUL-terminated UTF-8; byte buffers are `(pointer, length)` and
//!   need no NUL. Invalid UTF-8 gives [`crmt_result::CRMT_INVALID_UTF8`].
//! - **Ownership**: every handle (`crmt_rulebook`, `crmt_state`, `crmt_states`, `crmt_outcome`,
//!   `crmt_batch`, `crmt_portfolio`, `crmt_columns`, `crmt_extract`, `crmt_portfolio_result`,
//!   `crmt_contribution`, `crmt_loan_records`, `crmt_loan_states`, `crmt_loan_result`,
//!   `crmt_buffer`) is created by the library and released by its `_free`
//!   function, which accepts NULL. Pointers returned by accessors borrow from their handle and
//!   stay valid until that handle is freed or changed. Static strings (codes, names, the
//!   version) are never freed. The caller never calls `free()` on library memory.
//! - **Handle checks**: every handle the library returns is registered (address and kind) until
//!   it is freed, and every function looks its handle arguments up before reading them. A freed
//!   handle, a double free, a handle of another kind or a pointer the library never returned is
//!   refused with [`crmt_result::CRMT_INVALID_ARGUMENT`], the details naming the parameter and
//!   what is wrong ("`portfolio` is not a live crmt_portfolio handle (freed, or another kind of
//!   handle)"); its memory is never read. A `_free` of such a pointer frees nothing and records
//!   the same details; an accessor that returns a value returns its fallback (NULL, 0, false,
//!   `CRMT_NO_AMOUNT`) and records them. **The limit**: once the allocator gives a freed
//!   handle's address to a new handle of the same kind, a stale pointer to the old one *is* the
//!   new one and cannot be told apart (one of another kind is still refused). The checks do not
//!   lift the thread rules: freeing a handle while another thread uses it stays undefined. The
//!   cost is a lookup without lock or write per handle argument (see `handle.rs`).
//! - **Counts and lengths** (of arrays, byte strings, buffers, offsets) are checked before
//!   anything is read, reserved or written: one whose array would span more than `isize::MAX`
//!   bytes, or on a 64-bit target more than 2^57 bytes (128 PiB, beyond any process's address
//!   space) — `SIZE_MAX`, `SIZE_MAX / 2`, ... — is [`crmt_result::CRMT_INVALID_ARGUMENT`] naming
//!   the count or length parameter; memory sized by a caller's count is reserved fallibly, so a
//!   count no memory can hold is that error too, never an abort. An index or row past the end is
//!   [`crmt_result::CRMT_INDEX_OUT_OF_RANGE`], `SIZE_MAX` included. The readers of the error
//!   details return `CRMT_INVALID_ARGUMENT` for an impossible `len` and keep the details.
//! - **Errors**: a failing call returns a non-zero [`crmt_result`] and records details (message,
//!   customer, month, field, record) for the calling thread, read with `crmt_last_error_*`. A
//!   call that returns a `crmt_result` clears the details first; the readers of the details,
//!   the accessors that return a value (a length, an array, a flag) and every `_free` keep
//!   them, so a caller may free its handles before reading why a call failed. (Such an accessor
//!   records details only when misused: a pointer that is not a live handle.)
//! - **Panics**: a panic inside the library is caught at the boundary and returned as
//!   [`crmt_result::CRMT_PANIC`], its message and source location in the details; nothing is
//!   printed on the host's stderr. The library's panic hook (installed once, on the first
//!   call) passes panics outside the library's calls on to the hook it found.
//! - **Threads**: a `crmt_rulebook` is immutable and may be shared by any number of threads.
//!   `crmt_columns`, `crmt_contribution`, `crmt_loan_states` and `crmt_loan_result` are
//!   immutable once made (read by any number of threads). `crmt_state`, `crmt_states`,
//!   `crmt_outcome`, `crmt_batch`, `crmt_portfolio`, `crmt_extract`, `crmt_portfolio_result`,
//!   `crmt_loan_records` and `crmt_buffer` are not synchronized: one thread at a time per
//!   handle.
//! - **Portfolio month**: stored states are keyed by customer id (`crmt_portfolio`); a month's
//!   records (`crmt_extract`) meet them by id in `crmt_evaluate_portfolio`, never by position.
#![allow(non_camel_case_types)]
#![allow(unsafe_code)]

// The modules are declared in the order of their functions in the header (cbindgen reads them in
// turn), one comment apart so that rustfmt keeps the order. The first ones export no function and
// each imports only modules above it (code <- details <- boundary <- args <- convert <- registry <- handle):
// no module of the crate imports one that imports it (`tests/modules.rs` checks it).
// Result codes.
mod code;
// A failure's details and the thread's error details.
mod details;
// The panic boundary.
mod boundary;
// The caller's arguments and text buffers.
mod args;
// Amounts and codes going out.
mod convert;
// The registry of live handles.
mod registry;
// Handles, checked against the registry.
mod handle;
// The positional batch: caller's columns in, flat arrays out.
mod batch;
// Readers of result codes and of the thread's error details.
mod error;
// Events and alerts as C values, their codes and names.
mod event;
// An alert's severity (SPEC §11.1).
mod severity;
// One customer's month.
mod evaluate;
// The library-owned buffer.
mod buffer;
// The portfolio month: stored states, extract, evaluation, reports.
mod portfolio;
// Rule books.
mod rulebook;
// One customer's state, and the batch's states.
mod state;
// The contribution month (SPEC §20).
mod contribution;
// Loan classification signals (SPEC §21).
mod loans;

pub use batch::*;
pub use buffer::*;
pub use code::crmt_result;
pub use contribution::*;
pub use error::*;
pub use evaluate::*;
pub use event::*;
pub use loans::*;
pub use portfolio::*;
pub use rulebook::*;
pub use severity::*;
pub use state::*;

/// The ABI version: bumped on any incompatible change to a function or type of the header.
/// 2: `crmt_event` and `crmt_alert` end with the measure that decided (SPEC §19.3).
/// 3: and then with that measure's window (SPEC §19.2).
pub const CRMT_ABI_VERSION: u32 = 3;

/// The "no amount" marker of `int64_t` fen fields (`INT64_MIN`).
pub const CRMT_NO_AMOUNT: i64 = i64::MIN;

/// The most threads a batch splits its customers over; larger requests are capped.
pub const CRMT_MAX_THREADS: usize = 256;

/// The longest tier code, in bytes.
pub const CRMT_CODE_LEN: usize = 16;

/// The size of the code fields of returned structs: the longest code and its NUL.
pub const CRMT_CODE_SIZE: usize = 17;

/// The longest measure code, in bytes (SPEC §19.1).
pub const CRMT_MEASURE_CODE_LEN: usize = 40;

/// The size of the measure code fields of returned structs: the longest code and its NUL.
pub const CRMT_MEASURE_CODE_SIZE: usize = 41;

/// The size of the window code fields of returned structs (`prev_quarter` and its NUL fit).
pub const CRMT_WINDOW_CODE_SIZE: usize = 16;

/// The library version, such as `"0.1.0"`: a static NUL-terminated string, never freed.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_version() -> *const std::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version of the loaded library, to compare with the header's `CRMT_ABI_VERSION`.
///
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn crmt_abi_version() -> u32 {
    CRMT_ABI_VERSION
}
