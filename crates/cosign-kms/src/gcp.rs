//! Google Cloud KMS: `gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/V]`.
//!
//! The public REST API (v1): the key version (named, or the highest-numbered ENABLED one),
//! `.../publicKey`, `...:asymmetricSign` with `digest.sha256|sha384|sha512` and the CRC32C
//! integrity fields checked both ways, and for `generate-key-pair --kms` key ring, crypto key
//! (`ASYMMETRIC_SIGN`, `EC_SIGN_P256_SHA256`) or `cryptoKeyVersions` creation.
//! Credentials: `GOOGLE_OAUTH_ACCESS_TOKEN` as it is; else the JSON file of
//! `GOOGLE_APPLICATION_CREDENTIALS` (or gcloud's application default credentials file): a
//! service account (a JWT signed RS256 with its key, exchanged at its `token_uri`) or an
//! authorized user (refresh token). The metadata server is not consulted.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cosign_crypto::{KeyType, PrivateKey, PublicKey, SignatureScheme};
use cosign_types::{Digest, HashAlgorithm};
use serde::Deserialize;
use serde_json::json;

use crate::config::{KmsConfig, Secret};
use crate::encoding::{crc32c, unix_now};
use crate::http::{self, Ctx};
use crate::rest::{BearerApi, RestKey, base64_field, refused};
use crate::{ApiError, BoxFuture, CreatedKey, KmsError};

const PROVIDER: &str = "Google Cloud KMS";
const DEFAULT_ENDPOINT: &str = "https://cloudkms.googleapis.com/";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const SCOPE: &str = "https://www.googleapis.com/auth/cloudkms";

/// A parsed `gcpkms://` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GcpUri {
    pub project: String,
    pub location: String,
    pub key_ring: String,
    pub key: String,
    pub version: Option<String>,
}

impl GcpUri {
    fn location_name(&self) -> String {
        format!("projects/{}/locations/{}", self.project, self.location)
    }
    fn key_ring_name(&self) -> String {
        format!("{}/keyRings/{}", self.location_name(), self.key_ring)
    }
    fn key_name(&self) -> String {
        format!("{}/cryptoKeys/{}", self.key_ring_name(), self.key)
    }
}

/// Parses the URI as sigstore does (`versions/V` is accepted for `cryptoKeyVersions/V`).
pub(crate) fn parse_uri(uri: &str) -> Result<GcpUri, KmsError> {
    let bad = || {
        Ctx::new(PROVIDER, uri).err(
            "malformed key URI: expected gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/V]",
        )
    };
    let rest = uri.strip_prefix("gcpkms://").ok_or_else(bad)?;
    let parts: Vec<&str> = rest.split('/').collect();
    let segment_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && s != "."
            && s != ".."
    };
    let (base, version) = match parts.as_slice() {
        [
            "projects",
            p,
            "locations",
            l,
            "keyRings",
            r,
            "cryptoKeys",
            k,
        ] => ([*p, *l, *r, *k], None),
        [
            "projects",
            p,
            "locations",
            l,
            "keyRings",
            r,
            "cryptoKeys",
            k,
            "cryptoKeyVersions" | "versions",
            v,
        ] => ([*p, *l, *r, *k], Some(*v)),
        _ => return Err(bad()),
    };
    if !base.iter().all(|s| segment_ok(s)) || version.is_some_and(|v| !segment_ok(v)) {
        return Err(bad());
    }
    Ok(GcpUri {
        project: base[0].to_owned(),
        location: base[1].to_owned(),
        key_ring: base[2].to_owned(),
        key: base[3].to_owned(),
        version: version.map(str::to_owned),
    })
}

// ---- credentials ------------------------------------------------------------------------------

