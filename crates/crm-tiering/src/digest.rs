//! Content digests for fingerprints and stored-state checksums.

use sha2::{Digest, Sha256};

/// The SHA-256 of `bytes` as 64 lowercase hex digits.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(hex_digit(b >> 4));
        s.push(hex_digit(b & 15));
    }
    s
}

/// The lowercase hex digit of the low nibble of `n`.
fn hex_digit(n: u8) -> char {
    let n = n & 15;
    char::from(if n < 10 { b'0' + n } else { b'a' + (n - 10) })
}

/// A running SHA-256, for checksums of text written piece by piece.
#[derive(Default)]
pub(crate) struct Running(Sha256);

impl Running {
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub(crate) fn hex(self) -> String {
        hex(&self.0.finalize())
    }
}
