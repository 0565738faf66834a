//! The Rekor v2 (rekor-tiles) write client: `POST {base}/api/v2/log/entries`.
//!
//! The request is rekor-tiles' `CreateEntryRequest` as protojson, in the form sigstore-go
//! 1.2.1 (Go cosign 3.1.2) sends it:
//!
//! ```text
//! {"hashedRekordRequestV002":{"digest":"<b64>","signature":{"content":"<b64>",
//!   "verifier":{"publicKey":{"rawBytes":"<b64 SPKI DER>"} | "x509Certificate":{"rawBytes":"<b64 DER>"},
//!               "keyDetails":"PKIX_ECDSA_P256_SHA_256"}}}}
//! ```
//!
//! A DSSE envelope goes the same way (rekor-tiles 2.x takes no other kind: `dsseRequestV002`
//! is deprecated and refused with "invalid type, must be hashedrekord"): the digest is the hash
//! of the envelope's PAE with the hash of the key's algorithm, the signature the envelope's
//! first.
//!
//! The answer (201) is a `TransparencyLogEntry`; it is checked against the request (the body
//! logged must be the canonical body of what was sent, kind `hashedrekord` 0.0.2, an
//! inclusion proof of 32-byte hashes, no SET) and returned as a [`LogEntry`] with integrated
//! time 0, for [`crate::verify_entry_at`] to verify the proof and checkpoint against the log's
//! key. Nothing here trusts the answer cryptographically.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_types::{Digest, Envelope, HashAlgorithm};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use url::Url;

use crate::client::RekorClient;
use crate::entry::{V2_API_VERSION, V2Verifier, V2VerifierKind, default_key_details};
use crate::{LogEntry, MAX_ENTRY_RESPONSE, TlogError};

/// The path of the create endpoint below the log's base URL.
pub const CREATE_PATH: &str = "/api/v2/log/entries";
/// The header rekor-tiles names the existing entry's index in, with 409 Conflict.
const LOG_INDEX_HEADER: &str = "x-log-index";
const WHAT: &str = "uploading the entry to the Rekor v2 log";

/// A Rekor v2 write client (cheap to clone: one connection pool).
#[derive(Clone, Debug)]
pub struct RekorV2Client {
    inner: RekorClient,
}

#[derive(Serialize)]
struct CreateEntryRequest<'a> {
    #[serde(rename = "hashedRekordRequestV002")]
    hashed_rekord: HashedRekordRequest<'a>,
}

#[derive(Serialize)]
struct HashedRekordRequest<'a> {
    digest: String,
    signature: SignatureJson<'a>,
}

#[derive(Serialize)]
struct SignatureJson<'a> {
    content: String,
    verifier: VerifierJson<'a>,
}

#[derive(Serialize)]
struct RawBytes {
    #[serde(rename = "rawBytes")]
    raw_bytes: String,
}

#[derive(Serialize)]
struct VerifierJson<'a> {
    #[serde(rename = "publicKey", skip_serializing_if = "Option::is_none")]
    public_key: Option<RawBytes>,
    #[serde(rename = "x509Certificate", skip_serializing_if = "Option::is_none")]
    x509_certificate: Option<RawBytes>,
    #[serde(rename = "keyDetails")]
    key_details: &'a str,
}

/// The hash a verifier's key details sign with; the details must be sigstore's default for
/// its key (what rekor-tiles and sigstore-go rebuild entries with).
fn verifier_hash(verifier: &V2Verifier) -> Result<HashAlgorithm, TlogError> {
    let key = verifier.public_key()?;
    let (details, hash) = default_key_details(&key).ok_or_else(|| {
        TlogError::InvalidArgument(format!(
            "a {} key cannot sign Rekor v2 entries",
            key.key_type()
        ))
    })?;
    if details != verifier.key_details {
        return Err(TlogError::InvalidArgument(format!(
            "key details {:?} do not fit a {} key (Rekor v2 takes {details:?})",
            verifier.key_details,
            key.key_type()
        )));
    }
    Ok(hash)
}