#[derive(Deserialize)]
struct CredentialsFile {
    #[serde(rename = "type")]
    kind: String,
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

/// Gets an access token from the configured credentials.
async fn access_token(
    cfg: &KmsConfig,
    ctx: &Ctx,
    http_client: &reqwest::Client,
) -> Result<Secret, KmsError> {
    if let Some(t) = cfg.gcp.access_token.clone().filter(|t| !t.is_empty()) {
        return Ok(t);
    }
    let path = match &cfg.gcp.application_credentials {
        Some(p) => p.clone(),
        None => {
            let adc = cfg
                .home
                .as_ref()
                .map(|h| h.join(".config/gcloud/application_default_credentials.json"));
            match adc.filter(|p| p.exists()) {
                Some(p) => p,
                None => {
                    return Err(ctx.err(
                        "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account JSON file, or GOOGLE_OAUTH_ACCESS_TOKEN (the metadata server is not used by this build)",
                    ));
                }
            }
        }
    };
    let text = http::read_small(ctx, &path, "the Google credentials file")?;
    let creds: CredentialsFile = serde_json::from_slice(&text).map_err(|e| {
        ctx.err(format!(
            "the Google credentials file {} is not credentials JSON: {e}",
            path.display()
        ))
    })?;
    let (token_uri, form): (String, Vec<(&str, String)>) = match creds.kind.as_str() {
        "service_account" => {
            let email = creds
                .client_email
                .ok_or_else(|| ctx.err("the service-account file has no client_email"))?;
            let key_pem = creds
                .private_key
                .map(zeroize::Zeroizing::new)
                .ok_or_else(|| ctx.err("the service-account file has no private_key"))?;
            let token_uri = creds
                .token_uri
                .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
            let key = PrivateKey::from_pem(key_pem.as_bytes())
                .map_err(|e| ctx.caused("the service account's private key", e))?;
            if !matches!(key.key_type(), KeyType::Rsa { .. }) {
                return Err(ctx.err("the service account's private key is not an RSA key"));
            }
            let mut header = json!({ "alg": "RS256", "typ": "JWT" });
            if let Some(kid) = creds.private_key_id {
                header["kid"] = json!(kid);
            }
            let now = unix_now();
            let claims = json!({
                "iss": email,
                "scope": SCOPE,
                "aud": token_uri,
                "iat": now,
                "exp": now + 3600,
            });
            let signing_input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let sig = key
                .sign_message(SignatureScheme::RsaPkcs1Sha256, signing_input.as_bytes())
                .map_err(|e| ctx.caused("signing the token request", e))?;
            let assertion = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig));
            (
                token_uri,
                vec![
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned(),
                    ),
                    ("assertion", assertion),
                ],
            )
        }
        "authorized_user" => {
            let (Some(id), Some(secret), Some(refresh)) =
                (creds.client_id, creds.client_secret, creds.refresh_token)
            else {
                return Err(ctx.err(
                    "the authorized-user credentials need client_id, client_secret and refresh_token",
                ));
            };
            (
                creds
                    .token_uri
                    .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned()),
                vec![
                    ("grant_type", "refresh_token".to_owned()),
                    ("client_id", id),
                    ("client_secret", secret),
                    ("refresh_token", refresh),
                ],
            )
        }
        other => {
            return Err(ctx.err(format!(
                "credentials of type {other:?} are not supported (service_account or authorized_user)"
            )));
        }
    };
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    http::oauth_token(ctx, http_client, &token_uri, &pairs).await
}

// ---- the API ----------------------------------------------------------------------------------

struct GcpClient {
    api: BearerApi,
    uri: GcpUri,
    ctx: Ctx,
}

impl GcpClient {
    async fn new(uri_text: &str, cfg: &KmsConfig) -> Result<Self, KmsError> {
        let uri = parse_uri(uri_text)?;
        let ctx = Ctx::new(PROVIDER, uri_text);
        let mut base = cfg
            .gcp
            .endpoint
            .clone()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        if !base.ends_with('/') {
            base.push('/');
        }
        base.push_str("v1/");
        let mut api = BearerApi::new(cfg, ctx.clone(), base, None)?;
        api.set_token(access_token(cfg, &ctx, api.http()).await?);
        Ok(Self { api, uri, ctx })
    }

