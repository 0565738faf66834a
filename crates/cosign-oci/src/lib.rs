//! Image references and an OCI distribution registry client.
//!
//! - [`reference`](mod@reference): Docker/go-containerregistry reference rules ([`ImageRef`], [`Repository`],
//!   [`Reference`]) and the http/https choice for a registry ([`scheme`]).
//! - [`Registry`]: a client for the OCI distribution API on reqwest: manifests, blobs, the
//!   referrers API, tags and deletes; anonymous first, then the `WWW-Authenticate` challenge
//!   (Basic, or Bearer tokens cached per registry and scope) with credentials from explicit
//!   options or a docker `config.json` (credential helpers included); retries with backoff.
//!
//! Registries are treated as hostile: every manifest and blob is checked against its digest,
//! and sizes and counts are capped before anything is read. The crate is silent: it prints
//! nothing and reads no environment variables (the caller passes the docker config path, the
//! user agent and the flags); requests are logged at `debug` level through `tracing`, without
//! credentials.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod client;
mod docker_config;
mod error;
pub mod reference;
mod tls;

pub use client::{MANIFEST_ACCEPT, Manifest, Progress, PutManifest, Registry, RegistryOptions};
pub use error::OciError;
pub use reference::{DEFAULT_REGISTRY, DEFAULT_TAG, ImageRef, Reference, Repository, scheme};
