//! Azure Key Vault: `azurekms://<vault host>/<key>[/<version>]` (the vault is `https://<host>/`).
//!
//! The public REST API (`api-version=7.4`): `GET keys/<key>[/<version>]` gives the JWK (the
//! public key, and in `kid` the version that a versionless URI resolves to, which signing then
//! uses); `POST keys/<key>/<version>/sign` with `alg` ES256/ES384/ES512/RS256 and the digest
//! (base64url); `POST keys/<key>/create` for `generate-key-pair --kms`. ECDSA signatures come
//! back as JWS `r||s` and are re-encoded as ASN.1 DER, the form cosign stores.
//! Credentials: a service principal's client secret (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
//! `AZURE_CLIENT_SECRET`) exchanged at `AZURE_AUTHORITY_HOST` (default
//! `https://login.microsoftonline.com/`) for a `https://vault.azure.net/.default` token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cosign_crypto::{KeyType, PublicKey, SignatureScheme};
use cosign_types::Digest;
use serde::Deserialize;
use serde_json::json;

use crate::config::{KmsConfig, Secret};
use crate::encoding::{self, Curve};
use crate::http::{self, Ctx};
use crate::rest::{BearerApi, RestKey, base64_field, refused};
use crate::{ApiError, BoxFuture, CreatedKey, KmsError};

const PROVIDER: &str = "Azure Key Vault";
const API_QUERY: &str = "api-version=7.4";
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com/";
const VAULT_SCOPE: &str = "https://vault.azure.net/.default";

/// A parsed `azurekms://` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AzureUri {
    pub vault_host: String,
    pub key: String,
    pub version: Option<String>,
}

pub(crate) fn parse_uri(uri: &str) -> Result<AzureUri, KmsError> {
    let bad = || {
        Ctx::new(PROVIDER, uri)
            .err("malformed key URI: expected azurekms://<vault host>/<key name>[/<version>]")
    };
    let rest = uri.strip_prefix("azurekms://").ok_or_else(bad)?;
    let parts: Vec<&str> = rest.split('/').collect();
    let (host, key, version) = match parts.as_slice() {
        [h, k] => (*h, *k, None),
        [h, k, v] => (*h, *k, Some(*v)),
        _ => return Err(bad()),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    // Key Vault names: letters, digits and dashes.
    let name_ok =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !host_ok || !name_ok(key) || version.is_some_and(|v| !name_ok(v)) {
        return Err(bad());
    }
    Ok(AzureUri {
        vault_host: host.to_owned(),
        key: key.to_owned(),
        version: version.map(str::to_owned),
    })
}

async fn access_token(
    cfg: &KmsConfig,
    ctx: &Ctx,
    http_client: &reqwest::Client,
) -> Result<Secret, KmsError> {
    let a = &cfg.azure;
    let non_empty = |s: &Option<String>| s.clone().filter(|v| !v.is_empty());
    let (Some(tenant), Some(client_id), Some(secret)) = (
        non_empty(&a.tenant_id),
        non_empty(&a.client_id),
        a.client_secret.clone().filter(|s| !s.is_empty()),
    ) else {
        return Err(ctx.err(
            "no Azure credentials: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (managed identity, workload identity and the Azure CLI are not supported by this build)",
        ));
    };
    if !tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
    {
        return Err(ctx.err("AZURE_TENANT_ID is not a tenant ID or domain"));
    }
    let mut authority =
        non_empty(&a.authority_host).unwrap_or_else(|| DEFAULT_AUTHORITY.to_owned());
    if !authority.ends_with('/') {
        authority.push('/');
    }
    let url = format!("{authority}{tenant}/oauth2/v2.0/token");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", secret.expose()),
        ("scope", VAULT_SCOPE),
    ];
    http::oauth_token(ctx, http_client, &url, &form).await
}

struct AzureClient {
    api: BearerApi,
    uri: AzureUri,
    ctx: Ctx,
}

#[derive(Deserialize)]
struct Jwk {
    kid: String,
    kty: String,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
    #[serde(default)]
    key_ops: Vec<String>,
}

#[derive(Deserialize)]
struct KeyBundle {
    key: Jwk,
    #[serde(default)]
    attributes: Option<Attributes>,
}

#[derive(Deserialize)]
struct Attributes {
    enabled: Option<bool>,
}