/// The `CreateEntryRequest` JSON for a signature over `digest`, after checking that the
/// digest's algorithm is the one the verifier's key signs with.
pub fn hashedrekord_request(
    digest: &Digest,
    signature: &[u8],
    verifier: &V2Verifier,
) -> Result<Vec<u8>, TlogError> {
    let hash = verifier_hash(verifier)?;
    if digest.algorithm() != hash {
        return Err(TlogError::InvalidArgument(format!(
            "a {} digest cannot be logged with {} (it signs {})",
            digest.algorithm().proto_name(),
            verifier.key_details,
            hash.proto_name()
        )));
    }
    if signature.is_empty() {
        return Err(TlogError::InvalidArgument(
            "an empty signature cannot be logged".to_owned(),
        ));
    }
    let raw = || RawBytes {
        raw_bytes: STANDARD.encode(&verifier.raw_bytes),
    };
    let (public_key, x509_certificate) = match verifier.kind {
        V2VerifierKind::PublicKey => (Some(raw()), None),
        V2VerifierKind::X509Certificate => (None, Some(raw())),
    };
    let req = CreateEntryRequest {
        hashed_rekord: HashedRekordRequest {
            digest: STANDARD.encode(digest.as_bytes()),
            signature: SignatureJson {
                content: STANDARD.encode(signature),
                verifier: VerifierJson {
                    public_key,
                    x509_certificate,
                    key_details: &verifier.key_details,
                },
            },
        },
    };
    serde_json::to_vec(&req).map_err(|e| TlogError::InvalidArgument(e.to_string()))
}

/// What cosign 3.1.2 logs for a DSSE envelope on Rekor v2: the hash of its PAE (with the
/// verifier's hash) and its first signature.
pub fn dsse_as_hashedrekord(
    envelope_json: &[u8],
    verifier: &V2Verifier,
) -> Result<(Digest, Vec<u8>), TlogError> {
    let envelope = Envelope::from_json(envelope_json)
        .map_err(|e| TlogError::InvalidArgument(format!("reading the DSSE envelope: {e}")))?;
    let first = envelope
        .signatures
        .first()
        .ok_or_else(|| TlogError::InvalidArgument("dsse envelope has no signatures".to_owned()))?;
    let hash = verifier_hash(verifier)?;
    Ok((
        cosign_crypto::hash(hash, &envelope.pae()),
        first.sig.clone(),
    ))
}

impl RekorV2Client {
    /// A client for the log at `base_url` (http or https, any path prefix).
    pub fn new(base_url: &str, timeout: Duration, user_agent: &str) -> Result<Self, TlogError> {
        Ok(Self {
            inner: RekorClient::new(base_url, timeout, user_agent)?,
        })
    }

    /// The base URL.
    pub fn base_url(&self) -> &Url {
        self.inner.base_url()
    }

    /// Opens a connection ahead of the first request (see [`RekorClient::warm`]).
    pub async fn warm(&self) {
        self.inner.warm().await;
    }

    /// Logs a signature over `digest` (its algorithm must be the one the key signs with:
    /// SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521 and Ed25519ph).
    pub async fn create_hashedrekord(
        &self,
        digest: &Digest,
        signature: &[u8],
        verifier: &V2Verifier,
    ) -> Result<LogEntry, TlogError> {
        let body = hashedrekord_request(digest, signature, verifier)?;
        let expected = crate::entry::hashedrekord_v002(digest, signature, verifier)?;
        self.post(body, &expected).await
    }

    /// Logs a DSSE envelope as cosign 3.1.2 does on Rekor v2: a hashedrekord entry of its
    /// first signature over the hash of its PAE (see [`dsse_as_hashedrekord`]). Verify the
    /// entry with [`crate::Expected::envelope`] set to the envelope.
    pub async fn create_dsse(
        &self,
        envelope_json: &[u8],
        verifier: &V2Verifier,
    ) -> Result<LogEntry, TlogError> {
        let (digest, signature) = dsse_as_hashedrekord(envelope_json, verifier)?;
        self.create_hashedrekord(&digest, &signature, verifier)
            .await
    }

    async fn post(&self, body: Vec<u8>, expected: &[u8]) -> Result<LogEntry, TlogError> {
        let url = self.inner.url(CREATE_PATH, &[]);
        let (status, headers, data) = self
            .inner
            .call(
                WHAT,
                Method::POST,
                &url,
                Some(body),
                "application/json",
                MAX_ENTRY_RESPONSE,
            )
            .await?;
        if status == StatusCode::CONFLICT {
            let index = headers
                .get(LOG_INDEX_HEADER)
                .and_then(|v| v.to_str().ok())
                .filter(|v| v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty());
            return Err(TlogError::Status {
                what: WHAT.to_owned(),
                url: url.to_string(),
                status: status.as_u16(),
                message: match index {
                    Some(i) => format!("the entry already exists at log index {i}"),
                    None => "the entry already exists".to_owned(),
                },
            });
        }
        if status != StatusCode::CREATED {
            return Err(RekorClient::status_error(WHAT, &url, status, &data));
        }
        let bad = |reason: &str| RekorClient::bad_response(WHAT, &url, reason);
        let tle: cosign_types::bundle::TransparencyLogEntry =
            serde_json::from_slice(&data).map_err(|e| RekorClient::bad_response(WHAT, &url, e))?;
        check_entry(&tle, expected).map_err(|reason| bad(&reason))?;
        let mut entry = LogEntry::from_bundle_entry(&tle);
        // Rekor v2 never signs a time; whatever the server said is not kept.
        entry.integrated_time = 0;
        Ok(entry)
    }
}

