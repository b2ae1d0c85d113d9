//! The loan month through the C functions: records pushed, a month classified and read back,
//! its states carried to the next month, a refused month's details naming the record. Every
//! loan vector runs in the C and Java suites (`bindings/c/tests/test_loans.c`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::{CStr, CString, c_char};

use super::*;
use crate::buffer::{crmt_buffer, crmt_buffer_data, crmt_buffer_free, crmt_buffer_len};
use crate::code::crmt_result;
use crate::details::with_last;
use crate::rulebook::{crmt_rulebook, crmt_rulebook_free, crmt_rulebook_from_toml};

fn book() -> *mut crmt_rulebook {
    let text = crm_tiering::DEFAULT_RULES_TOML;
    let mut b = std::ptr::null_mut();
    // SAFETY: readable text, a writable out-pointer.
    assert_eq!(unsafe { crmt_rulebook_from_toml(text.as_ptr(), text.len(), &mut b) }, crmt_result::CRMT_OK);
    b
}

fn records() -> *mut crmt_loan_records {
    let mut r = std::ptr::null_mut();
    // SAFETY: a writable out-pointer.
    assert_eq!(unsafe { crmt_loan_records_new(&mut r) }, crmt_result::CRMT_OK);
    r
}

fn push(r: *mut crmt_loan_records, customer: &str, loan: &str, month: i32, days: i64, bank: &str) -> crmt_result {
    let (c, l, b) = (CString::new(customer).unwrap(), CString::new(loan).unwrap(), CString::new(bank).unwrap());
    // SAFETY: a live handle and NUL-terminated texts.
    unsafe { crmt_loan_records_push(r, c.as_ptr(), l.as_ptr(), month, days, 0, b.as_ptr(), std::ptr::null(), true) }
}

fn text(f: impl FnOnce(*mut c_char, usize) -> crmt_result) -> String {
    let mut buf = [0 as c_char; 256];
    assert_eq!(f(buf.as_mut_ptr(), buf.len()), crmt_result::CRMT_OK);
    // SAFETY: NUL-terminated by the call.
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap().to_string()
}

fn take(buf: *mut crmt_buffer) -> String {
    // SAFETY: a live buffer of `len` bytes, freed once read.
    unsafe {
        let s = std::slice::from_raw_parts(crmt_buffer_data(buf), crmt_buffer_len(buf));
        let s = String::from_utf8(s.to_vec()).unwrap();
        crmt_buffer_free(buf);
        s
    }
}

#[test]
fn a_month_is_read_back_and_its_states_carry_to_the_next() {
    let (b, r) = (book(), records());
    assert_eq!(push(r, "c2", "L1", 202403, 91, "关注"), crmt_result::CRMT_OK);
    assert_eq!(push(r, "c1", "L9", 202403, 0, "normal"), crmt_result::CRMT_OK);
    let mut out = std::ptr::null_mut();
    // SAFETY: live handles, NULL states, a writable out-pointer; read while live.
    unsafe {
        assert_eq!(crmt_loans_evaluate(b, 202403, r, std::ptr::null(), &mut out), crmt_result::CRMT_OK);
        let (mut n, mut nl, mut ns) = (0, 0, 0);
        let cs = std::slice::from_raw_parts(crmt_loan_result_customers(out, &mut n), n);
        let ls = std::slice::from_raw_parts(crmt_loan_result_loans(out, &mut nl), nl);
        let ss = std::slice::from_raw_parts(crmt_loan_result_signals(out, &mut ns), ns);
        assert_eq!((n, nl, ns), (2, 2, 3));
        assert_eq!(text(|p, l| crmt_loan_result_customer_id(out, 0, p, l, std::ptr::null_mut())), "c1");
        assert_eq!(text(|p, l| crmt_loan_result_loan_id(out, 1, p, l, std::ptr::null_mut())), "L1");
        assert_eq!(cs[1].worst, crmt_loan_class::CRMT_LOAN_CLASS_SUBSTANDARD);
        assert!(cs[1].has_non_performing && !cs[0].has_non_performing);
        assert_eq!((cs[1].first_signal, cs[1].signal_count), (0, 3));
        assert_eq!(ls[1].floor, crmt_loan_class::CRMT_LOAN_CLASS_SUBSTANDARD);
        assert_eq!(ss[1].kind, crmt_loan_signal_kind::CRMT_LOAN_SIGNAL_NON_PERFORMING);
        assert_eq!((ss[1].loan_index, ss[1].boundary, ss[1].clean_months), (1, 90, CRMT_LOAN_NO_VALUE));
        assert_eq!(crmt_loan_result_month(out), 202403);
        let mut buf = std::ptr::null_mut();
        assert_eq!(crmt_loan_result_states_jsonl(out, &mut buf), crmt_result::CRMT_OK);
        let jsonl = take(buf);
        assert!(jsonl.starts_with("{\"customer_id\":\"c1\",\"state\":{\"month\":\"2024-03\""), "{jsonl}");
        let mut states = std::ptr::null_mut();
        assert_eq!(crmt_loan_states_from_jsonl(jsonl.as_ptr(), jsonl.len(), &mut states), crmt_result::CRMT_OK);
        assert_eq!(crmt_loan_states_count(states), 2);
        // April: c2 repaid, held at 次级 by the clean window; c1's loan closed.
        let april = records();
        assert_eq!(push(april, "c2", "L1", 202404, 0, "关注"), crmt_result::CRMT_OK);
        let mut next = std::ptr::null_mut();
        assert_eq!(crmt_loans_evaluate(b, 202404, april, states, &mut next), crmt_result::CRMT_OK);
        let mut n = 0;
        let cs = std::slice::from_raw_parts(crmt_loan_result_customers(next, &mut n), n);
        assert_eq!((n, cs[0].loan_count, cs[0].trend), (2, 0, crmt_loan_trend::CRMT_LOAN_TREND_NONE));
        let ls = std::slice::from_raw_parts(crmt_loan_result_loans(next, &mut n), n);
        assert_eq!(
            (ls[0].upgrade, ls[0].effective),
            (crmt_loan_upgrade::CRMT_LOAN_UPGRADE_HELD, crmt_loan_class::CRMT_LOAN_CLASS_SUBSTANDARD)
        );
        for h in [out, next] {
            crmt_loan_result_free(h);
        }
        crmt_loan_states_free(states);
        crmt_loan_records_free(april);
        crmt_loan_records_free(r);
        crmt_rulebook_free(b);
    }
}

