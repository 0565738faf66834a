//! The Fulcio v2 client, as Go cosign 3.1.2 calls Fulcio (through sigstore-go's
//! `sign.Fulcio.GetCertificate`), and the checks made on what it issues before anything is
//! signed.
//!
//! The request (`POST {base}/api/v2/signingCert`, `Content-Type: application/json`,
//! `Authorization: Bearer <identity token>`; the token is not repeated in the body):
//!
//! ```json
//! {"publicKeyRequest":{"publicKey":{"algorithm":"ECDSA","content":"-----BEGIN PUBLIC KEY-----\n..."},
//!                      "proofOfPossession":"<base64 signature>"}}
//! ```
//!
//! - `algorithm`: `ECDSA`, `RSA` or `ED25519` (cosign's `GetKeyAlgorithm`; Fulcio infers the
//!   algorithm from the key and ignores this field);
//! - `content`: the public key as `PUBLIC KEY` PEM;
//! - `proofOfPossession`: the key's signature, with its default scheme (ECDSA with the curve's
//!   hash, RSA PKCS#1 v1.5 SHA-256, pure Ed25519), over the token's subject as sigstore's
//!   `SubjectFromUnverifiedToken` reads it: the `email` claim when there is one (it must be
//!   verified, `email_verified`), else `sub` ([`crate::oidc::Claims::identity`]).
//!
//! The answer (grpc-gateway protojson, camelCase) is `{"signedCertificateEmbeddedSct":{"chain":
//! {"certificates":[PEM...]}}}` or `{"signedCertificateDetachedSct":{"chain":{..},
//! "signedCertificateTimestamp":"<base64>"}}`, the chain leaf first, then intermediates, then
//! the root. The detached SCT decodes to the JSON of a CT `AddChainResponse` (what Go cosign 2
//! wrote to `--sct`/the legacy `sct` fields and cosign-trust's `Sct::from_json` reads).
//!
//! Errors: Fulcio's HTTP status and message (`Fulcio returned 400: ..`), never the token.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use const_oid::db::rfc5912;
use cosign_crypto::{KeyType, PrivateKey, PublicKey};
use cosign_trust::sct::{Sct, embedded_scts, verify_embedded_scts};
use cosign_trust::trusted_root::TrustedRoot;
use cosign_trust::x509::Certificate;
use cosign_trust::x509::chain::verify_leaf_certificate;
use cosign_trust::x509::fulcio::{FulcioExtensions, subject_alternative_names};
use serde::{Deserialize, Serialize};

use crate::error::{CertificateCheck, KeylessError, Service};
use crate::oidc::IdentityToken;
use crate::transport::{check_url, send};

/// The path of the v2 signing-certificate endpoint.
pub const SIGNING_CERT_PATH: &str = "/api/v2/signingCert";

/// A Fulcio v2 client.
#[derive(Clone, Debug)]
pub struct FulcioClient {
    endpoint: String,
    http: reqwest::Client,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CertRequest<'a> {
    public_key_request: PublicKeyRequest<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PublicKeyRequest<'a> {
    public_key: PublicKeyField<'a>,
    proof_of_possession: String,
}

#[derive(Serialize)]
struct PublicKeyField<'a> {
    algorithm: &'static str,
    content: &'a str,
}

/// `SigningCertificate` (a oneof; protojson accepts the proto names too).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigningCertificate {
    #[serde(default, alias = "signed_certificate_embedded_sct")]
    signed_certificate_embedded_sct: Option<WithChain>,
    #[serde(default, alias = "signed_certificate_detached_sct")]
    signed_certificate_detached_sct: Option<WithChain>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WithChain {
    #[serde(default)]
    chain: Option<ChainField>,
    /// Only in `signedCertificateDetachedSct`.
    #[serde(default, alias = "signed_certificate_timestamp")]
    signed_certificate_timestamp: Option<String>,
}

#[derive(Deserialize)]
struct ChainField {
    #[serde(default)]
    certificates: Vec<String>,
}

impl WithChain {
    fn certificates(&self) -> &[String] {
        self.chain.as_ref().map_or(&[], |c| &c.certificates)
    }
}

/// The `algorithm` Go cosign sends for a key (`SignerVerifierKeypair.GetKeyAlgorithm`).
fn key_algorithm(key_type: KeyType) -> &'static str {
    match key_type {
        KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521 => "ECDSA",
        KeyType::Rsa { .. } => "RSA",
        KeyType::Ed25519 => "ED25519",
    }
}

fn bad(detail: impl Into<String>) -> KeylessError {
    KeylessError::BadResponse {
        service: Service::Fulcio,
        detail: detail.into(),
    }
}

impl FulcioClient {
    /// A client of the Fulcio at `base` (e.g. `https://fulcio.sigstore.dev`; a trailing `/` is
    /// dropped, a path is kept as Go keeps it). `http` carries the caller's timeouts, proxies
    /// and CA set.
    pub fn new(base: &str, http: reqwest::Client) -> Result<Self, KeylessError> {
        check_url(base, "--fulcio-url")?;
        Ok(Self {
            endpoint: format!("{}{SIGNING_CERT_PATH}", base.trim_end_matches('/')),
            http,
        })
    }

