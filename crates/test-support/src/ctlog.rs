//! A certificate transparency log front end (RFC 6962 §4.1, §4.2) on `127.0.0.1`, for the real
//! Fulcio to get SCTs from ([`CtLogServer`]); it signs with a [`CtLog`] key and keeps no tree.
//!
//! - `POST <prefix>/ct/v1/add-chain` with `{"chain": [base64 DER, ...]}`: an `x509_entry` SCT
//!   over `chain[0]` (which must not carry the precertificate poison).
//! - `POST <prefix>/ct/v1/add-pre-chain`: a `precert_entry` SCT: `chain[0]` must carry the
//!   critical poison extension (1.3.6.1.4.1.11129.2.4.3); the SCT signs the SHA-256 of
//!   `chain[1]`'s SubjectPublicKeyInfo (the issuer key hash) and `chain[0]`'s TBSCertificate with
//!   the poison removed (RFC 6962 §3.2) — exactly what a verifier rebuilds from the final
//!   certificate by removing the SCT list. A Precertificate Signing Certificate as `chain[1]`
//!   (EKU 1.3.6.1.4.1.11129.2.4.4, which RFC 6962 handles by rewriting the issuer) is refused:
//!   Fulcio never uses one.
//!
//! Every certificate of the chain must be signed by the next one (the last is accepted as a
//! root: this log trusts any root). The answer is the RFC 6962 JSON: `sct_version` (0), `id`
//! (the log ID), `timestamp` (ms), `extensions` (empty), `signature` (the TLS `DigitallySigned`,
//! ECDSA P-256 with SHA-256). [`CtLogServer::set_behaviour`] makes it lie (hostile-service
//! tests); [`CtLogServer::submissions`] lists what it was sent.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::fulcio::{
    CtLog, OID_CT_POISON, OID_CT_PRECERT_SIGNING, ValidFor, add_chain_response, eku_contains,
    extension_entry, sha256, spki_of, tbs_without_extension,
};
use crate::server::{self, Body, ServerHandle};

/// The log prefix in [`CtLogServer::url`] (as Fulcio's default `http://localhost:6962/test`).
pub const CT_LOG_PREFIX: &str = "/test";

/// How the log answers submissions.
#[derive(Clone)]
pub enum CtBehaviour {
    /// Correct SCTs.
    Honest,
    /// The SCT is signed over other data (the TBS with one byte changed): right log ID, bad
    /// signature.
    SignOtherData,
    /// The SCT is signed by this other log's key (and carries its ID): a log the trusted root
    /// does not name.
    SignWith(CtLog),
    /// The given HTTP status with a text body. (Fulcio's CT client retries 408, 429 and 503
    /// until its request's deadline: prefer others.)
    Fail(u16),
}

/// One chain submitted to the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtSubmission {
    /// Whether it came to `add-pre-chain` (else `add-chain`).
    pub precert: bool,
    /// The chain, DER, as submitted.
    pub chain: Vec<Vec<u8>>,
}

struct State {
    log: CtLog,
    behaviour: Mutex<CtBehaviour>,
    submissions: Mutex<Vec<CtSubmission>>,
}

/// A running CT log front end. Dropping it stops the server.
pub struct CtLogServer {
    state: Arc<State>,
    url: String,
    _server: ServerHandle,
}

impl CtLogServer {
    /// Starts a log with a fresh key.
    pub fn start() -> Self {
        Self::with_log(CtLog::new())
    }

    /// Starts a log that signs with `log`'s key.
    pub fn with_log(mut log: CtLog) -> Self {
        let (listener, port) = server::bind_loopback();
        let url = format!("http://127.0.0.1:{port}{CT_LOG_PREFIX}");
        log.base_url = url.clone();
        let state = Arc::new(State {
            log,
            behaviour: Mutex::new(CtBehaviour::Honest),
            submissions: Mutex::default(),
        });
        let handler_state = Arc::clone(&state);
        let server = server::spawn(listener, move |req| {
            let state = Arc::clone(&handler_state);
            async move { handle(&state, req).await }
        });
        Self {
            state,
            url,
            _server: server,
        }
    }

    /// `http://127.0.0.1:PORT/test`: the log's base URL (Fulcio's `--ct-log-url`; the API is
    /// under `<url>/ct/v1/`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The log's key (its `base_url` is [`CtLogServer::url`]).
    pub fn log(&self) -> &CtLog {
        &self.state.log
    }

    /// The log's public key, PEM (Fulcio's `--ct-log-public-key-path`, a trusted root's
    /// `ctlogs` entry).
    pub fn public_key_pem(&self) -> String {
        self.state.log.public_key_pem()
    }

    /// The `ctlogs` entry of a trusted root naming this log.
    pub fn ctlog_json(&self, valid_for: ValidFor) -> Value {
        self.state.log.ctlog_json(valid_for)
    }

    /// How the log answers from now on.
    pub fn set_behaviour(&self, behaviour: CtBehaviour) {
        *self.state.behaviour.lock().expect("lock") = behaviour;
    }