impl AzureClient {
    async fn new(uri_text: &str, cfg: &KmsConfig) -> Result<Self, KmsError> {
        let uri = parse_uri(uri_text)?;
        let ctx = Ctx::new(PROVIDER, uri_text);
        let base = format!("https://{}/", uri.vault_host);
        let mut api = BearerApi::new(cfg, ctx.clone(), base, Some(API_QUERY))?;
        api.set_token(access_token(cfg, &ctx, api.http()).await?);
        Ok(Self { api, uri, ctx })
    }

    fn for_signing(&self, cfg: &KmsConfig) -> Result<Self, KmsError> {
        Ok(Self {
            api: self.api.for_signing(cfg)?,
            uri: self.uri.clone(),
            ctx: self.ctx.clone(),
        })
    }

    fn key_path(&self) -> String {
        match &self.uri.version {
            Some(v) => format!("keys/{}/{v}", self.uri.key),
            None => format!("keys/{}", self.uri.key),
        }
    }
}

fn b64url(ctx: &Ctx, field: &str, v: &Option<String>) -> Result<Vec<u8>, KmsError> {
    let text = v
        .as_deref()
        .ok_or_else(|| ctx.err(format!("the key's JWK has no {field}")))?;
    base64_field(
        ctx,
        &format!("the key's JWK field {field}"),
        &URL_SAFE_NO_PAD,
        text.trim_end_matches('='),
    )
}

/// The public key of a JWK, and the version its `kid` names.
fn jwk_public_key(ctx: &Ctx, bundle: &KeyBundle) -> Result<(PublicKey, String), KmsError> {
    if bundle.attributes.as_ref().and_then(|a| a.enabled) == Some(false) {
        return Err(ctx.err("the key is disabled"));
    }
    let jwk = &bundle.key;
    if !jwk.key_ops.is_empty() && !jwk.key_ops.iter().any(|o| o == "sign") {
        return Err(ctx.err(format!(
            "the key does not allow the sign operation (key_ops: {})",
            jwk.key_ops.join(", ")
        )));
    }
    let public_key = match jwk.kty.as_str() {
        "EC" | "EC-HSM" => {
            let curve = match jwk.crv.as_deref() {
                Some("P-256") => Curve::P256,
                Some("P-384") => Curve::P384,
                Some("P-521") => Curve::P521,
                other => {
                    return Err(ctx.err(format!(
                        "curve {} is not supported by cosign (P-256, P-384 or P-521)",
                        other.unwrap_or("(none)")
                    )));
                }
            };
            let x = b64url(ctx, "x", &jwk.x)?;
            let y = b64url(ctx, "y", &jwk.y)?;
            let der = encoding::ec_spki(curve, &x, &y)
                .ok_or_else(|| ctx.err("the key's JWK coordinates are too long"))?;
            PublicKey::from_spki_der(&der).map_err(|e| ctx.caused("the key's JWK", e))?
        }
        "RSA" | "RSA-HSM" => {
            let n = b64url(ctx, "n", &jwk.n)?;
            let e = b64url(ctx, "e", &jwk.e)?;
            PublicKey::from_rsa_pkcs1_der(&encoding::rsa_pkcs1(&n, &e))
                .map_err(|e| ctx.caused("the key's JWK", e))?
        }
        other => {
            return Err(ctx.err(format!(
                "key type {other} cannot sign for cosign (EC or RSA keys only)"
            )));
        }
    };
    let version = jwk
        .kid
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|v| !v.is_empty() && !jwk.kid.ends_with(&format!("/keys/{v}")))
        .ok_or_else(|| ctx.err(format!("the key's kid {:?} names no version", jwk.kid)))?;
    Ok((public_key, version.to_owned()))
}

fn jws_alg(scheme: SignatureScheme) -> Option<&'static str> {
    match scheme {
        SignatureScheme::EcdsaP256Sha256 => Some("ES256"),
        SignatureScheme::EcdsaP384Sha384 => Some("ES384"),
        SignatureScheme::EcdsaP521Sha512 => Some("ES512"),
        SignatureScheme::RsaPkcs1Sha256 => Some("RS256"),
        _ => None,
    }
}

/// An open Key Vault key version.
pub(crate) struct AzureSigner {
    client: AzureClient,
    version: String,
    public_key: PublicKey,
}

async fn read_key(client: &AzureClient) -> Result<Result<(PublicKey, String), ApiError>, KmsError> {
    let what = "reading the key";
    match client
        .api
        .call(what, reqwest::Method::GET, &client.key_path(), None)
        .await?
    {
        Ok(v) => {
            let bundle: KeyBundle = client.api.parse(what, v)?;
            jwk_public_key(&client.ctx, &bundle).map(Ok)
        }
        Err(e) => Ok(Err(e)),
    }
}

