//! What a Fulcio certificate says about its holder: the subject alternative names and the
//! Fulcio extensions (OID arc 1.3.6.1.4.1.57264.1, see Fulcio's `docs/oid-info.md`).
//!
//! The v1 extensions (.1 to .6) hold the raw string as the extension value; the v2 ones (.8 and
//! .9 to .22) hold a DER UTF8String. Names follow sigstore-go's `certificate.Extensions`.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Decode as _;
use der::asn1::Utf8StringRef;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use super::Certificate;
use crate::TrustError;

/// The Fulcio OID arc.
const ARC: &str = "1.3.6.1.4.1.57264.1";

/// Fulcio's otherName SAN type for a username identity (`1.3.6.1.4.1.57264.1.7`).
pub const OID_OTHERNAME_USERNAME: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");

/// The Fulcio extensions of a certificate; an absent extension is an empty string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct FulcioExtensions {
    /// OIDC issuer, v1 (.1.1, raw string; deprecated).
    pub issuer_v1: String,
    /// OIDC issuer, v2 (.1.8, DER UTF8String).
    pub issuer_v2: String,
    /// .1.2
    pub github_workflow_trigger: String,
    /// .1.3
    pub github_workflow_sha: String,
    /// .1.4
    pub github_workflow_name: String,
    /// .1.5
    pub github_workflow_repository: String,
    /// .1.6
    pub github_workflow_ref: String,
    /// .1.9
    pub build_signer_uri: String,
    /// .1.10
    pub build_signer_digest: String,
    /// .1.11
    pub runner_environment: String,
    /// .1.12
    pub source_repository_uri: String,
    /// .1.13
    pub source_repository_digest: String,
    /// .1.14
    pub source_repository_ref: String,
    /// .1.15
    pub source_repository_identifier: String,
    /// .1.16
    pub source_repository_owner_uri: String,
    /// .1.17
    pub source_repository_owner_identifier: String,
    /// .1.18
    pub build_config_uri: String,
    /// .1.19
    pub build_config_digest: String,
    /// .1.20
    pub build_trigger: String,
    /// .1.21
    pub run_invocation_uri: String,
    /// .1.22
    pub source_repository_visibility_at_signing: String,
}

impl FulcioExtensions {
    /// The OIDC issuer: v2 when present, else v1 (sigstore-go's `Issuer`).
    pub fn issuer(&self) -> &str {
        if self.issuer_v2.is_empty() {
            &self.issuer_v1
        } else {
            &self.issuer_v2
        }
    }

    /// Reads the Fulcio extensions of `cert`. A v2 extension that is not a DER UTF8String is an
    /// error, as in sigstore-go.
    pub fn from_certificate(cert: &Certificate) -> Result<Self, TrustError> {
        let mut out = Self::default();
        for ext in cert.extensions() {
            let id = ext.extn_id.to_string();
            let Some(n) = id
                .strip_prefix(ARC)
                .and_then(|s| s.strip_prefix('.'))
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let value = ext.extn_value.as_bytes();
            let raw = || String::from_utf8_lossy(value).into_owned();
            let v2 = || -> Result<String, TrustError> {
                Utf8StringRef::from_der(value)
                    .map(|s| s.as_str().to_owned())
                    .map_err(|e| TrustError::Parse {
                        what: "Fulcio certificate extension",
                        reason: format!("{id}: not a DER UTF8String: {e}"),
                    })
            };
            match n {
                1 => out.issuer_v1 = raw(),
                2 => out.github_workflow_trigger = raw(),
                3 => out.github_workflow_sha = raw(),
                4 => out.github_workflow_name = raw(),
                5 => out.github_workflow_repository = raw(),
                6 => out.github_workflow_ref = raw(),
                8 => out.issuer_v2 = v2()?,
                9 => out.build_signer_uri = v2()?,
                10 => out.build_signer_digest = v2()?,
                11 => out.runner_environment = v2()?,
                12 => out.source_repository_uri = v2()?,
                13 => out.source_repository_digest = v2()?,
                14 => out.source_repository_ref = v2()?,
                15 => out.source_repository_identifier = v2()?,
                16 => out.source_repository_owner_uri = v2()?,
                17 => out.source_repository_owner_identifier = v2()?,
                18 => out.build_config_uri = v2()?,
                19 => out.build_config_digest = v2()?,
                20 => out.build_trigger = v2()?,
                21 => out.run_invocation_uri = v2()?,
                22 => out.source_repository_visibility_at_signing = v2()?,
                _ => {}
            }
        }
        Ok(out)
    }
}

/// A subject alternative name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum San {
    /// `dNSName`.
    Dns(String),
    /// `rfc822Name`.
    Email(String),
    /// `iPAddress`.
    Ip(std::net::IpAddr),
    /// `uniformResourceIdentifier`.
    Uri(String),
    /// Fulcio's username `otherName` (1.3.6.1.4.1.57264.1.7).
    Username(String),
}

impl std::fmt::Display for San {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dns(s) | Self::Email(s) | Self::Uri(s) | Self::Username(s) => f.write_str(s),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

fn san_err(reason: impl std::fmt::Display) -> TrustError {
    TrustError::Parse {
        what: "subject alternative name",
        reason: reason.to_string(),
    }
}

/// The subject alternative names of `cert`, in Go cosign's order
/// (`cryptoutils.GetSubjectAlternateNames`): DNS names, emails, IP addresses, URIs, then the
/// Fulcio username. Other name types are skipped.
pub fn subject_alternative_names(cert: &Certificate) -> Result<Vec<San>, TrustError> {
    let Some((_, value)) = cert.extension(&rfc5912::ID_CE_SUBJECT_ALT_NAME)? else {
        return Ok(Vec::new());
    };
    let names = SubjectAltName::from_der(value).map_err(san_err)?;
    let (mut dns, mut email, mut ip, mut uri, mut other) = (vec![], vec![], vec![], vec![], vec![]);
    for name in names.0 {
        match name {
            GeneralName::DnsName(s) => dns.push(San::Dns(s.to_string())),
            GeneralName::Rfc822Name(s) => email.push(San::Email(s.to_string())),
            GeneralName::UniformResourceIdentifier(s) => uri.push(San::Uri(s.to_string())),
            GeneralName::IpAddress(bytes) => {
                let b = bytes.as_bytes();
                let addr = if let Ok(v4) = <[u8; 4]>::try_from(b) {
                    std::net::IpAddr::from(v4)
                } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
                    std::net::IpAddr::from(v6)
                } else {
                    return Err(san_err("an IP address is neither 4 nor 16 bytes"));
                };
                ip.push(San::Ip(addr));
            }
            GeneralName::OtherName(o) if o.type_id == OID_OTHERNAME_USERNAME => {
                // value is [0] EXPLICIT UTF8String; `Any` is the UTF8String.
                let s = Utf8StringRef::try_from(&o.value)
                    .map_err(|e| san_err(format!("Fulcio username is not a UTF8String: {e}")))?;
                other.push(San::Username(s.as_str().to_owned()));
            }
            _ => {}
        }
    }
    Ok([dns, email, ip, uri, other].concat())
}