    /// The chains submitted so far, in order.
    pub fn submissions(&self) -> Vec<CtSubmission> {
        self.state.submissions.lock().expect("lock").clone()
    }
}

fn json_error(status: StatusCode, message: &str) -> Response<Body> {
    server::full(status, "text/plain", message.to_owned())
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let Some(endpoint) = path
        .strip_prefix(CT_LOG_PREFIX)
        .and_then(|p| p.strip_prefix("/ct/v1/"))
        .map(str::to_owned)
    else {
        return json_error(StatusCode::NOT_FOUND, "not found");
    };
    let precert = match endpoint.as_str() {
        "add-pre-chain" => true,
        "add-chain" => false,
        _ => return json_error(StatusCode::NOT_FOUND, "not found"),
    };
    if req.method() != Method::POST {
        return json_error(StatusCode::METHOD_NOT_ALLOWED, "POST only");
    }
    let body = match Limited::new(req.into_body(), 1 << 20).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return json_error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let chain = match parse_chain(&body) {
        Ok(c) => c,
        Err(e) => return json_error(StatusCode::BAD_REQUEST, &e),
    };
    state.submissions.lock().expect("lock").push(CtSubmission {
        precert,
        chain: chain.clone(),
    });
    let behaviour = state.behaviour.lock().expect("lock").clone();
    if let CtBehaviour::Fail(status) = behaviour {
        let status = StatusCode::from_u16(status).expect("HTTP status");
        return json_error(status, "the CT log fails as told");
    }
    let (entry_type, mut entry) = match entry(&chain, precert) {
        Ok(e) => e,
        Err(e) => return json_error(StatusCode::BAD_REQUEST, &e),
    };
    let log = match &behaviour {
        CtBehaviour::SignWith(other) => other,
        _ => &state.log,
    };
    if matches!(behaviour, CtBehaviour::SignOtherData) {
        let last = entry.len() - 1;
        entry[last] ^= 0x01;
    }
    let timestamp_ms = u64::try_from(crate::fulcio::now_unix()).expect("time after 1970") * 1000;
    let sct = match entry_type {
        EntryType::X509 => log.sign_x509(&entry, timestamp_ms),
        EntryType::Precert { issuer_key_hash } => {
            log.sign_precert(&issuer_key_hash, &entry, timestamp_ms)
        }
    };
    server::full(
        StatusCode::OK,
        "application/json",
        add_chain_response(&sct).to_string(),
    )
}

/// `{"chain": [base64 DER, ...]}`, each a well-formed certificate.
fn parse_chain(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("bad JSON: {e}"))?;
    let list = v["chain"].as_array().ok_or("no \"chain\" array")?;
    if list.is_empty() {
        return Err("empty chain".into());
    }
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let der = item
            .as_str()
            .and_then(|s| STANDARD.decode(s).ok())
            .ok_or_else(|| format!("chain[{i}] is not base64"))?;
        cosign_trust::x509::Certificate::from_der(&der)
            .map_err(|e| format!("chain[{i}] is not a certificate: {e}"))?;
        out.push(der);
    }
    Ok(out)
}

enum EntryType {
    X509,
    Precert { issuer_key_hash: [u8; 32] },
}

/// The entry an SCT signs for `chain`, after the checks of RFC 6962 §4.1/§4.2.
fn entry(chain: &[Vec<u8>], precert: bool) -> Result<(EntryType, Vec<u8>), String> {
    for (i, pair) in chain.windows(2).enumerate() {
        let cert =
            cosign_trust::x509::Certificate::from_der(&pair[0]).map_err(|e| e.to_string())?;
        let issuer =
            cosign_trust::x509::Certificate::from_der(&pair[1]).map_err(|e| e.to_string())?;
        cert.is_signed_by(&issuer)
            .map_err(|e| format!("chain[{i}] is not signed by chain[{}]: {e}", i + 1))?;
    }
    let poison = extension_entry(&chain[0], &OID_CT_POISON);
    if !precert {
        if poison.is_some() {
            return Err("add-chain: the certificate carries the precertificate poison".into());
        }
        return Ok((EntryType::X509, chain[0].clone()));
    }
    match poison {
        Some((true, value)) if value == [0x05, 0x00] => {}
        Some(_) => return Err("the poison extension is not critical with a NULL value".into()),
        None => return Err("add-pre-chain: chain[0] has no precertificate poison".into()),
    }
    let Some(issuer) = chain.get(1) else {
        return Err("add-pre-chain: the chain has no issuer".into());
    };
    if extension_entry(issuer, &[2, 5, 29, 37])
        .is_some_and(|(_, eku)| eku_contains(&eku, &OID_CT_PRECERT_SIGNING))
    {
        return Err("precertificate signing certificates are not supported".into());
    }
    Ok((
        EntryType::Precert {
            issuer_key_hash: sha256(&spki_of(issuer)),
        },
        tbs_without_extension(&chain[0], &OID_CT_POISON),
    ))
}

/// The JSON of an RFC 6962 submission (for tests that call a log directly).
pub fn add_chain_request(chain: &[&[u8]]) -> Value {
    json!({"chain": chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>()})
}
