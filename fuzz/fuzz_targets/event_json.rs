//! Any bytes given as an event or an alert in JSON (as the store keeps them) are read or
//! refused with an error; never a panic. What is read writes back to JSON that reads as the
//! same value: whole-fen amounts and the month after as `effective_from`, nothing rounded.
#![no_main]

use crm_tiering::{Alert, Event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(event) = serde_json::from_str::<Event>(text) {
        let again = serde_json::to_string(&event).expect("an event always writes");
        assert_eq!(serde_json::from_str::<Event>(&again).ok(), Some(event));
        assert_eq!(event.effective_from(), event.month.next());
        let _ = event.explain();
    }
    if let Ok(alert) = serde_json::from_str::<Alert>(text) {
        let again = serde_json::to_string(&alert).expect("an alert always writes");
        assert_eq!(serde_json::from_str::<Alert>(&again).ok(), Some(alert));
    }
});