/// The answer must be the entry that was sent, with a well-formed proof.
fn check_entry(
    tle: &cosign_types::bundle::TransparencyLogEntry,
    expected: &[u8],
) -> Result<(), String> {
    if tle.canonicalized_body != expected {
        return Err(
            "the log returned another entry than the one sent (its canonicalized body differs)"
                .to_owned(),
        );
    }
    let kv = &tle.kind_version;
    if kv.kind != "hashedrekord" || kv.version != V2_API_VERSION {
        return Err(format!(
            "the entry is a {} {} entry, not hashedrekord {V2_API_VERSION}",
            kv.kind, kv.version
        ));
    }
    if tle.log_id.key_id.is_empty() {
        return Err("the entry names no log ID".to_owned());
    }
    if tle.log_index < 0 {
        return Err(format!("negative log index {}", tle.log_index));
    }
    if tle
        .inclusion_promise
        .as_ref()
        .is_some_and(|p| !p.signed_entry_timestamp.is_empty())
    {
        return Err(
            "the entry carries a signed entry timestamp, which Rekor v2 never issues".to_owned(),
        );
    }
    let proof = tle
        .inclusion_proof
        .as_ref()
        .ok_or("the entry has no inclusion proof")?;
    if proof.log_index != tle.log_index {
        return Err(format!(
            "the inclusion proof is for index {}, the entry is at {}",
            proof.log_index, tle.log_index
        ));
    }
    if proof.root_hash.len() != 32 || proof.hashes.iter().any(|h| h.len() != 32) {
        return Err("the inclusion proof holds a hash that is not 32 bytes".to_owned());
    }
    if proof.checkpoint.envelope.is_empty() {
        return Err("the inclusion proof has no checkpoint".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosign_crypto::{PrivateKey, SignatureScheme};

    #[test]
    fn requests_as_sigstore_go_sends_them() {
        let key = PrivateKey::generate_ecdsa_p256().unwrap();
        let v = V2Verifier::from_public_key(&key.public_key()).unwrap();
        let digest = cosign_crypto::hash(HashAlgorithm::Sha256, b"blob");
        let sig = key
            .sign_digest(SignatureScheme::EcdsaP256Sha256, &digest)
            .unwrap();
        let body = String::from_utf8(hashedrekord_request(&digest, &sig, &v).unwrap()).unwrap();
        assert_eq!(
            body,
            format!(
                r#"{{"hashedRekordRequestV002":{{"digest":"{}","signature":{{"content":"{}","verifier":{{"publicKey":{{"rawBytes":"{}"}},"keyDetails":"PKIX_ECDSA_P256_SHA_256"}}}}}}}}"#,
                STANDARD.encode(digest.as_bytes()),
                STANDARD.encode(&sig),
                STANDARD.encode(key.public_key().to_spki_der())
            )
        );
        // A SHA-384 digest does not go with a P-256 key.
        let d384 = cosign_crypto::hash(HashAlgorithm::Sha384, b"blob");
        assert!(hashedrekord_request(&d384, &sig, &v).is_err());
        assert!(hashedrekord_request(&digest, &[], &v).is_err());
        // Nor do key details other than the key's default.
        let mut odd = v.clone();
        odd.key_details = "PKIX_ECDSA_P384_SHA_384".to_owned();
        assert!(hashedrekord_request(&digest, &sig, &odd).is_err());
    }

    #[test]
    fn dsse_goes_as_a_hashedrekord_over_the_pae() {
        let key = PrivateKey::generate(cosign_crypto::KeyType::EcdsaP384).unwrap();
        let v = V2Verifier::from_public_key(&key.public_key()).unwrap();
        let pae = cosign_types::dsse::pae("application/vnd.in-toto+json", b"{}");
        let sig = key
            .sign_message(SignatureScheme::EcdsaP384Sha384, &pae)
            .unwrap();
        let env = format!(
            r#"{{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{{"keyid":"","sig":"{}"}}]}}"#,
            STANDARD.encode(&sig)
        );
        let (digest, got_sig) = dsse_as_hashedrekord(env.as_bytes(), &v).unwrap();
        assert_eq!(digest, cosign_crypto::hash(HashAlgorithm::Sha384, &pae));
        assert_eq!(got_sig, sig);
        let none = r#"{"payloadType":"t","payload":"e30=","signatures":[]}"#;
        assert!(dsse_as_hashedrekord(none.as_bytes(), &v).is_err());
    }
}
