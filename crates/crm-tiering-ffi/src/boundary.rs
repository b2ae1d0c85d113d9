//! The panic boundary around every exported function: the guards that clear or keep the
//! thread's error details, record a failure, and turn a panic into `CRMT_PANIC`; and the panic
//! hook that keeps a caught panic's message off the host's stderr.
//!
//! ## Panics
//! A panic inside the boundary is caught (`catch_unwind`) and becomes `CRMT_PANIC`, its message
//! and location in the thread's error details. Before unwinding, Rust calls the process's panic
//! hook, whose default prints the message on stderr: a library must not print on its host's
//! stderr, nor replace a hook the host (a Rust program linking the rlib) set for its own panics.
//! So the first boundary installs, once, a hook that chains to the hook it found, except while
//! the panicking thread is inside a boundary (a thread-local depth the guards keep): then it
//! only records the message and location for the guard that catches the panic.
//!
//! Worker threads the engine starts for a call (a batch over several threads) are marked inside
//! too ([`enter_worker`]): their panic's message goes to the call, which reports `CRMT_PANIC`.
//! The limit: a hook set after the library's (by a Rust host, later) is not chained to ours, and
//! then prints as that hook decides; the portfolio month's worker threads are the core's own
//! (no closure of this crate runs on them), so a panic there still reaches the hook found
//! (the core reports it as a failed worker).

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, PanicHookInfo, catch_unwind};
use std::sync::{Arc, Mutex, Once};
use std::thread::ThreadId;

use crate::code::crmt_result;
use crate::details::{Failure, clear_last_error, set_last_error};

/// The message and location of a panic caught by a worker thread of a call, for the call.
pub(crate) type WorkerPanic = Arc<Mutex<Option<String>>>;

thread_local! {
    /// How many boundaries the thread is inside (more than one when a boundary calls another).
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The last panic the hook saw inside a boundary on this thread: message and location.
    static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
    /// For a worker thread of a call: where its panic's message goes.
    static WORKER: RefCell<Option<WorkerPanic>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

#[cfg(test)]
pub(crate) static FORWARDED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Installs the library's panic hook, once per process (one atomic load once done).
#[inline]
fn install_hook() {
    // `set_hook` may not be called while the thread panics (a host calling in from a drop during
    // unwinding): the hook is then installed by a later call.
    if HOOK.is_completed() || std::thread::panicking() {
        return;
    }
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if inside() {
                record(info);
            } else {
                #[cfg(test)]
                FORWARDED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                previous(info);
            }
        }));
    });
}

/// Whether the current thread is inside a boundary (or a worker of a call).
fn inside() -> bool {
    DEPTH.try_with(|d| d.get() > 0).unwrap_or(false)
}

/// Keeps a panic's message and location for the guard (or the call of a worker) that catches it.
fn record(info: &PanicHookInfo<'_>) {
    let message = payload_text(info.payload());
    let text = match info.location() {
        Some(l) => format!("{message} (at {}:{}:{})", l.file(), l.line(), l.column()),
        None => message.to_string(),
    };
    let worker = WORKER.try_with(|w| w.try_borrow().ok().and_then(|w| w.clone())).ok().flatten();
    match worker {
        Some(call) => {
            if let Ok(mut slot) = call.lock() {
                slot.get_or_insert(text);
            }
        }
        None => {
            let _ = CAUGHT.try_with(|c| c.try_borrow_mut().map(|mut c| *c = Some(text)));
        }
    }
}

/// A panic's message (a `&str` or `String` payload, as `panic!` makes them).
fn payload_text(payload: &(dyn std::any::Any + Send)) -> &str {
    match payload.downcast_ref::<&str>() {
        Some(s) => s,
        None => payload.downcast_ref::<String>().map_or("a panic without a message", String::as_str),
    }
}

/// The thread is inside a boundary while this lives.
struct Inside;

impl Inside {
    #[inline]
    fn enter() -> Self {
        install_hook();
        let _ = DEPTH.try_with(|d| d.set(d.get() + 1));
        Inside
    }
}

impl Drop for Inside {
    #[inline]
    fn drop(&mut self) {
        let _ = DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Marks the current thread inside the boundary for the rest of its life when it is a worker
/// the engine started for a call made on thread `caller` (a scoped thread that ends with the
/// call): a panic on it is recorded in `call`, not printed. Does nothing on `caller` itself
/// (the engine runs a small batch on the calling thread), which is inside already.
pub(crate) fn enter_worker(caller: ThreadId, call: &WorkerPanic) {
    if std::thread::current().id() == caller {
        return;
    }
    let _ = WORKER.try_with(|w| w.try_borrow_mut().map(|mut w| *w = Some(call.clone())));
    let _ = DEPTH.try_with(|d| d.set(d.get() + 1));
}

/// The failure of a call whose worker thread panicked: `CRMT_PANIC` with the worker's message.
pub(crate) fn worker_failure(call: &WorkerPanic) -> Option<Failure> {
    let text = call.lock().ok()?.take()?;
    Some(Failure::new(crmt_result::CRMT_PANIC, format!("internal error (caught a panic in a worker thread): {text}")))
}

/// The failure a caught panic becomes: its message and location as the hook recorded them (or
/// the payload's message when another hook ran instead).
#[cold]
fn panic_failure(payload: Box<dyn std::any::Any + Send>) -> Failure {
    let recorded = CAUGHT.try_with(|c| c.try_borrow_mut().ok().and_then(|mut c| c.take())).ok().flatten();
    let what = recorded.unwrap_or_else(|| payload_text(&*payload).to_string());
    Failure::new(crmt_result::CRMT_PANIC, format!("internal error (caught a panic): {what}"))
}

/// Runs `f` inside the panic boundary: clears the thread's error details, records new ones on
/// failure, and turns a panic into [`crmt_result::CRMT_PANIC`]. For the fallible calls.
pub(crate) fn guard(f: impl FnOnce() -> Result<(), Failure>) -> crmt_result {
    let _inside = Inside::enter();
    clear_last_error();
    let outcome = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| Err(panic_failure(payload)));
    match outcome {
        Ok(()) => crmt_result::CRMT_OK,
        Err(failure) => {
            let code = failure.code;
            set_last_error(failure);
            code
        }
    }
}

/// Like [`guard`], for the calls that keep the thread's error details (accessors, `_free`): `f`
/// returns the code to return (`CRMT_BUFFER_TOO_SMALL` leaves the details as they are); only a
/// misuse it reports as a failure (a pointer that is not a live handle) or a panic replaces them.
pub(crate) fn guard_keep(f: impl FnOnce() -> Result<crmt_result, Failure>) -> crmt_result {
    let _inside = Inside::enter();
    let outcome = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| Err(panic_failure(payload)));
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            let code = failure.code;
            set_last_error(failure);
            code
        }
    }
}

