//! Entry points for the fuzz targets and the tests that replay their seeds; not part of the
//! interface.
//!
//! A fuzzed block is framed as a stored row would give it: the customer count (big-endian
//! `i64`), the lengths of the id ends and of the ids (big-endian `u32` each), then the id
//! ends, the ids and the states, the rest of the bytes.

use crate::StoreError;
use crate::blocks::{StoredBlock, for_each_block};
use crate::codec::{Dictionaries, STATE_BYTES};

/// Frames a block's columns as [`decode_block`] reads them.
pub fn frame(customers: i64, id_ends: &[u8], ids: &[u8], states: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + id_ends.len() + ids.len() + states.len());
    out.extend_from_slice(&customers.to_be_bytes());
    out.extend_from_slice(&(id_ends.len() as u32).to_be_bytes());
    out.extend_from_slice(&(ids.len() as u32).to_be_bytes());
    out.extend_from_slice(id_ends);
    out.extend_from_slice(ids);
    out.extend_from_slice(states);
    out
}

/// The framed first block the store would write for `rows` (ids in order, encoded states).
pub fn block_of(rows: &[(String, [u8; STATE_BYTES])]) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = for_each_block(rows.iter().map(|(id, row)| (id.as_str(), row, None)), |k, b| {
        if k == 0 {
            out = frame(b.customers as i64, &b.id_ends, &b.ids, &b.states);
        }
        Ok::<(), ()>(())
    });
    out
}

/// Reads arbitrary bytes as a framed stored block: checks it whole, reads every id and
/// state, looks each id up, checks the order, and decodes every state against a small
/// dictionary. Returns the customers read, or the error the store would give; never panics
/// and never reserves more than the bytes given.
///
/// # Errors
/// [`StoreError::Corrupt`] for a block or state that does not hold.
pub fn decode_block(data: &[u8]) -> Result<usize, StoreError> {
    let short = || StoreError::Corrupt("the framed block is shorter than its header".into());
    let head = data.get(..16).ok_or_else(short)?;
    let mut c = [0u8; 8];
    c.copy_from_slice(&head[..8]);
    let customers = i64::from_be_bytes(c);
    let ends_len = u32::from_be_bytes([head[8], head[9], head[10], head[11]]) as usize;
    let ids_len = u32::from_be_bytes([head[12], head[13], head[14], head[15]]) as usize;
    let rest = &data[16..];
    let ends = rest.get(..ends_len).ok_or_else(short)?;
    let ids = rest.get(ends_len..ends_len.saturating_add(ids_len)).ok_or_else(short)?;
    let states = rest.get(ends_len + ids_len..).ok_or_else(short)?;
    let block = StoredBlock::new(202401, 0, customers, ends, ids, states)?;
    block.check_order(None)?;
    let dicts = Dictionaries::load(
        vec![(1, "gold".into()), (2, "platinum".into()), (3, "diamond".into())],
        vec![(1, "620101".into()), (2, "620201".into())],
    )?;
    let mut checksum = crate::chain::StatesHasher::default();
    for k in 0..block.len() {
        let id = block.id(k);
        if block.find(id) != Some(k) {
            return Err(StoreError::Corrupt(format!("customer {id} is not found at its place")));
        }
        checksum.add(id, block.state(k), block.history(k));
        let _ = dicts.decode(id, block.state(k), block.history(k));
    }
    Ok(checksum.finish().count as usize)
}
