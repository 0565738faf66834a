//! Integration tests of the registry client: a hostile in-process server (`hostile`) and the
//! real CNCF distribution registry from the Debian `docker-registry` package
//! (`distribution`).

// The server and launcher helpers are test code too, though not `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod distribution;
mod hostile;
mod server;