/// Like [`guard_keep`], for the accessors that return a value (and the `_free` functions):
/// `fallback` when `f` fails or panics, whose details are then recorded.
#[inline]
pub(crate) fn guard_value<T>(fallback: T, f: impl FnOnce() -> Result<T, Failure>) -> T {
    let _inside = Inside::enter();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => value,
        Ok(Err(failure)) => {
            set_last_error(failure);
            fallback
        }
        Err(payload) => {
            set_last_error(panic_failure(payload));
            fallback
        }
    }
}

/// The boundary of the readers of the error details (`crmt_last_error_*`, `crmt_error_message`,
/// the static names): they never change the details, not even on a panic (`fallback`).
#[inline]
pub(crate) fn guard_details<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    let _inside = Inside::enter();
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        // The recorded message of the panic is not kept for a later one.
        drop(panic_failure(payload));
        fallback
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    /// The tests that count the hook's forwards do not overlap.
    pub(crate) static HOOK_TESTS: Mutex<()> = Mutex::new(());

    #[test]
    fn a_panic_inside_is_recorded_with_its_location_and_not_forwarded() {
        let _serial = HOOK_TESTS.lock().unwrap_or_else(|e| e.into_inner());
        install_hook();
        let before = FORWARDED.load(Ordering::SeqCst);
        let code = guard(|| panic!("boundary test panic"));
        assert_eq!(code, crmt_result::CRMT_PANIC);
        assert_eq!(FORWARDED.load(Ordering::SeqCst), before, "the hook found was called for a panic inside");
        let message = crate::details::with_last(|l| l.map(|f| f.message.clone())).unwrap_or_default();
        assert!(message.contains("boundary test panic"), "{message}");
        assert!(message.contains("src/boundary.rs:"), "no location in {message}");
        // A panic outside every boundary goes to the hook found.
        let outside = catch_unwind(|| panic!("a host's own panic"));
        assert!(outside.is_err());
        assert_eq!(FORWARDED.load(Ordering::SeqCst), before + 1, "a panic outside was not forwarded");
        assert!(!inside(), "the depth is back to zero");
    }

    #[test]
    fn accessors_keep_the_details_unless_misused() {
        let _serial = HOOK_TESTS.lock().unwrap_or_else(|e| e.into_inner());
        let code = guard(|| Err(Failure::new(crmt_result::CRMT_INPUT_ERROR, "kept")));
        assert_eq!(code, crmt_result::CRMT_INPUT_ERROR);
        assert_eq!(guard_keep(|| Ok(crmt_result::CRMT_BUFFER_TOO_SMALL)), crmt_result::CRMT_BUFFER_TOO_SMALL);
        assert_eq!(guard_value(0, || Ok(7)), 7);
        assert_eq!(guard_details(0, || 8), 8);
        let fallback = guard_details(9, || panic!("inside a reader"));
        assert_eq!(fallback, 9);
        let kept = crate::details::with_last(|l| l.map(|f| (f.code, f.message.clone())));
        assert_eq!(kept, Some((crmt_result::CRMT_INPUT_ERROR, "kept".to_string())));
        // A misuse replaces them.
        let misuse = Failure::new(crmt_result::CRMT_INVALID_ARGUMENT, "misuse");
        assert_eq!(guard_value(0, || Err(misuse)), 0);
        let now = crate::details::with_last(|l| l.map(|f| f.code));
        assert_eq!(now, Some(crmt_result::CRMT_INVALID_ARGUMENT));
    }

    #[test]
    fn a_worker_thread_of_a_call_records_its_panic_for_the_call() {
        let _serial = HOOK_TESTS.lock().unwrap_or_else(|e| e.into_inner());
        let before = FORWARDED.load(Ordering::SeqCst);
        let code = guard(|| {
            let call = WorkerPanic::default();
            let caller = std::thread::current().id();
            // On the calling thread: nothing changes.
            enter_worker(caller, &call);
            assert_eq!(DEPTH.with(|d| d.get()), 1);
            let joined = std::thread::scope(|s| {
                s.spawn(|| {
                    enter_worker(caller, &call);
                    panic!("worker test panic")
                })
                .join()
            });
            assert!(joined.is_err());
            Err(worker_failure(&call).unwrap_or_else(|| Failure::new(crmt_result::CRMT_OK, "nothing recorded")))
        });
        assert_eq!(code, crmt_result::CRMT_PANIC);
        assert_eq!(FORWARDED.load(Ordering::SeqCst), before, "the worker's panic was forwarded");
        let message = crate::details::with_last(|l| l.map(|f| f.message.clone())).unwrap_or_default();
        assert!(message.contains("worker test panic") && message.contains("src/boundary.rs:"), "{message}");
    }
}
