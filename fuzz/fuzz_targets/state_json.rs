//! Any bytes given as a stored state, with or without its history (SPEC §19.5), are read or
//! refused with a state error; never a panic. What is read writes back to the same value.
#![no_main]

use crm_tiering::{CustomerState, History};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(state) = CustomerState::from_json(text) {
        assert_eq!(CustomerState::from_json(&state.to_json()).ok(), Some(state));
    }
    if let Ok((state, history)) = CustomerState::from_json_with_history(text) {
        let again = CustomerState::from_json_with_history(&state.to_json_with_history(&history)).ok();
        assert_eq!(again, Some((state, history)));
    }
    if let Ok(history) = History::from_json(text) {
        assert_eq!(History::from_json(&history.to_json()).ok(), Some(history));
    }
});
