//! AWS KMS: `awskms://[ENDPOINT]/<key id | alias/NAME | key or alias ARN>`.
//!
//! The JSON 1.1 protocol (`X-Amz-Target: TrentService.<Op>`) signed with AWS Signature Version 4
//! (HMAC-SHA256 from aws-lc-rs). Credentials and region come from the standard AWS environment
//! and the shared `credentials` / `config` files. As sigstore does, `https://` + ENDPOINT is the
//! endpoint when the URI names one; else `AWS_ENDPOINT_URL(_KMS)`, else AWS's regional endpoint.
//! Opening a key costs one `DescribeKey` (state, usage, spec, and the ARN that aliases resolve
//! to) and one `GetPublicKey`; signing sends `Sign` with `MessageType=DIGEST`.

use std::collections::HashMap;
use std::path::PathBuf;

use aws_lc_rs::{digest, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{KeyType, PublicKey, SignatureScheme};
use cosign_types::Digest;
use serde_json::json;

use crate::config::{KmsConfig, Secret};
use crate::http::{self, Ctx, Tls};
use crate::rest::{RestKey, base64_field, refused};
use crate::{ApiError, BoxFuture, CreatedKey, KmsError};

const PROVIDER: &str = "AWS KMS";
const SERVICE: &str = "kms";

/// A parsed `awskms://` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AwsUri {
    /// `HOST[:PORT]` from the URI, if any.
    pub endpoint: Option<String>,
    /// The key as AWS takes it in `KeyId` (empty: none named).
    pub key: String,
    /// `alias/NAME` when the key is an alias (or an alias ARN).
    pub alias: Option<String>,
    /// The region of an ARN.
    pub arn_region: Option<String>,
}

fn is_key_uuid(s: &str) -> bool {
    let s = s.strip_prefix("mrk-").unwrap_or(s);
    if s.len() == 32 {
        return s.chars().all(|c| c.is_ascii_hexdigit());
    }
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Parses `awskms://[ENDPOINT]/KEY` as sigstore does.
pub(crate) fn parse_uri(uri: &str) -> Result<AwsUri, KmsError> {
    let ctx = Ctx::new(PROVIDER, uri);
    let bad = |why: &str| {
        ctx.err(format!(
            "malformed key URI: {why} (expected awskms://[ENDPOINT]/<key id | alias/NAME | ARN>)"
        ))
    };
    let rest = uri
        .strip_prefix("awskms://")
        .ok_or_else(|| bad("not an awskms:// URI"))?;
    let (endpoint, key) = rest.split_once('/').ok_or_else(|| bad("no key"))?;
    let endpoint = (!endpoint.is_empty()).then(|| endpoint.to_owned());
    if let Some(ep) = &endpoint
        && (ep.contains(['?', '#', '@']) || ep.chars().any(char::is_whitespace))
    {
        return Err(bad("the endpoint must be HOST[:PORT]"));
    }
    let mut out = AwsUri {
        endpoint,
        key: key.to_owned(),
        alias: None,
        arn_region: None,
    };
    if key.is_empty() {
        return Ok(out);
    }
    if let Some(name) = key.strip_prefix("alias/") {
        if name.is_empty() {
            return Err(bad("empty alias name"));
        }
        out.alias = Some(key.to_owned());
        return Ok(out);
    }
    if key.starts_with("arn:") {
        let parts: Vec<&str> = key.splitn(6, ':').collect();
        let [_, partition, service, region, account, resource] = parts.as_slice() else {
            return Err(bad("malformed ARN"));
        };
        if !matches!(*partition, "aws" | "aws-us-gov" | "aws-cn")
            || *service != "kms"
            || region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || account.len() != 12
            || !account.chars().all(|c| c.is_ascii_digit())
        {
            return Err(bad("malformed ARN"));
        }
        out.arn_region = Some((*region).to_owned());
        if let Some(id) = resource.strip_prefix("key/") {
            if !is_key_uuid(id) {
                return Err(bad("the ARN's key ID is not a key ID"));
            }
        } else if let Some(name) = resource.strip_prefix("alias/") {
            if name.is_empty() {
                return Err(bad("empty alias name"));
            }
            out.alias = Some((*resource).to_owned());
        } else {
            return Err(bad("the ARN names neither key/ID nor alias/NAME"));
        }
        return Ok(out);
    }
    if !is_key_uuid(key) {
        return Err(bad("not a key ID, alias/NAME or ARN"));
    }
    Ok(out)
}

/// Credentials for signing requests.
struct Credentials {
    access_key_id: String,
    secret: Secret,
    session_token: Option<Secret>,
}

/// One INI file: section name -> key -> value.
fn parse_ini(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut out: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut section: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim().to_owned();
            out.entry(name.clone()).or_default();
            section = Some(name);
            continue;
        }
        if let (Some(sec), Some((k, v))) = (&section, line.split_once('=')) {
            out.entry(sec.clone())
                .or_default()
                .insert(k.trim().to_owned(), v.trim().to_owned());
        }
    }
    out
}

