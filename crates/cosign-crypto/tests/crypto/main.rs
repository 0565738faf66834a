//! Integration tests for cosign-crypto: fixtures from Go cosign and sigstore-rs, round trips,
//! OpenSSL cross-checks and hostile key files.

// The helpers in `support` are test code too, though not `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixtures;
mod hostile;
mod openssl;
mod roundtrip;
mod support;
