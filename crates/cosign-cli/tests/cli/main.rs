//! Integration tests of the `cosign` binary: each runs the real program in a temp directory.
// Test code: a failed unwrap is a failed test, and the harness reads PATH to run programs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod artifacts;
mod attest;
mod blob;
mod bundle_create;
mod bundle_inspect;
mod common;
mod conformance;
mod go_peer;
mod images;
mod interop;
mod keyless;
mod keyless_sign;
mod keys;
mod kms;
mod pkcs11;
mod signing_config;
mod surface;
mod tlog;
mod trust;
mod trusted_root_create;