struct Profiles {
    profile: String,
    explicit: bool,
    credentials: HashMap<String, String>,
    config: HashMap<String, String>,
}

fn load_profiles(cfg: &KmsConfig, ctx: &Ctx) -> Result<Profiles, KmsError> {
    let aws = &cfg.aws;
    let explicit = aws.profile.as_deref().is_some_and(|p| !p.is_empty());
    let profile = aws
        .profile
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "default".to_owned());
    let home_file = |name: &str| cfg.home.as_ref().map(|h| h.join(".aws").join(name));
    let read = |path: Option<PathBuf>, what: &str| -> Result<String, KmsError> {
        match path {
            Some(p) if p.exists() => {
                Ok(String::from_utf8_lossy(&http::read_small(ctx, &p, what)?).into_owned())
            }
            _ => Ok(String::new()),
        }
    };
    let creds_text = read(
        aws.shared_credentials_file
            .clone()
            .or_else(|| home_file("credentials")),
        "the AWS credentials file",
    )?;
    let config_text = read(
        aws.config_file.clone().or_else(|| home_file("config")),
        "the AWS config file",
    )?;
    let mut creds = parse_ini(&creds_text);
    let mut config = parse_ini(&config_text);
    let config_section = if profile == "default" {
        config.remove("default")
    } else {
        config.remove(&format!("profile {profile}"))
    };
    Ok(Profiles {
        credentials: creds.remove(&profile).unwrap_or_default(),
        config: config_section.unwrap_or_default(),
        profile,
        explicit,
    })
}

fn credentials(cfg: &KmsConfig, profiles: &Profiles, ctx: &Ctx) -> Result<Credentials, KmsError> {
    let aws = &cfg.aws;
    let non_empty = |s: &Option<String>| s.clone().filter(|v| !v.is_empty());
    if let (Some(id), Some(secret)) = (
        non_empty(&aws.access_key_id),
        aws.secret_access_key.clone().filter(|s| !s.is_empty()),
    ) {
        return Ok(Credentials {
            access_key_id: id,
            secret,
            session_token: aws.session_token.clone().filter(|s| !s.is_empty()),
        });
    }
    for section in [&profiles.credentials, &profiles.config] {
        if let (Some(id), Some(secret)) = (
            section.get("aws_access_key_id").filter(|v| !v.is_empty()),
            section
                .get("aws_secret_access_key")
                .filter(|v| !v.is_empty()),
        ) {
            return Ok(Credentials {
                access_key_id: id.clone(),
                secret: Secret::new(secret.clone()),
                session_token: section
                    .get("aws_session_token")
                    .filter(|v| !v.is_empty())
                    .map(|t| Secret::new(t.clone())),
            });
        }
    }
    let profile_note = if profiles.explicit {
        format!(" (AWS_PROFILE={} has no keys)", profiles.profile)
    } else {
        String::new()
    };
    Err(ctx.err(format!(
        "no AWS credentials{profile_note}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put \
         aws_access_key_id/aws_secret_access_key in the profile's section of ~/.aws/credentials \
         (instance roles, SSO and assume-role profiles are not supported by this build)"
    )))
}