    /// Opens a connection to the service ahead of the first real request: a `HEAD` whose
    /// answer (and failure) is ignored, so the request that follows finds the connection in the
    /// pool and pays no handshake on the signing's critical path.
    pub async fn warm(&self) {
        let _ = self.http.head(&self.endpoint).send().await;
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Asks Fulcio for a code-signing certificate for `key`'s public key, proving possession
    /// with a signature over the token's subject. The answer is parsed, not checked: call
    /// [`IssuedCertificate::check`] before signing anything with it.
    pub async fn signing_certificate(
        &self,
        token: &IdentityToken,
        key: &PrivateKey,
    ) -> Result<IssuedCertificate, KeylessError> {
        let subject = token
            .claims()
            .identity()
            .map_err(KeylessError::Subject)?
            .to_owned();
        let scheme = key.key_type().default_scheme(false);
        let proof = key
            .sign_message(scheme, subject.as_bytes())
            .map_err(KeylessError::ProofOfPossession)?;
        let public_pem = key.public_key().to_pem();
        let body = serde_json::to_vec(&CertRequest {
            public_key_request: PublicKeyRequest {
                public_key: PublicKeyField {
                    algorithm: key_algorithm(key.key_type()),
                    content: &public_pem,
                },
                proof_of_possession: STANDARD.encode(proof),
            },
        })
        .map_err(|e| bad(format!("encoding the request: {e}")))?;
        let secret = token.expose();
        let answer = send(Service::Fulcio, Some(secret), || {
            self.http
                .post(&self.endpoint)
                .header(reqwest::header::AUTHORIZATION, format!("Bearer {secret}"))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        })
        .await?;
        if answer.status != 200 {
            return Err(answer.status_error(Service::Fulcio, Some(secret)));
        }
        IssuedCertificate::from_response(&answer.body)
    }
}

/// What Fulcio issued.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    /// The code-signing certificate.
    pub leaf: Certificate,
    /// The rest of the chain as returned (intermediates, then the root); the leaf excluded.
    pub chain: Vec<Certificate>,
    /// The detached SCT (`signedCertificateDetachedSct.signedCertificateTimestamp`, base64
    /// decoded): the JSON of a CT `AddChainResponse`, as Go cosign 2's `--sct` file holds it.
    /// `None` for an embedded-SCT answer.
    pub detached_sct: Option<Vec<u8>>,
}

impl IssuedCertificate {
    /// Parses a `SigningCertificate` answer (JSON). As sigstore-go: the embedded-SCT chain when
    /// it holds certificates, else the detached one.
    pub fn from_response(json: &[u8]) -> Result<Self, KeylessError> {
        let answer: SigningCertificate = serde_json::from_slice(json)
            .map_err(|e| bad(format!("the answer is not a SigningCertificate: {e}")))?;
        let (chain, detached) = match (
            answer.signed_certificate_embedded_sct,
            answer.signed_certificate_detached_sct,
        ) {
            (Some(e), _) if !e.certificates().is_empty() => (e, false),
            (_, Some(d)) if !d.certificates().is_empty() => (d, true),
            _ => return Err(bad("Fulcio returned no certificates")),
        };
        let mut certs = Vec::new();
        for (i, pem) in chain.certificates().iter().enumerate() {
            let parsed = Certificate::from_pem(pem.as_bytes())
                .map_err(|e| bad(format!("certificate {i} of the chain: {e}")))?;
            let [one] = <[Certificate; 1]>::try_from(parsed).map_err(|v| {
                bad(format!(
                    "certificate {i} of the chain holds {} certificates",
                    v.len()
                ))
            })?;
            certs.push(one);
        }
        let mut certs = certs.into_iter();
        let leaf = certs.next().ok_or_else(|| bad("no leaf certificate"))?;
        let detached_sct = match chain.signed_certificate_timestamp.as_deref() {
            Some(b64) if detached && !b64.is_empty() => Some(
                STANDARD
                    .decode(b64)
                    .or_else(|_| URL_SAFE.decode(b64))
                    .map_err(|e| bad(format!("signedCertificateTimestamp is not base64: {e}")))?,
            ),
            _ => None,
        };
        Ok(Self {
            leaf,
            chain: certs.collect(),
            detached_sct,
        })
    }

    /// The leaf as PEM (`--output-certificate`, the `dev.sigstore.cosign/certificate`
    /// annotation).
    pub fn leaf_pem(&self) -> String {
        self.leaf.to_pem()
    }

    /// The returned chain without the leaf (intermediates, then root) as concatenated PEM
    /// (the `dev.sigstore.cosign/chain` annotation, `--certificate-chain`); empty when Fulcio
    /// returned the leaf alone.
    pub fn chain_pem(&self) -> String {
        self.chain.iter().map(Certificate::to_pem).collect()
    }