/// Opens the key: one read of the key (JWK and resolved version).
pub(crate) async fn open(uri: &str, cfg: &KmsConfig) -> Result<AzureSigner, KmsError> {
    let client = AzureClient::new(uri, cfg).await?;
    let (public_key, version) = read_key(&client)
        .await?
        .map_err(|e| refused(&client.ctx, "reading the key", e))?;
    Ok(AzureSigner {
        client: client.for_signing(cfg)?,
        version,
        public_key,
    })
}

/// `generate-key-pair --kms`: an existing key is used as it is (as sigstore does), else an EC
/// P-256 key with `sign`/`verify` operations is created.
pub(crate) async fn create(uri: &str, cfg: &KmsConfig) -> Result<CreatedKey, KmsError> {
    let client = AzureClient::new(uri, cfg).await?;
    match read_key(&client).await? {
        Ok((public_key, _)) => {
            return Ok(CreatedKey {
                public_key,
                reference: uri.to_owned(),
                created: false,
            });
        }
        Err(e) if e.status == 404 && client.uri.version.is_none() => {}
        Err(e) => return Err(refused(&client.ctx, "reading the key", e)),
    }
    let what = "creating the key";
    let made = client
        .api
        .call_ok(
            what,
            reqwest::Method::POST,
            &format!("keys/{}/create", client.uri.key),
            Some(json!({ "kty": "EC", "crv": "P-256", "key_ops": ["sign", "verify"] })),
        )
        .await?;
    let bundle: KeyBundle = client.api.parse(what, made)?;
    let (public_key, _) = jwk_public_key(&client.ctx, &bundle)?;
    if public_key.key_type() != KeyType::EcdsaP256 {
        return Err(client.ctx.err("the created key is not an EC P-256 key"));
    }
    Ok(CreatedKey {
        public_key,
        reference: uri.to_owned(),
        created: true,
    })
}

impl RestKey for AzureSigner {
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
            let c = &self.client;
            let ctx = &c.ctx;
            let alg = jws_alg(scheme)
                .filter(|_| {
                    scheme.fits(self.public_key.key_type())
                        && scheme.prehash() == Some(digest.algorithm())
                })
                .ok_or_else(|| {
                    ctx.err(format!(
                        "cannot sign with {scheme} using a {} key",
                        self.public_key.key_type()
                    ))
                })?;
            let what = "signing";
            let got = c
                .api
                .call_ok(
                    what,
                    reqwest::Method::POST,
                    &format!("keys/{}/{}/sign", c.uri.key, self.version),
                    Some(json!({ "alg": alg, "value": URL_SAFE_NO_PAD.encode(digest.as_bytes()) })),
                )
                .await?;
            let value = got
                .get("value")
                .and_then(|v| v.as_str())
                .ok_or_else(|| ctx.err("signing: the answer has no value"))?;
            let raw = base64_field(
                ctx,
                "signing: the signature",
                &URL_SAFE_NO_PAD,
                value.trim_end_matches('='),
            )?;
            if alg.starts_with("ES") {
                let curve_len = match scheme {
                    SignatureScheme::EcdsaP256Sha256 => 32,
                    SignatureScheme::EcdsaP384Sha384 => 48,
                    _ => 66,
                };
                if raw.len() != 2 * curve_len {
                    return Err(ctx.err(format!(
                        "signing: an {alg} signature is {} bytes, got {}",
                        2 * curve_len,
                        raw.len()
                    )));
                }
                encoding::ecdsa_raw_to_der(&raw)
                    .ok_or_else(|| ctx.err("signing: malformed ECDSA signature"))
            } else {
                Ok(raw)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uris() {
        let u = parse_uri("azurekms://myvault.vault.azure.net/mykey").unwrap();
        assert_eq!(u.vault_host, "myvault.vault.azure.net");
        assert_eq!(u.key, "mykey");
        assert_eq!(u.version, None);
        let u = parse_uri("azurekms://127.0.0.1:8443/k-1/0123abcd").unwrap();
        assert_eq!(u.version.as_deref(), Some("0123abcd"));
        for bad in [
            "azurekms://",
            "azurekms://vault/",
            "azurekms://vault",
            "azurekms://vault/k/v/x",
            "azurekms://vault/k_x",
            "azurekms://va ult/k",
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
