//! The RFC 3161 timestamp authority client, as Go cosign 3.1.2 asks one (sigstore-go's
//! `sign.TimestampAuthority.GetTimestamp`, retried once on 5xx/429), and the check of a token
//! against the trusted root.
//!
//! The request: `POST <--timestamp-server-url>` (the full endpoint, e.g.
//! `https://timestamp.sigstore.dev/api/v1/timestamp`), `Content-Type:
//! application/timestamp-query`, a DER `TimeStampReq`: version 1, message imprint SHA-256 (with
//! NULL parameters, as Go encodes it) of the data, and two fields Go leaves out: a random
//! 128-bit nonce (checked in the answer: no replayed token is accepted) and `certReq` TRUE (the
//! TSA's certificate travels in the token, so it verifies even against a trusted root that
//! lists only the TSA's CA). Answers 200 and 201 are accepted, as Go.
//!
//! What is returned is the whole DER `TimeStampResp` as received (status + token): exactly what
//! Go stores in a bundle's `timestampVerificationData.rfc3161Timestamps[].signedTimestamp`, in
//! the legacy `rfc3161timestamp` annotation / blob bundle field (`SignedRFC3161Timestamp`,
//! base64) and in `--rfc3161-timestamp` files; Go's verifier (`timestamp.ParseResponse`)
//! needs the response, not the bare token.

mod der;
mod tls;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use cosign_trust::timestamp::TimestampToken;
use cosign_trust::trusted_root::TrustedRoot;

pub use tls::{TsaTlsOptions, tsa_http_client};

use crate::error::{KeylessError, Service};
use crate::transport::{check_url, send};

/// The media type of a `TimeStampReq`.
pub const TIMESTAMP_QUERY: &str = "application/timestamp-query";

/// An RFC 3161 timestamp authority client.
#[derive(Clone, Debug)]
pub struct TsaClient {
    url: String,
    http: reqwest::Client,
}

fn refused(reason: impl Into<String>) -> KeylessError {
    KeylessError::Timestamp {
        reason: reason.into(),
    }
}

impl TsaClient {
    /// A client of the timestamp authority endpoint `url` (the whole URL, as
    /// `--timestamp-server-url` takes it). `http`: e.g. from [`tsa_http_client`].
    pub fn new(url: &str, http: reqwest::Client) -> Result<Self, KeylessError> {
        check_url(url, "--timestamp-server-url")?;
        Ok(Self {
            url: url.to_owned(),
            http,
        })
    }

    /// Opens a connection to the service ahead of the first real request: a `HEAD` whose
    /// answer (and failure) is ignored, so the request that follows finds the connection in the
    /// pool and pays no handshake on the signing's critical path.
    pub async fn warm(&self) {
        let _ = self.http.head(&self.url).send().await;
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Timestamps `data` (for a signature: the raw signature bytes; the caller chooses). The
    /// answer must grant the request (status 0), be a well-formed RFC 3161 token, carry the
    /// SHA-256 of `data` as its message imprint and the request's nonce. Returns the DER
    /// `TimeStampResp` as received.
    pub async fn timestamp(&self, data: &[u8]) -> Result<Vec<u8>, KeylessError> {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
        let mut nonce = [0u8; 16];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| refused("no random nonce could be made"))?;
        nonce[0] &= 0x7f;
        let request = der::time_stamp_req(digest.as_ref(), &nonce, true);
        let answer = send(Service::TimestampAuthority, None, || {
            self.http
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, TIMESTAMP_QUERY)
                .body(request.clone())
        })
        .await?;
        if answer.status != 200 && answer.status != 201 {
            return Err(answer.status_error(Service::TimestampAuthority, None));
        }
        let body = answer.body;
        let bad = |e: String| {
            refused(format!(
                "the timestamp authority's answer is not a valid TimeStampResp: {e}"
            ))
        };
        if !der::check_status(&body).map_err(|e| match e {
            der::StatusError::Refused(text) => refused(text),
            der::StatusError::Malformed(text) => bad(text),
        })? {
            return Err(bad("a bare token, not a response".into()));
        }
        let granted = der::read_granted(&body).map_err(bad)?;
        // The CMS structure (signed attributes, TSTInfo digest) as the verifier reads it.
        TimestampToken::from_der(&body).map_err(|e| {
            refused(format!(
                "the timestamp authority's answer is not a valid RFC 3161 token: {e}"
            ))
        })?;
        if granted.imprint_sha256.as_deref() != Some(digest.as_ref()) {
            return Err(refused(
                "the timestamp authority stamped other data (the message imprint is not the SHA-256 of what was sent)",
            ));
        }
        match granted.nonce {
            Some(n) if n == der::integer_contents(&nonce) => Ok(body),
            Some(_) => Err(refused(
                "the timestamp authority answered with another nonce (a replayed or foreign token)",
            )),
            None => Err(refused(
                "the timestamp authority's token carries no nonce, one was requested",
            )),
        }
    }
}

/// Verifies a timestamp (a DER `TimeStampResp` or bare token) over `data` against the
/// timestamp authorities of `root`: status granted, message imprint, CMS signature, signer
/// chained to an authority valid at the token's time. Returns that time (Unix seconds).
pub fn check_timestamp(
    token_der: &[u8],
    data: &[u8],
    root: &TrustedRoot,
) -> Result<i64, KeylessError> {
    // Go refuses every status but granted; a bare token has none.
    der::check_status(token_der).map_err(|e| match e {
        der::StatusError::Refused(text) | der::StatusError::Malformed(text) => refused(text),
    })?;
    let token = TimestampToken::from_der(token_der).map_err(|e| refused(e.to_string()))?;
    let verified = token
        .verify(data, root)
        .map_err(|e| refused(e.to_string()))?;
    Ok(verified.time)
}
