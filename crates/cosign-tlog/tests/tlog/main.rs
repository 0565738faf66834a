//! Integration tests of cosign-tlog: interoperability with real public-good Rekor material and
//! the Rekor v2 conformance cases, and the REST client against an in-process fake (and lying)
//! server.

// The server and log helpers are test code too, though not `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client;
mod interop;
mod rekor2;
mod support;