fn region(
    cfg: &KmsConfig,
    uri: &AwsUri,
    profiles: &Profiles,
    ctx: &Ctx,
) -> Result<String, KmsError> {
    let non_empty = |s: &Option<String>| s.clone().filter(|v| !v.is_empty());
    uri.arn_region
        .clone()
        .or_else(|| non_empty(&cfg.aws.region))
        .or_else(|| non_empty(&cfg.aws.default_region))
        .or_else(|| profiles.config.get("region").filter(|r| !r.is_empty()).cloned())
        .ok_or_else(|| {
            ctx.err("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), put region in ~/.aws/config, or use a key ARN")
        })
}

// ---- Signature Version 4 ----------------------------------------------------------------------

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&key, data).as_ref().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

/// `YYYYMMDDTHHMMSSZ` of a Unix time.
pub(crate) fn amz_date(unix: u64) -> String {
    let (y, mo, d, h, mi, s) = crate::encoding::civil(unix);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// The request parts Signature Version 4 covers.
pub(crate) struct SigV4Request<'a> {
    pub method: &'a str,
    /// URI-encoded absolute path (`/` for KMS).
    pub path: &'a str,
    /// Canonical query string (empty for KMS).
    pub query: &'a str,
    /// Headers to sign: lowercase names with their values; must include `host` and `x-amz-date`.
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
}

/// The `Authorization` header value for `req` (AWS Signature Version 4, `AWS4-HMAC-SHA256`).
pub(crate) fn sigv4_authorization(
    access_key_id: &str,
    secret: &str,
    region: &str,
    service: &str,
    amz_date: &str,
    req: &SigV4Request<'_>,
) -> String {
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| {
            let value = v.split_whitespace().collect::<Vec<_>>().join(" ");
            (k.to_ascii_lowercase(), value)
        })
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        req.path,
        req.query,
        canonical_headers,
        signed_headers,
        sha256_hex(req.payload)
    );
    let date = &amz_date[..8.min(amz_date.len())];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    let signature = hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

// ---- the client -------------------------------------------------------------------------------

struct AwsClient {
    http: reqwest::Client,
    url: reqwest::Url,
    host: String,
    region: String,
    creds: Credentials,
    ctx: Ctx,
}

impl AwsClient {
    fn new(uri_text: &str, cfg: &KmsConfig) -> Result<(Self, AwsUri), KmsError> {
        let uri = parse_uri(uri_text)?;
        let ctx = Ctx::new(PROVIDER, uri_text);
        let profiles = load_profiles(cfg, &ctx)?;
        let creds = credentials(cfg, &profiles, &ctx)?;
        let region = region(cfg, &uri, &profiles, &ctx)?;
        let endpoint = match (&uri.endpoint, &cfg.aws.endpoint_url) {
            (Some(ep), _) => format!("https://{ep}/"),
            (None, Some(url)) if !url.is_empty() => url.clone(),
            _ => {
                let suffix = if region.starts_with("cn-") {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                };
                format!("https://kms.{region}.{suffix}/")
            }
        };
        let url = reqwest::Url::parse(&endpoint)
            .map_err(|e| ctx.caused(format!("endpoint {endpoint:?} is not a URL"), e))?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return Err(ctx.err(format!("endpoint {endpoint:?} has no host"))),
        };
        let mut tls = Tls::default();
        if let Some(bundle) = &cfg.aws.ca_bundle {
            tls.ca_file(&ctx, bundle, "AWS_CA_BUNDLE")?;
        }
        let http = http::client(cfg, &ctx, &tls)?;
        Ok((
            Self {
                http,
                url,
                host,
                region,
                creds,
                ctx,
            },
            uri,
        ))
    }

    /// Calls `op`; an error answer is `Ok(Err(..))`.
    async fn call(
        &self,
        op: &str,
        body: serde_json::Value,
    ) -> Result<Result<serde_json::Value, ApiError>, KmsError> {
        let payload = body.to_string().into_bytes();
        let date = amz_date(crate::encoding::unix_now());
        let target = format!("TrentService.{op}");
        let content_type = "application/x-amz-json-1.1";
        let token = self.creds.session_token.as_ref().map(Secret::expose);
        let mut headers: Vec<(&str, &str)> = vec![
            ("content-type", content_type),
            ("host", &self.host),
            ("x-amz-date", &date),
            ("x-amz-target", &target),
        ];
        if let Some(t) = token {
            headers.push(("x-amz-security-token", t));
        }
        let path = match self.url.path() {
            "" => "/",
            p => p,
        };
        let authorization = sigv4_authorization(
            &self.creds.access_key_id,
            self.creds.secret.expose(),
            &self.region,
            SERVICE,
            &date,
            &SigV4Request {
                method: "POST",
                path,
                query: "",
                headers: &headers,
                payload: &payload,
            },
        );
        let mut req = self
            .http
            .post(self.url.clone())
            .header("content-type", content_type)
            .header("x-amz-date", &date)
            .header("x-amz-target", &target)
            .header("authorization", authorization)
            .body(payload);
        if let Some(t) = token {
            req = req.header("x-amz-security-token", t);
        }
        let resp = http::send(&self.ctx, op, req).await?;
        if resp.status.is_success() {
            if resp.body.iter().all(u8::is_ascii_whitespace) {
                return Ok(Ok(serde_json::Value::Null));
            }
            return resp.json(&self.ctx, op).map(Ok);
        }
        Ok(Err(ApiError::from_response(&resp)))
    }

    /// `call`, with API errors turned into messages.
    async fn call_ok(
        &self,
        op: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, KmsError> {
        self.call(op, body)
            .await?
            .map_err(|e| refused(&self.ctx, op, e))
    }

    fn field<'a>(
        &self,
        v: &'a serde_json::Value,
        op: &str,
        name: &str,
    ) -> Result<&'a str, KmsError> {
        v.get(name)
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| self.ctx.err(format!("{op}: the answer has no {name}")))
    }
}

