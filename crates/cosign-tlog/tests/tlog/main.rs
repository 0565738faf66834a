//! Integration tests of cosign-tlog: interoperability with real public-good Rekor material and
//! the Rekor v2 conformance cases, the REST client against an in-process fake (and lying)
//! server, and the Rekor v2 write client against our tlog-server and a lying rekor-tiles.

// The server and log helpers are test code too, though not `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client;
mod interop;
mod rekor2;
mod support;
mod v2client;
