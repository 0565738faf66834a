//! The signing-side Sigstore services for keyless signing (`docs/architecture.md`, "Where
//! keyless and Sigstore trust go"). Silent: it reads no environment and prints nothing; the CLI
//! passes the environment in ([`oidc::AmbientEnv::from_lookup`]) and words the messages
//! ([`oidc::Interaction`]).
//!
//! What is here:
//! - [`oidc`]: identity tokens in Go cosign 3.1.2's order: `--identity-token` (a token or a file
//!   holding one), the ambient providers (the file `/var/run/sigstore/cosign/oidc-token`,
//!   `SIGSTORE_ID_TOKEN`, GitHub Actions, Buildkite; `--oidc-disable-ambient-providers`,
//!   `--oidc-provider`), then the interactive flows (`normal`: browser, authorization code +
//!   PKCE + loopback redirect; `device`: RFC 8628; `client_credentials`; `token`). Tokens never
//!   appear in errors or `Debug` output.
//!
//! What comes next (issue 13): the Fulcio v2 client (`/api/v2/signingCert` with proof of
//! possession over the token's subject), the RFC 3161 TSA client, and signing configs v0.2
//! (choosing Fulcio, Rekor v1/v2 and TSA URLs); then the CLI's `settings/signing.rs` wires
//! `--identity-token`, `--fulcio-auth-flow`, `--oidc-*` and `-y` to [`oidc::retrieve_id_token`].

pub mod oidc;