/// What a key spec means for cosign.
fn spec_key_type(spec: &str) -> Option<KeyType> {
    match spec {
        "ECC_NIST_P256" => Some(KeyType::EcdsaP256),
        "ECC_NIST_P384" => Some(KeyType::EcdsaP384),
        "ECC_NIST_P521" => Some(KeyType::EcdsaP521),
        "RSA_2048" => Some(KeyType::Rsa { bits: 2048 }),
        "RSA_3072" => Some(KeyType::Rsa { bits: 3072 }),
        "RSA_4096" => Some(KeyType::Rsa { bits: 4096 }),
        _ => None,
    }
}

fn signing_algorithm(scheme: SignatureScheme) -> Option<&'static str> {
    match scheme {
        SignatureScheme::EcdsaP256Sha256 => Some("ECDSA_SHA_256"),
        SignatureScheme::EcdsaP384Sha384 => Some("ECDSA_SHA_384"),
        SignatureScheme::EcdsaP521Sha512 => Some("ECDSA_SHA_512"),
        SignatureScheme::RsaPkcs1Sha256 => Some("RSASSA_PKCS1_V1_5_SHA_256"),
        SignatureScheme::Ed25519 | SignatureScheme::Ed25519ph => None,
    }
}

/// An open AWS KMS key.
pub(crate) struct AwsSigner {
    client: AwsClient,
    arn: String,
    public_key: PublicKey,
    algorithms: Vec<String>,
}

/// Looks the key up (DescribeKey), checks that cosign can use it, and fetches its public key.
async fn lookup(
    client: &AwsClient,
    key_id: &str,
) -> Result<(String, PublicKey, Vec<String>), KmsError> {
    let ctx = &client.ctx;
    let described = client
        .call_ok("DescribeKey", json!({ "KeyId": key_id }))
        .await?;
    let meta = described
        .get("KeyMetadata")
        .ok_or_else(|| ctx.err("DescribeKey: the answer has no KeyMetadata"))?;
    let arn = client.field(meta, "DescribeKey", "Arn")?.to_owned();
    let state = meta.get("KeyState").and_then(|s| s.as_str()).unwrap_or("");
    if !state.is_empty() && state != "Enabled" {
        return Err(ctx.err(format!("the key is {state}, not Enabled")));
    }
    let usage = client.field(meta, "DescribeKey", "KeyUsage")?;
    if usage != "SIGN_VERIFY" {
        return Err(ctx.err(format!(
            "the key's usage is {usage}; cosign needs an asymmetric SIGN_VERIFY key"
        )));
    }
    let spec = meta
        .get("KeySpec")
        .or_else(|| meta.get("CustomerMasterKeySpec"))
        .and_then(|s| s.as_str())
        .unwrap_or("");
    let key_type = spec_key_type(spec).ok_or_else(|| {
        ctx.err(format!(
            "key spec {spec} is not supported by cosign (use ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521 or RSA_2048/3072/4096)"
        ))
    })?;
    let algorithms: Vec<String> = meta
        .get("SigningAlgorithms")
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let got = client
        .call_ok("GetPublicKey", json!({ "KeyId": arn }))
        .await?;
    let der = base64_field(
        ctx,
        "GetPublicKey: PublicKey",
        &STANDARD,
        client.field(&got, "GetPublicKey", "PublicKey")?,
    )?;
    let public_key = PublicKey::from_spki_der(&der)
        .map_err(|e| ctx.caused("GetPublicKey: unusable public key", e))?;
    if public_key.key_type() != key_type {
        return Err(ctx.err(format!(
            "the public key is {} but the key spec says {spec}",
            public_key.key_type()
        )));
    }
    Ok((arn, public_key, algorithms))
}

