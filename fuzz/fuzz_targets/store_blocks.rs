//! Any bytes as a stored block of states (the customer count, the id ends, the ids and the
//! states, framed as `crm_tiering_store::fuzzing::decode_block` reads them): read whole, or
//! refused as damage; never a panic, an allocation abort, or a read past the bytes given.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = crm_tiering_store::fuzzing::decode_block(data) {
        // What reads holds as many states as its bytes do.
        assert!(n * crm_tiering_store::STATE_BYTES <= data.len());
    }
});