    /// A client for signing: same token, fresh connection pool.
    fn for_signing(&self, cfg: &KmsConfig) -> Result<Self, KmsError> {
        Ok(Self {
            api: self.api.for_signing(cfg)?,
            uri: self.uri.clone(),
            ctx: self.ctx.clone(),
        })
    }

    async fn call(
        &self,
        what: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Result<serde_json::Value, ApiError>, KmsError> {
        self.api.call(what, method, path, body).await
    }

    async fn call_ok(
        &self,
        what: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, KmsError> {
        self.api.call_ok(what, method, path, body).await
    }

    fn api_err(&self, what: &str, e: ApiError) -> KmsError {
        refused(&self.ctx, what, e)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyVersion {
    name: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    algorithm: String,
}

/// What a Cloud KMS algorithm means for cosign.
fn algorithm_scheme(alg: &str) -> Option<SignatureScheme> {
    match alg {
        "EC_SIGN_P256_SHA256" => Some(SignatureScheme::EcdsaP256Sha256),
        "EC_SIGN_P384_SHA384" => Some(SignatureScheme::EcdsaP384Sha384),
        "RSA_SIGN_PKCS1_2048_SHA256"
        | "RSA_SIGN_PKCS1_3072_SHA256"
        | "RSA_SIGN_PKCS1_4096_SHA256" => Some(SignatureScheme::RsaPkcs1Sha256),
        _ => None,
    }
}

/// The version to use: the named one, else the highest-numbered ENABLED one.
async fn resolve_version(client: &GcpClient) -> Result<Result<KeyVersion, ApiError>, KmsError> {
    let ctx = &client.ctx;
    let key = client.uri.key_name();
    if let Some(v) = &client.uri.version {
        let got = client
            .call(
                "reading the key version",
                reqwest::Method::GET,
                &format!("{key}/cryptoKeyVersions/{v}"),
                None,
            )
            .await?;
        return Ok(match got {
            Ok(value) => Ok(client.api.parse("reading the key version", value)?),
            Err(e) => Err(e),
        });
    }
    let mut best: Option<(u64, KeyVersion)> = None;
    let mut page_token = String::new();
    for _ in 0..20 {
        let mut path = format!("{key}/cryptoKeyVersions?filter=state%3DENABLED&pageSize=100");
        if !page_token.is_empty() {
            path.push_str("&pageToken=");
            path.push_str(
                &form_urlencoded::byte_serialize(page_token.as_bytes()).collect::<String>(),
            );
        }
        let page = match client
            .call(
                "listing the key versions",
                reqwest::Method::GET,
                &path,
                None,
            )
            .await?
        {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Page {
            #[serde(default)]
            crypto_key_versions: Vec<KeyVersion>,
            #[serde(default)]
            next_page_token: String,
        }
        let page: Page = client.api.parse("listing the key versions", page)?;
        for v in page.crypto_key_versions {
            if v.state != "ENABLED" {
                continue;
            }
            let n = v
                .name
                .rsplit('/')
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            if best.as_ref().is_none_or(|(b, _)| n > *b) {
                best = Some((n, v));
            }
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    match best {
        Some((_, v)) => Ok(Ok(v)),
        None => Err(ctx.err("the key has no ENABLED version")),
    }
}

/// Checks the version and fetches its public key.
async fn version_public_key(
    client: &GcpClient,
    version: &KeyVersion,
) -> Result<(SignatureScheme, PublicKey), KmsError> {
    let ctx = &client.ctx;
    if version.state != "ENABLED" {
        return Err(ctx.err(format!(
            "key version {} is {}, not ENABLED",
            version.name, version.state
        )));
    }
    let scheme = algorithm_scheme(&version.algorithm).ok_or_else(|| {
        ctx.err(format!(
            "algorithm {} is not supported by cosign (use EC_SIGN_P256_SHA256, EC_SIGN_P384_SHA384 or RSA_SIGN_PKCS1_*_SHA256)",
            version.algorithm
        ))
    })?;
    let got = client
        .call_ok(
            "fetching the public key",
            reqwest::Method::GET,
            &format!("{}/publicKey", version.name),
            None,
        )
        .await?;
    let pem = got
        .get("pem")
        .and_then(|p| p.as_str())
        .ok_or_else(|| ctx.err("fetching the public key: the answer has no pem"))?;
    if let Some(crc) = got.get("pemCrc32c").and_then(|c| c.as_str())
        && crc.parse::<u64>().ok() != Some(u64::from(crc32c(pem.as_bytes())))
    {
        return Err(
            ctx.err("fetching the public key: pemCrc32c does not match (corrupted in transit)")
        );
    }
    let public_key = PublicKey::from_pem(pem.as_bytes())
        .map_err(|e| ctx.caused("fetching the public key", e))?;
    if !scheme.fits(public_key.key_type()) {
        return Err(ctx.err(format!(
            "the public key is {} but the algorithm is {}",
            public_key.key_type(),
            version.algorithm
        )));
    }
    Ok((scheme, public_key))
}

/// An open Cloud KMS key version.
pub(crate) struct GcpSigner {
    client: GcpClient,
    version_name: String,
    scheme: SignatureScheme,
    public_key: PublicKey,
}

/// Opens the key: the key version and its public key.
pub(crate) async fn open(uri: &str, cfg: &KmsConfig) -> Result<GcpSigner, KmsError> {
    let client = GcpClient::new(uri, cfg).await?;
    let version = resolve_version(&client)
        .await?
        .map_err(|e| client.api_err("looking up the key", e))?;
    let (scheme, public_key) = version_public_key(&client, &version).await?;
    Ok(GcpSigner {
        client: client.for_signing(cfg)?,
        version_name: version.name,
        scheme,
        public_key,
    })
}

/// `generate-key-pair --kms`: an existing ENABLED version is used as it is (as sigstore does);
/// a missing key ring and key are created (`ASYMMETRIC_SIGN`, `EC_SIGN_P256_SHA256`); a key
/// with no enabled version gets a new version.
pub(crate) async fn create(uri: &str, cfg: &KmsConfig) -> Result<CreatedKey, KmsError> {
    let client = GcpClient::new(uri, cfg).await?;
    let ctx = client.ctx.clone();
    if client.uri.version.is_some() {
        let version = resolve_version(&client)
            .await?
            .map_err(|e| client.api_err("looking up the key", e))?;
        let (_, public_key) = version_public_key(&client, &version).await?;
        return Ok(CreatedKey {
            public_key,
            reference: uri.to_owned(),
            created: false,
        });
    }
    let key_name = client.uri.key_name();
    let key = client
        .call("reading the key", reqwest::Method::GET, &key_name, None)
        .await?;
    let new_version_name = match key {
        Ok(_) => {
            if let Ok(Ok(version)) = resolve_version(&client).await {
                let (_, public_key) = version_public_key(&client, &version).await?;
                return Ok(CreatedKey {
                    public_key,
                    reference: uri.to_owned(),
                    created: false,
                });
            }
            let created = client
                .call_ok(
                    "creating a key version",
                    reqwest::Method::POST,
                    &format!("{key_name}/cryptoKeyVersions"),
                    Some(json!({})),
                )
                .await?;
            created
                .get("name")
                .and_then(|n| n.as_str())
                .map(str::to_owned)
                .ok_or_else(|| ctx.err("creating a key version: the answer has no name"))?
        }
        Err(e) if e.status == 404 => {
            let ring = client.uri.key_ring_name();
            if let Err(e) = client
                .call("reading the key ring", reqwest::Method::GET, &ring, None)
                .await?
            {
                if e.status != 404 {
                    return Err(client.api_err("reading the key ring", e));
                }
                let made = client
                    .call(
                        "creating the key ring",
                        reqwest::Method::POST,
                        &format!(
                            "{}/keyRings?keyRingId={}",
                            client.uri.location_name(),
                            client.uri.key_ring
                        ),
                        Some(json!({})),
                    )
                    .await?;
                if let Err(e) = made
                    && e.status != 409
                {
                    return Err(client.api_err("creating the key ring", e));
                }
            }
            client
                .call_ok(
                    "creating the key",
                    reqwest::Method::POST,
                    &format!("{ring}/cryptoKeys?cryptoKeyId={}", client.uri.key),
                    Some(json!({
                        "purpose": "ASYMMETRIC_SIGN",
                        "versionTemplate": { "algorithm": "EC_SIGN_P256_SHA256" },
                    })),
                )
                .await?;
            format!("{key_name}/cryptoKeyVersions/1")
        }
        Err(e) => return Err(client.api_err("reading the key", e)),
    };
    // Asymmetric versions start PENDING_GENERATION; wait (bounded) until ENABLED.
    let mut delay = Duration::from_millis(100);
    for _ in 0..30 {
        let got = client
            .call_ok(
                "waiting for the new key version",
                reqwest::Method::GET,
                &new_version_name,
                None,
            )
            .await?;
        let version: KeyVersion = client.api.parse("reading the new key version", got)?;
        match version.state.as_str() {
            "ENABLED" => {
                let (_, public_key) = version_public_key(&client, &version).await?;
                return Ok(CreatedKey {
                    public_key,
                    reference: uri.to_owned(),
                    created: true,
                });
            }
            "PENDING_GENERATION" | "PENDING_IMPORT" => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            other => {
                return Err(ctx.err(format!("the new key version is {other}")));
            }
        }
    }
    Err(ctx.err("the new key version did not become ENABLED in time"))
}

impl RestKey for GcpSigner {
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
            if scheme != self.scheme || scheme.prehash() != Some(digest.algorithm()) {
                return Err(ctx.err(format!(
                    "cannot sign a {} digest with {scheme}: the key version signs {}",
                    digest.algorithm().name(),
                    self.scheme
                )));
            }
            let field = match digest.algorithm() {
                HashAlgorithm::Sha256 => "sha256",
                HashAlgorithm::Sha384 => "sha384",
                HashAlgorithm::Sha512 => "sha512",
            };
            let body = json!({
                "digest": { field: STANDARD.encode(digest.as_bytes()) },
                "digestCrc32c": crc32c(digest.as_bytes()).to_string(),
            });
            let got = self
                .client
                .call_ok(
                    "signing",
                    reqwest::Method::POST,
                    &format!("{}:asymmetricSign", self.version_name),
                    Some(body),
                )
                .await?;
            if got.get("verifiedDigestCrc32c").and_then(|v| v.as_bool()) != Some(true) {
                return Err(ctx.err(
                    "signing: the server did not confirm the digest's checksum (verifiedDigestCrc32c)",
                ));
            }
            let sig = base64_field(
                ctx,
                "signing: the signature",
                &STANDARD,
                got.get("signature")
                    .and_then(|s| s.as_str())
                    .ok_or_else(|| ctx.err("signing: the answer has no signature"))?,
            )?;
            let crc = got
                .get("signatureCrc32c")
                .and_then(|c| c.as_str())
                .and_then(|c| c.parse::<u64>().ok());
            if crc != Some(u64::from(crc32c(&sig))) {
                return Err(ctx.err(
                    "signing: signatureCrc32c does not match the signature (corrupted in transit)",
                ));
            }
            Ok(sig)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uris() {
        let u = parse_uri("gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k").unwrap();
        assert_eq!(
            u.key_name(),
            "projects/p/locations/global/keyRings/r/cryptoKeys/k"
        );
        assert_eq!(u.version, None);
        let u = parse_uri(
            "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/3",
        )
        .unwrap();
        assert_eq!(u.version.as_deref(), Some("3"));
        let u = parse_uri("gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/versions/2")
            .unwrap();
        assert_eq!(u.version.as_deref(), Some("2"));
        for bad in [
            "gcpkms://projects/p",
            "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/",
            "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/x/1",
            "gcpkms://projects/../locations/l/keyRings/r/cryptoKeys/k",
        ] {
            assert!(
                parse_uri(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("malformed key URI"),
                "{bad}"
            );
        }
    }
}
