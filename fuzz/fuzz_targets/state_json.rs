//! Any bytes given as a stored state are read or refused with a state error; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(state) = crm_tiering::CustomerState::from_json(text) {
        assert_eq!(crm_tiering::CustomerState::from_json(&state.to_json()).ok(), Some(state));
    }
});