    /// Checks the issued certificate before anything is signed with it:
    ///
    /// 1. it certifies `public_key`;
    /// 2. it is a Fulcio code-signing leaf: not a CA, extended key usage `codeSigning`, key
    ///    usage `digitalSignature`, a subject alternative name, an OIDC issuer extension;
    /// 3. it chains to a certificate authority of `root` valid at `now` (Unix seconds) through
    ///    the trusted root's own intermediates, every certificate valid at `now` (the bundles
    ///    Go writes hold the leaf alone, so this is the chain a verifier will build), and the
    ///    chain Fulcio returned, when not empty, is a signature path from the leaf that ends at
    ///    that authority's root;
    /// 4. unless `ignore_sct`: its embedded SCTs verify against `root`'s CT logs (one log
    ///    suffices, as sigstore-go), and a detached SCT, when there is one, verifies over the
    ///    final certificate; at least one of the two must be there.
    pub fn check(
        &self,
        public_key: &PublicKey,
        root: &TrustedRoot,
        now: i64,
        ignore_sct: bool,
    ) -> Result<(), KeylessError> {
        let fail =
            |check: CertificateCheck, reason: String| KeylessError::Certificate { check, reason };
        // Both keys through the same encoder, so that equal keys compare equal.
        let leaf_key = self
            .leaf
            .public_key()
            .map_err(|e| fail(CertificateCheck::PublicKey, e.to_string()))?;
        if leaf_key.to_spki_der() != public_key.to_spki_der() {
            return Err(fail(
                CertificateCheck::PublicKey,
                format!(
                    "it certifies {} key {}, the signing key is {} key {}",
                    leaf_key.key_type(),
                    hex::encode(&leaf_key.hint()[..8]),
                    public_key.key_type(),
                    hex::encode(&public_key.hint()[..8]),
                ),
            ));
        }
        self.check_usage()
            .map_err(|r| fail(CertificateCheck::Usage, r))?;
        let path = verify_leaf_certificate(&self.leaf, root, now)
            .map_err(|e| fail(CertificateCheck::Chain, e.to_string()))?;
        self.check_returned_chain(&path)
            .map_err(|r| fail(CertificateCheck::Chain, r))?;
        if !ignore_sct {
            self.check_scts(&path, root)
                .map_err(|r| fail(CertificateCheck::Sct, r))?;
        }
        Ok(())
    }

    fn check_usage(&self) -> Result<(), String> {
        let leaf = &self.leaf;
        if leaf.is_ca().map_err(|e| e.to_string())? {
            return Err("it is a CA certificate".into());
        }
        let code_signing = leaf
            .extended_key_usage()
            .map_err(|e| e.to_string())?
            .is_some_and(|(_, ekus)| ekus.contains(&rfc5912::ID_KP_CODE_SIGNING));
        if !code_signing {
            return Err("it lacks extended key usage codeSigning".into());
        }
        if !leaf
            .key_usage()
            .map_err(|e| e.to_string())?
            .is_some_and(|ku| ku.digital_signature())
        {
            return Err("it lacks key usage digitalSignature".into());
        }
        if subject_alternative_names(leaf)
            .map_err(|e| e.to_string())?
            .is_empty()
        {
            return Err("it names no identity (no subject alternative name)".into());
        }
        if FulcioExtensions::from_certificate(leaf)
            .map_err(|e| e.to_string())?
            .issuer()
            .is_empty()
        {
            return Err("it has no OIDC issuer extension (1.3.6.1.4.1.57264.1.8 or .1.1)".into());
        }
        Ok(())
    }

    /// The returned chain must be a signature path from the leaf to the verified path's root.
    fn check_returned_chain(&self, path: &[Certificate]) -> Result<(), String> {
        let Some(last) = self.chain.last() else {
            return Ok(());
        };
        let mut child = &self.leaf;
        for (i, parent) in self.chain.iter().enumerate() {
            child.is_signed_by(parent).map_err(|e| {
                format!("the returned chain is broken at certificate {}: {e}", i + 1)
            })?;
            child = parent;
        }
        match path.last() {
            Some(root) if root == last => Ok(()),
            _ => Err(format!(
                "the returned chain ends at {:?}, not at the trusted root {:?}",
                last.subject_string(),
                path.last()
                    .map(Certificate::subject_string)
                    .unwrap_or_default()
            )),
        }
    }

    fn check_scts(&self, path: &[Certificate], root: &TrustedRoot) -> Result<(), String> {
        let embedded = embedded_scts(&self.leaf).map_err(|e| e.to_string())?;
        if embedded.is_empty() && self.detached_sct.is_none() {
            return Err("Fulcio returned no SCT (neither embedded nor detached)".into());
        }
        if !embedded.is_empty() {
            verify_embedded_scts(path, root, 1).map_err(|e| format!("embedded: {e}"))?;
        }
        if let Some(json) = &self.detached_sct {
            Sct::from_json(json)
                .and_then(|sct| sct.verify_detached(&self.leaf, root))
                .map_err(|e| format!("detached: {e}"))?;
        }
        Ok(())
    }
}
