//! The process's table of tier codes is bounded: once full, a new code is an error (never a
//! panic), and the codes already held keep working. Its own test binary, so the full table
//! does not reach other tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering::{ParseError, TierCode};

#[test]
fn a_full_table_refuses_new_codes_and_keeps_the_old_ones() {
    let gold: TierCode = "gold".parse().unwrap();
    let mut held = 1;
    let mut refused = None;
    for i in 0..TierCode::MAX_DISTINCT + 10 {
        match TierCode::new(&format!("t{i}")) {
            Ok(c) => {
                assert_eq!(c.as_str(), format!("t{i}"));
                held += 1;
            }
            Err(e) => {
                refused = Some((i, e));
                break;
            }
        }
    }
    let (i, e) = refused.expect("the table is bounded");
    assert_eq!(held, TierCode::MAX_DISTINCT);
    assert_eq!(e, ParseError::TooManyTierCodes(format!("t{i}")));
    assert!(e.to_string().contains("65535 distinct tier codes"), "{e}");
    // Codes already held still parse, compare and read back.
    assert_eq!("gold".parse::<TierCode>().unwrap(), gold);
    assert_eq!("t0".parse::<TierCode>().unwrap().as_str(), "t0");
    assert!(gold < "t0".parse::<TierCode>().unwrap());
}
