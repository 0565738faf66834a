//! A fake Fulcio v2 (`POST /api/v2/signingCert`), faithful to the real one where the client can
//! tell: the token from `Authorization: Bearer`, the public key from
//! `publicKeyRequest.publicKey.content`, the proof of possession checked over the principal's
//! name (the email, else `sub`) with the key's default scheme, errors as grpc-gateway writes
//! them (`{"code":3,"message":..,"details":[]}`, HTTP 400), the answer in protojson camelCase,
//! the chain leaf first then intermediate then root. [`Mode`] turns it hostile.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cosign_crypto::PublicKey;
use cosign_trust::trusted_root::TrustedRoot;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType,
};
use serde_json::{Value, json};
use test_support::fulcio::{
    CtLog, FulcioCa, LeafSpec, OID_ISSUER_V1, TrustedRootJson, ValidFor, Y2000, Y2100, pem,
};

use crate::http::{Reply, Request, Server};

/// What the fake answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A leaf with an embedded SCT from the trusted CT log.
    Embedded,
    /// A leaf without SCT, and a detached SCT from the trusted CT log.
    Detached,
    /// A detached SCT from a CT log the trusted root does not know.
    DetachedUntrustedLog,
    /// The leaf alone, without intermediate and root.
    LeafOnly,
    /// A leaf certifying a key of its own, not the requester's.
    OtherKey,
    /// A leaf and chain from a CA the trusted root does not know.
    UntrustedCa,
    /// A leaf without any SCT.
    NoSct,
    /// An embedded SCT signed by an unknown CT log.
    UntrustedSct,
    /// The embedded SCT list of another certificate.
    CopiedSct,
    /// A leaf of a trusted CA whose extended key usage is serverAuth.
    NotCodeSigning,
    /// A trusted leaf with another CA's intermediate and root as its chain.
    ForeignChain,
    /// A trusted leaf that expired an hour ago.
    Expired,
    /// This status with this body.
    Status(u16, String),
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 with no certificate.
    NoCertificates,
}

/// The trust material of the fake: what the trusted root names, and what it does not.
pub struct Pki {
    pub ca: FulcioCa,
    pub log: CtLog,
    pub other_ca: FulcioCa,
    pub other_log: CtLog,
    pub plain: PlainCa,
    pub root: TrustedRoot,
}

impl Pki {
    pub fn new() -> Pki {
        let (ca, log) = (FulcioCa::named("trusted-fulcio"), CtLog::new());
        let plain = PlainCa::new();
        let mut json = TrustedRootJson::new()
            .ca(&ca, ValidFor::always())
            .ctlog(&log, ValidFor::always());
        json.certificate_authorities.push(plain.authority_json());
        Pki {
            root: TrustedRoot::from_json(json.to_json().as_bytes()).unwrap(),
            ca,
            log,
            other_ca: FulcioCa::named("rogue-fulcio"),
            other_log: CtLog::new(),
            plain,
        }
    }
}

/// A running fake Fulcio.
pub struct FakeFulcio {
    pub server: Server,
    pub pki: Arc<Pki>,
}

pub const ISSUER: &str = "https://issuer.test.example";

fn grpc_error(status: u16, code: u32, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"code": code, "message": message, "details": []}),
    )
}

/// The principal's name as Fulcio signs it for the challenge: the email, else `sub`.
fn principal(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims["email"]
        .as_str()
        .or(claims["sub"].as_str())
        .map(str::to_owned)
}

impl FakeFulcio {
    pub async fn start(mode: Mode) -> FakeFulcio {
        let pki = Arc::new(Pki::new());
        let state = Arc::clone(&pki);
        let server = Server::start(move |req| handle(&state, &mode, req)).await;
        FakeFulcio { server, pki }
    }

    pub fn url(&self) -> &str {
        &self.server.url
    }
}

fn handle(pki: &Pki, mode: &Mode, req: &Request) -> Reply {
    if req.method != "POST" || req.path != "/api/v2/signingCert" {
        return Reply::json(404, &json!({"code": 5, "message": "Not Found"}));
    }
    match mode {
        Mode::Status(status, body) => {
            return Reply::bytes(*status, "application/json", body.clone().into_bytes());
        }
        Mode::Garbage => return Reply::bytes(200, "application/json", b"<html>".to_vec()),
        Mode::NoCertificates => {
            return Reply::json(
                200,
                &json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": []}}}),
            );
        }
        _ => {}
    }
    let Some(token) = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return grpc_error(400, 3, "There was an error processing the identity token");
    };
    let Some(name) = principal(token) else {
        return grpc_error(400, 3, "There was an error processing the identity token");
    };
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => return grpc_error(400, 3, "invalid request body"),
    };
    let request = &body["publicKeyRequest"];
    let content = request["publicKey"]["content"].as_str().unwrap_or_default();
    let Ok(key) = PublicKey::from_pem(content.as_bytes()) else {
        return grpc_error(
            400,
            3,
            "The public key supplied in the request could not be parsed",
        );
    };
    let proof = STANDARD
        .decode(request["proofOfPossession"].as_str().unwrap_or_default())
        .unwrap_or_default();
    if key
        .verify_message(
            key.key_type().default_scheme(false),
            name.as_bytes(),
            &proof,
        )
        .is_err()
    {
        return grpc_error(
            400,
            3,
            "The signature supplied in the request could not be verified",
        );
    }
    if matches!(key.key_type(), cosign_crypto::KeyType::Rsa { .. }) {
        // test-support's CA issues for EC and Ed25519 keys only.
        return grpc_error(500, 13, "error communicating with CA backend");
    }
    issue(pki, mode, &key.to_pem(), &name)
}