/// Opens the key for signing (and for its public key).
pub(crate) async fn open(uri: &str, cfg: &KmsConfig) -> Result<AwsSigner, KmsError> {
    let (client, parsed) = AwsClient::new(uri, cfg)?;
    if parsed.key.is_empty() {
        return Err(client.ctx.err("the URI names no key"));
    }
    let (arn, public_key, algorithms) = lookup(&client, &parsed.key).await?;
    // Signing happens on the caller's (maybe another) runtime: a fresh connection pool for it.
    let (client, _) = AwsClient::new(uri, cfg)?;
    Ok(AwsSigner {
        client,
        arn,
        public_key,
        algorithms,
    })
}

/// `generate-key-pair --kms`: an ECC_NIST_P256 SIGN_VERIFY key. With an alias, an existing key
/// of that alias is used as it is (as sigstore does), else a key is created and the alias made;
/// with no key in the URI, a key is created and its URI returned.
pub(crate) async fn create(uri: &str, cfg: &KmsConfig) -> Result<CreatedKey, KmsError> {
    let (client, parsed) = AwsClient::new(uri, cfg)?;
    let ctx = client.ctx.clone();
    if !parsed.key.is_empty() && parsed.alias.is_none() {
        return Err(ctx.err(
            "a key ID cannot be chosen: name an alias (awskms://[ENDPOINT]/alias/NAME), or no key to create one",
        ));
    }
    if let Some(alias) = &parsed.alias {
        match client
            .call("DescribeKey", json!({ "KeyId": alias }))
            .await?
        {
            Ok(_) => {
                let (_, public_key, _) = lookup(&client, alias).await?;
                return Ok(CreatedKey {
                    public_key,
                    reference: uri.to_owned(),
                    created: false,
                });
            }
            Err(e) if e.not_found() => {}
            Err(e) => return Err(refused(&ctx, "DescribeKey", e)),
        }
    }
    let created = client
        .call_ok(
            "CreateKey",
            json!({
                "KeySpec": "ECC_NIST_P256",
                "KeyUsage": "SIGN_VERIFY",
                "Description": "Created by cosign",
            }),
        )
        .await?;
    let meta = created
        .get("KeyMetadata")
        .ok_or_else(|| ctx.err("CreateKey: the answer has no KeyMetadata"))?;
    let key_id = client.field(meta, "CreateKey", "KeyId")?.to_owned();
    let reference = match &parsed.alias {
        Some(alias) => {
            client
                .call_ok(
                    "CreateAlias",
                    json!({ "AliasName": alias, "TargetKeyId": key_id }),
                )
                .await?;
            uri.to_owned()
        }
        None => format!(
            "awskms://{}/{key_id}",
            parsed.endpoint.as_deref().unwrap_or("")
        ),
    };
    let (_, public_key, _) = lookup(&client, &key_id).await?;
    Ok(CreatedKey {
        public_key,
        reference,
        created: true,
    })
}

