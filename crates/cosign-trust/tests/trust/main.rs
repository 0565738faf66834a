//! cosign-trust's trust checks: trusted roots, certificate chains, identities, RFC 3161
//! timestamps and SCTs, on the real material of the Sigstore conformance suite (`data/`) and on
//! hostile material built here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod chain;
mod identity;
mod pki;
mod real;
mod sct;
mod signature;
mod tsa;
