//! The Fulcio and timestamp authority clients against servers on 127.0.0.1:
//!
//! - `fulcio`: a fake Fulcio answering the real v2 JSON (grpc-gateway protojson), which checks
//!   the bearer token and the proof of possession as Fulcio does and issues real leaves
//!   (test-support's `FulcioCa`, embedded or detached SCTs from a `CtLog`); its hostile modes
//!   (another key, an untrusted CA, missing or bad SCTs, a leaf that is not code-signing, a
//!   foreign chain, HTTP errors echoing the token) must each be refused.
//! - `tsa`: a fake TSA signing real RFC 3161 tokens (`test_tsa`), and its hostile variants
//!   (other data, wrong or missing nonce, rejection, grantedWithMods, garbage, a foreign signer).
//! - `real`: the REAL `timestamp-server` binary (sigstore/timestamp-authority v2), plain and
//!   over mutual TLS, and the REAL `fulcio` binary with an ephemeral CA and test-support's OIDC
//!   issuer. REAL-BINARY tests run the Go programs from `$COSIGN_TEST_GOTOOLS` (default
//!   `/tmp/gotools`); they are to be re-pointed to test-support's launchers (branch `svc`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fake_fulcio;
mod fulcio;
mod http;
mod real;
mod test_tsa;
mod tsa;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cosign_keyless::oidc::IdentityToken;

/// A compact JWS with these claims (the signature is not checked by the client; the fake
/// Fulcio reads the claims as Fulcio would after verifying it).
pub fn jwt(claims: &serde_json::Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature = URL_SAFE_NO_PAD.encode(b"a-signature-that-is-secret-too-0123456789");
    format!("{header}.{payload}.{signature}")
}

/// A token for `alice@example.com` (verified) from a test issuer.
pub fn email_token() -> (String, IdentityToken) {
    let now = cosign_types::time::now_unix();
    let raw = jwt(&serde_json::json!({
        "iss": "https://issuer.test.example",
        "sub": "opaque-subject-1234",
        "aud": "sigstore",
        "email": "alice@example.com",
        "email_verified": true,
        "iat": now,
        "exp": now + 600,
    }));
    let token = IdentityToken::parse(&raw).unwrap();
    (raw, token)
}

/// The current time, Unix seconds.
pub fn now() -> i64 {
    cosign_types::time::now_unix()
}

/// A plain HTTP client.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Asserts that neither the token nor any of its parts appears in `text`.
pub fn assert_no_token(text: &str, raw: &str) {
    assert!(!text.contains(raw), "the token leaked: {text}");
    for part in raw.split('.') {
        assert!(!text.contains(part), "a part of the token leaked: {text}");
    }
}
