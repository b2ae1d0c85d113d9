//! The contribution month through the C functions: a computed month read back, a failed one's
//! details. Every vector runs in the C and Java suites (`bindings/c/tests/test_contribution.c`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::{CStr, CString, c_char};

use super::*;
use crate::buffer::{crmt_buffer_data, crmt_buffer_free};
use crate::code::crmt_result;
use crate::details::with_last;

const BOOK: &str = r#"
basis = 360
[ftp]
rates = [{ product = "demand", term = "none", effective = "2024-01", rate = "0.0200" }]
[[stages]]
pool = "counter"
driver = "accounts"
"#;

const ACCOUNTS: &str = "month,customer,account,product,side,average_balance,customer_rate,branch,legal_entity
2024-03,c2,a2,demand,liability,360000.00,0.0020,b1,le1
2024-03,c1,a1,demand,liability,720000.00,0.0020,b1,le1
";

fn run(book: &str, accounts: &str, pools: Option<&str>) -> (crmt_result, *mut crmt_contribution) {
    let (book, accounts) = (CString::new(book).unwrap(), CString::new(accounts).unwrap());
    let pools = pools.map(|p| CString::new(p).unwrap());
    let pools_ptr = pools.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
    let null = std::ptr::null();
    let mut out = std::ptr::null_mut();
    // SAFETY: NUL-terminated texts or NULL, a writable out-pointer.
    let code = unsafe {
        crmt_contribution_compute(book.as_ptr(), 202403, accounts.as_ptr(), null, pools_ptr, null, null, null, &mut out)
    };
    (code, out)
}

fn text(f: impl FnOnce(*mut c_char, usize) -> crmt_result) -> String {
    let mut buf = [0 as c_char; 64];
    assert_eq!(f(buf.as_mut_ptr(), buf.len()), crmt_result::CRMT_OK);
    // SAFETY: NUL-terminated by the call.
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap().to_string()
}

#[test]
fn a_month_is_read_back_by_customer_in_fen_and_as_json() {
    let (code, c) = run(BOOK, ACCOUNTS, Some("month,cost_centre,amount\n2024-03,counter,0.05\n"));
    assert_eq!(code, crmt_result::CRMT_OK);
    // SAFETY: a live handle (until freed below, then only looked up), writable outputs.
    unsafe {
        assert_eq!(crmt_contribution_month(c), 202403);
        assert_eq!(crmt_contribution_customer_count(c), 2);
        assert_eq!(text(|b, l| crmt_contribution_customer_id(c, 0, b, l, std::ptr::null_mut())), "c1");
        let mut f = crmt_contribution_figures { fen: [0; CRMT_CONTRIBUTION_FIGURES] };
        assert_eq!(crmt_contribution_customer_figures(c, 0, &mut f), crmt_result::CRMT_OK);
        // 720,000.00 × 1.80% × 31/360 = 1,116.00; 0.05 over accounts 1:1, the fen to c1.
        let net = CStr::from_ptr(crmt_contribution_figure_name(7)).to_str().unwrap();
        assert_eq!((net, f.fen[1], f.fen[3], f.fen[7]), ("net_contribution", 111_600, 3, 111_597));
        assert!(crmt_contribution_figure_name(CRMT_CONTRIBUTION_FIGURES).is_null());
        assert_eq!(crmt_contribution_customer_figures(c, 2, &mut f), crmt_result::CRMT_INDEX_OUT_OF_RANGE);
        assert_eq!(crmt_contribution_manager_count(c), 0);
        assert_eq!(crmt_contribution_unassigned(c, &mut f), crmt_result::CRMT_OK);
        assert_eq!(f.fen[7], 111_597 + 55_798);
        let mut json = std::ptr::null_mut();
        assert_eq!(crmt_contribution_to_json(c, &mut json), crmt_result::CRMT_OK);
        let doc = CStr::from_ptr(crmt_buffer_data(json).cast()).to_str().unwrap().to_string();
        assert!(doc.contains(r#""net_contribution":"1115.97""#), "{doc}");
        crmt_buffer_free(json);
        crmt_contribution_free(c);
        // A freed handle is refused, not read.
        assert_eq!(crmt_contribution_customer_count(c), 0);
        assert_eq!(crmt_last_error_code_now(), Some(crmt_result::CRMT_INVALID_ARGUMENT));
        crmt_contribution_free(std::ptr::null_mut());
    }
}

fn crmt_last_error_code_now() -> Option<crmt_result> {
    with_last(|l| l.map(|f| f.code))
}

#[test]
fn a_failed_month_gives_no_handle_and_the_first_error_in_the_details() {
    let bad = ACCOUNTS.replace("720000.00", "y").replace("360000.00,0.0020", "1.00,x");
    let (code, c) = run(BOOK, &bad, None);
    assert_eq!((code, c.is_null()), (crmt_result::CRMT_INPUT_ERROR, true));
    let (message, field, record) = with_last(|l| {
        let f = l.unwrap();
        (f.message.clone(), f.field.clone(), f.record.clone())
    });
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 2, "{message}");
    assert!(lines[0].starts_with("account_months line 2, column customer_rate"), "{message}");
    assert_eq!(field.as_deref(), Some("customer_rate"));
    assert_eq!(record.map(|r| *r), Some(("account_months".to_string(), 2)));
    let (code, _) = run("basis = 361", ACCOUNTS, None);
    assert_eq!(code, crmt_result::CRMT_RULES_ERROR);
}