#[test]
fn a_refused_month_names_the_record_and_the_field() {
    let (b, r) = (book(), records());
    assert_eq!(push(r, "c1", "L1", 202403, 5, "normal"), crmt_result::CRMT_OK);
    assert_eq!(push(r, "c1", "L2", 202403, 5, "normal"), crmt_result::CRMT_OK);
    assert_eq!(push(r, "c1", "L2", 202403, -1, "normal"), crmt_result::CRMT_OK);
    let mut out = std::ptr::null_mut();
    // SAFETY: live handles, a writable out-pointer.
    let code = unsafe { crmt_loans_evaluate(b, 202403, r, std::ptr::null(), &mut out) };
    assert_eq!(code, crmt_result::CRMT_INPUT_ERROR);
    assert!(out.is_null());
    let (field, record, message) =
        with_last(|l| l.map(|f| (f.field.clone(), f.record.clone(), f.message.clone()))).unwrap();
    assert_eq!(field.as_deref(), Some("principal_overdue_days"));
    assert_eq!(record.map(|b| *b), Some(("loans".to_string(), 2)));
    assert!(message.contains("overdue days cannot be negative, got -1"), "{message}");
    // A loan given twice: the second record, the first as the other.
    assert_eq!(push(r, "c2", "L1", 202403, 0, "normal"), crmt_result::CRMT_OK);
    assert_eq!(push(r, "c2", "L1", 202403, 0, "normal"), crmt_result::CRMT_OK);
    // A bad expected loss is refused at the push, naming its index.
    let (c, l, n, bad) = (c"c3", c"L1", c"normal", c"1e-2");
    // SAFETY: a live handle and NUL-terminated texts.
    let code =
        unsafe { crmt_loan_records_push(r, c.as_ptr(), l.as_ptr(), 202403, 0, 0, n.as_ptr(), bad.as_ptr(), false) };
    assert_eq!(code, crmt_result::CRMT_INVALID_AMOUNT);
    let (field, record) = with_last(|l| l.map(|f| (f.field.clone(), f.record.clone()))).unwrap();
    assert_eq!((field.as_deref(), record.map(|b| *b)), (Some("expected_loss"), Some(("loans".to_string(), 5))));
    // SAFETY: as above.
    let code = unsafe { crmt_loans_evaluate(b, 202403, r, std::ptr::null(), &mut out) };
    assert_eq!(code, crmt_result::CRMT_INPUT_ERROR);
    let (lines, record) = with_last(|l| l.map(|f| (f.message.lines().count(), f.record.clone()))).unwrap();
    assert_eq!((lines, record.map(|b| b.1)), (2, Some(2)));
    // SAFETY: live handles, freed once.
    unsafe {
        crmt_loan_records_free(r);
        crmt_rulebook_free(b);
    }
}

#[test]
fn a_duplicate_names_both_records_and_a_bad_state_line_its_line() {
    let (b, r) = (book(), records());
    for days in [0, 1] {
        assert_eq!(push(r, "c1", "L1", 202403, days, "normal"), crmt_result::CRMT_OK);
    }
    let mut out = std::ptr::null_mut();
    // SAFETY: live handles, a writable out-pointer.
    let code = unsafe { crmt_loans_evaluate(b, 202403, r, std::ptr::null(), &mut out) };
    assert_eq!(code, crmt_result::CRMT_INPUT_ERROR);
    let (record, other) = with_last(|l| l.map(|f| (f.record.clone(), f.other_record.clone()))).unwrap();
    assert_eq!((record.map(|b| b.1), other.map(|b| b.1)), (Some(1), Some(0)));
    let text = "{\"customer_id\":\"c1\",\"state\":{\"month\":null,\"loans\":{}}}\n\n{\"customer_id\":\"c1\"}\n";
    let mut states = std::ptr::null_mut();
    // SAFETY: readable text, a writable out-pointer.
    let code = unsafe { crmt_loan_states_from_jsonl(text.as_ptr(), text.len(), &mut states) };
    assert_eq!(code, crmt_result::CRMT_STATE_ERROR);
    let (record, message) = with_last(|l| l.map(|f| (f.record.clone(), f.message.clone()))).unwrap();
    assert_eq!(record.map(|b| *b), Some(("states".to_string(), 3)));
    assert!(message.starts_with("states line 3: not a loan state"), "{message}");
    // SAFETY: live handles, freed once.
    unsafe {
        crmt_loan_records_free(r);
        crmt_rulebook_free(b);
    }
}