fn answer(certs: &[String], detached: Option<String>) -> Reply {
    let chain = json!({"certificates": certs});
    let body = match detached {
        None => json!({"signedCertificateEmbeddedSct": {"chain": chain}}),
        Some(sct) => json!({"signedCertificateDetachedSct": {
            "chain": chain,
            "signedCertificateTimestamp": STANDARD.encode(sct),
        }}),
    };
    Reply::json(200, &body)
}

fn issue(pki: &Pki, mode: &Mode, key_pem: &str, name: &str) -> Reply {
    let spec = LeafSpec::email(name, ISSUER, &pki.log);
    let (ca, log) = (&pki.ca, &pki.log);
    let chain =
        |leaf: &str, ca: &FulcioCa| vec![leaf.to_owned(), ca.intermediate_pem(), ca.root_pem()];
    match mode {
        Mode::Embedded => answer(&chain(&ca.issue(key_pem, &spec).pem, ca), None),
        Mode::LeafOnly => answer(&[ca.issue(key_pem, &spec).pem], None),
        Mode::Detached | Mode::DetachedUntrustedLog => {
            let leaf = ca.issue(key_pem, &spec.without_sct());
            let signer = if *mode == Mode::Detached {
                log
            } else {
                &pki.other_log
            };
            let sct = signer.detached_sct(&leaf.pem, (crate::now() as u64 - 5) * 1000);
            answer(&chain(&leaf.pem, ca), Some(sct))
        }
        Mode::OtherKey => {
            let other = cosign_crypto::PrivateKey::generate_ecdsa_p256().unwrap();
            answer(
                &chain(&ca.issue(&other.public_key().to_pem(), &spec).pem, ca),
                None,
            )
        }
        Mode::UntrustedCa => {
            let leaf = pki.other_ca.issue(key_pem, &spec);
            answer(&chain(&leaf.pem, &pki.other_ca), None)
        }
        Mode::NoSct => answer(
            &chain(&ca.issue(key_pem, &spec.without_sct()).pem, ca),
            None,
        ),
        Mode::UntrustedSct => {
            let leaf = ca.issue(key_pem, &spec.sct_by(&pki.other_log));
            answer(&chain(&leaf.pem, ca), None)
        }
        Mode::CopiedSct => {
            let donor = ca.issue(key_pem, &spec);
            let leaf = ca.issue(key_pem, &spec.sct_copied_from(&donor));
            answer(&chain(&leaf.pem, ca), None)
        }
        Mode::NotCodeSigning => answer(
            &[pki.plain.issue(key_pem, name), pki.plain.root_pem()],
            None,
        ),
        Mode::ForeignChain => {
            let leaf = ca.issue(key_pem, &spec);
            answer(&chain(&leaf.pem, &pki.other_ca), None)
        }
        Mode::Expired => {
            let t = crate::now();
            let leaf = ca.issue(key_pem, &spec.valid(t - 4000, t - 3600));
            answer(&chain(&leaf.pem, ca), None)
        }
        Mode::Status(..) | Mode::Garbage | Mode::NoCertificates => unreachable!(),
    }
}

/// A CA of the trusted root (root only) that issues leaves for serverAuth, not codeSigning.
pub struct PlainCa {
    params: CertificateParams,
    key: KeyPair,
    der: Vec<u8>,
}

/// A public key for rcgen from its SPKI (the BIT STRING's key bytes).
struct RawKey {
    raw: Vec<u8>,
    alg: &'static rcgen::SignatureAlgorithm,
}

impl PublicKeyData for RawKey {
    fn der_bytes(&self) -> &[u8] {
        &self.raw
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.alg
    }
}

/// Sets the validity window of `params` (Unix seconds).
fn set_validity(params: &mut CertificateParams, not_before: i64, not_after: i64) {
    let at =
        |unix: i64| rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(unix as u64);
    params.not_before = at(not_before);
    params.not_after = at(not_after);
}

impl PlainCa {
    fn new() -> PlainCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "plain-ca-root");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        set_validity(&mut params, Y2000, Y2100);
        let der = params.self_signed(&key).unwrap().der().to_vec();
        PlainCa { params, key, der }
    }

    fn root_pem(&self) -> String {
        pem("CERTIFICATE", &self.der)
    }

    fn authority_json(&self) -> Value {
        json!({
            "subject": {"organization": "plain", "commonName": "plain"},
            "uri": "https://plain.example",
            "certChain": {"certificates": [{"rawBytes": STANDARD.encode(&self.der)}]},
            "validFor": ValidFor::always().json(),
        })
    }

    /// A leaf for the EC P-256 key `key_pem`: SAN email, issuer extension, key usage
    /// digitalSignature, extended key usage serverAuth.
    fn issue(&self, key_pem: &str, email: &str) -> String {
        let key = PublicKey::from_pem(key_pem.as_bytes()).unwrap();
        let spki = key.to_spki_der();
        // The uncompressed point is the last 65 bytes of a P-256 SPKI.
        let subject = RawKey {
            raw: spki[spki.len() - 65..].to_vec(),
            alg: &rcgen::PKCS_ECDSA_P256_SHA256,
        };
        let mut p = CertificateParams::default();
        p.distinguished_name = DistinguishedName::new();
        p.subject_alt_names = vec![SanType::Rfc822Name(email.try_into().unwrap())];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.is_ca = IsCa::ExplicitNoCa;
        let t = crate::now();
        set_validity(&mut p, t - 60, t + 600);
        p.custom_extensions = vec![CustomExtension::from_oid_content(
            &OID_ISSUER_V1,
            ISSUER.as_bytes().to_vec(),
        )];
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = p.signed_by(&subject, &issuer).unwrap();
        pem("CERTIFICATE", cert.der())
    }
}