impl RestKey for AwsSigner {
    fn ctx(&self) -> &Ctx {
        &self.client.ctx
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn sign<'a>(
        &'a self,
        scheme: SignatureScheme,
        digest: &'a Digest,
    ) -> BoxFuture<'a, Result<Vec<u8>, KmsError>> {
        Box::pin(async move {
            let ctx = &self.client.ctx;
            let algorithm = signing_algorithm(scheme)
                .filter(|_| scheme.fits(self.public_key.key_type()))
                .filter(|_| scheme.prehash() == Some(digest.algorithm()))
                .ok_or_else(|| {
                    ctx.err(format!(
                        "cannot sign a {} digest with {scheme} using a {} key",
                        digest.algorithm(),
                        self.public_key.key_type()
                    ))
                })?;
            if !self.algorithms.is_empty() && !self.algorithms.iter().any(|a| a == algorithm) {
                return Err(ctx.err(format!(
                    "the key does not offer {algorithm} (it offers {})",
                    self.algorithms.join(", ")
                )));
            }
            let signed = self
                .client
                .call_ok(
                    "Sign",
                    json!({
                        "KeyId": self.arn,
                        "Message": STANDARD.encode(digest.as_bytes()),
                        "MessageType": "DIGEST",
                        "SigningAlgorithm": algorithm,
                    }),
                )
                .await?;
            base64_field(
                ctx,
                "Sign: Signature",
                &STANDARD,
                self.client.field(&signed, "Sign", "Signature")?,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sigstore_forms() {
        let u = parse_uri("awskms:///alias/foo").unwrap();
        assert_eq!(u.endpoint, None);
        assert_eq!(u.alias.as_deref(), Some("alias/foo"));
        let u = parse_uri("awskms://localhost:4566/1234abcd-12ab-34cd-56ef-1234567890ab").unwrap();
        assert_eq!(u.endpoint.as_deref(), Some("localhost:4566"));
        assert_eq!(u.alias, None);
        let u = parse_uri(
            "awskms:///arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        )
        .unwrap();
        assert_eq!(u.arn_region.as_deref(), Some("eu-west-1"));
        let u =
            parse_uri("awskms:///arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/x").unwrap();
        assert_eq!(u.alias.as_deref(), Some("alias/x"));
        assert!(parse_uri("awskms:///mrk-1234abcd12ab34cd56ef1234567890ab").is_ok());
        assert_eq!(parse_uri("awskms://h/").unwrap().key, "");
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            "awskms://",
            "awskms:///alias/",
            "awskms:///not-a-key",
            "awskms:///arn:aws:kms:us-east-1:123:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "awskms:///arn:aws:s3:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "awskms://h?x/alias/a",
        ] {
            let e = parse_uri(bad).unwrap_err().to_string();
            assert!(e.starts_with("AWS KMS ("), "{e}");
            assert!(e.contains("malformed key URI"), "{e}");
        }
    }

    /// AWS's published Signature Version 4 example (IAM ListUsers, 2015-08-30), from the
    /// "Create a signed AWS API request" documentation.
    #[test]
    fn sigv4_matches_the_aws_documentation_example() {
        let headers = [
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("host", "iam.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ];
        let auth = sigv4_authorization(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "us-east-1",
            "iam",
            "20150830T123600Z",
            &SigV4Request {
                method: "GET",
                path: "/",
                query: "Action=ListUsers&Version=2010-05-08",
                headers: &headers,
                payload: b"",
            },
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    /// The `get-vanilla` case of AWS's SigV4 test suite.
    #[test]
    fn sigv4_get_vanilla() {
        let headers = [
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ];
        let auth = sigv4_authorization(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "us-east-1",
            "service",
            "20150830T123600Z",
            &SigV4Request {
                method: "GET",
                path: "/",
                query: "",
                headers: &headers,
                payload: b"",
            },
        );
        assert!(
            auth.ends_with(
                "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            ),
            "{auth}"
        );
    }

    #[test]
    fn amz_date_format() {
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
    }

    #[test]
    fn ini_profiles() {
        let ini = parse_ini(
            "# c\n[default]\naws_access_key_id = A\naws_secret_access_key=B\n[profile x]\nregion = eu-west-1\n",
        );
        assert_eq!(ini["default"]["aws_access_key_id"], "A");
        assert_eq!(ini["default"]["aws_secret_access_key"], "B");
        assert_eq!(ini["profile x"]["region"], "eu-west-1");
    }
}
