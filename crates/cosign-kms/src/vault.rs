//! HashiCorp Vault / OpenBao transit: `hashivault://KEY` and `openbao://KEY`.
//!
//! `GET /v1/<path>/keys/<key>` gives the key type and the public key of every version; signing is
//! `POST /v1/<path>/sign/<key>/<hash>` with `prehashed: true` (and `signature_algorithm:
//! pkcs1v15` for RSA), pinned to the version whose public key was fetched, so a key rotated
//! while cosign runs cannot produce a signature for a key it did not export. Address and token:
//! `VAULT_ADDR`/`BAO_ADDR`, `VAULT_TOKEN`/`BAO_TOKEN` (else `~/.vault-token`); the engine's
//! mount path: `TRANSIT_SECRET_ENGINE_PATH` (default `transit`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{KeyType, PublicKey, SignatureScheme};
use cosign_types::{Digest, HashAlgorithm};
use serde::Deserialize;
use serde_json::json;

use crate::config::{KmsConfig, Secret};
use crate::http::{self, Ctx, Tls};
use crate::rest::{RestKey, base64_field, refused};
use crate::{ApiError, BoxFuture, CreatedKey, KmsError};

const PROVIDER: &str = "HashiCorp Vault transit";
const PROVIDER_BAO: &str = "OpenBao transit";

/// The key name of a `hashivault://` / `openbao://` URI (word characters, `-`, `.`).
pub(crate) fn parse_uri(uri: &str) -> Result<(bool, String), KmsError> {
    let (bao, rest) = if let Some(r) = uri.strip_prefix("openbao://") {
        (true, r)
    } else if let Some(r) = uri.strip_prefix("hashivault://") {
        (false, r)
    } else {
        return Err(Ctx::new(PROVIDER, uri).err("not a hashivault:// or openbao:// URI"));
    };
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ok = !rest.is_empty()
        && rest.chars().all(|c| word(c) || c == '-' || c == '.')
        && rest.starts_with(word)
        && rest.ends_with(word);
    if !ok {
        let provider = if bao { PROVIDER_BAO } else { PROVIDER };
        return Err(Ctx::new(provider, uri).err(
            "malformed key URI: expected hashivault://KEY or openbao://KEY (letters, digits, _, - and .)",
        ));
    }
    Ok((bao, rest.to_owned()))
}

struct VaultClient {
    http: reqwest::Client,
    addr: String,
    token: Secret,
    namespace: Option<String>,
    path: String,
    key: String,
    ctx: Ctx,
}

#[derive(Deserialize)]
struct KeyInfo {
    #[serde(rename = "type")]
    key_type: String,
    latest_version: u64,
    #[serde(default)]
    keys: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

impl VaultClient {
    fn new(uri: &str, cfg: &KmsConfig) -> Result<Self, KmsError> {
        let (bao, key) = parse_uri(uri)?;
        let ctx = Ctx::new(if bao { PROVIDER_BAO } else { PROVIDER }, uri);
        let v = &cfg.vault;
        let non_empty = |s: &Option<String>| s.clone().filter(|x| !x.is_empty());
        let (first_addr, second_addr) = if bao {
            (&v.bao_addr, &v.vault_addr)
        } else {
            (&v.vault_addr, &v.bao_addr)
        };
        let addr = non_empty(first_addr)
            .or_else(|| non_empty(second_addr))
            .ok_or_else(|| ctx.err("no server address: set VAULT_ADDR (or BAO_ADDR)"))?;
        let (first_token, second_token) = if bao {
            (&v.bao_token, &v.vault_token)
        } else {
            (&v.vault_token, &v.bao_token)
        };
        let token = match first_token
            .clone()
            .filter(|t| !t.is_empty())
            .or_else(|| second_token.clone().filter(|t| !t.is_empty()))
        {
            Some(t) => t,
            None => {
                let file = cfg.home.as_ref().map(|h| h.join(".vault-token"));
                match file.filter(|f| f.exists()) {
                    Some(f) => {
                        let text = http::read_small(&ctx, &f, "the token file")?;
                        let t = String::from_utf8_lossy(&text).trim().to_owned();
                        if t.is_empty() {
                            return Err(ctx.err(format!("the token file {} is empty", f.display())));
                        }
                        Secret::new(t)
                    }
                    None => {
                        return Err(ctx.err(
                            "no token: set VAULT_TOKEN (or BAO_TOKEN), or log in so that ~/.vault-token exists",
                        ));
                    }
                }
            }
        };
        let path = non_empty(&v.transit_path)
            .unwrap_or_else(|| "transit".to_owned())
            .trim_matches('/')
            .to_owned();
        if path.is_empty()
            || path
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(ctx.err(format!(
                "TRANSIT_SECRET_ENGINE_PATH {path:?} is not a mount path"
            )));
        }
        let addr = addr.trim_end_matches('/').to_owned();
        if !(addr.starts_with("http://") || addr.starts_with("https://")) {
            return Err(ctx.err(format!(
                "server address {addr:?} must start with http:// or https://"
            )));
        }
        let mut tls = Tls::default();
        if let Some(ca) = &v.ca_cert {
            tls.ca_file(&ctx, ca, "VAULT_CACERT")?;
        }
        let http = http::client(cfg, &ctx, &tls)?;
        Ok(Self {
            http,
            addr,
            token,
            namespace: non_empty(&v.namespace),
            path,
            key,
            ctx,
        })
    }

    fn request(&self, method: reqwest::Method, rel: &str) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .request(method, format!("{}/v1/{}/{rel}", self.addr, self.path))
            .header("X-Vault-Token", self.token.expose())
            .header("X-Vault-Request", "true");
        if let Some(ns) = &self.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        req
    }

    fn failure(&self, what: &str, resp: &http::Response) -> KmsError {
        let e = ApiError::from_response(resp);
        if e.status == 404 {
            let what = format!(
                "{what}: key {:?} not found under /v1/{}/",
                self.key, self.path
            );
            return self.ctx.caused(what, e);
        }
        refused(&self.ctx, what, e)
    }

    async fn key_info(&self) -> Result<KeyInfo, KmsError> {
        let what = "reading the key";
        let resp = http::send(
            &self.ctx,
            what,
            self.request(reqwest::Method::GET, &format!("keys/{}", self.key)),
        )
        .await?;
        if !resp.status.is_success() {
            return Err(self.failure(what, &resp));
        }
        Ok(resp.json::<Data<KeyInfo>>(&self.ctx, what)?.data)
    }
}

/// The key type a transit key type means for cosign, and the name of its signing hash.
fn transit_type(t: &str) -> Option<KeyType> {
    match t {
        "ecdsa-p256" => Some(KeyType::EcdsaP256),
        "ecdsa-p384" => Some(KeyType::EcdsaP384),
        "ecdsa-p521" => Some(KeyType::EcdsaP521),
        "rsa-2048" => Some(KeyType::Rsa { bits: 2048 }),
        "rsa-3072" => Some(KeyType::Rsa { bits: 3072 }),
        "rsa-4096" => Some(KeyType::Rsa { bits: 4096 }),
        _ => None,
    }
}

fn hash_name(alg: HashAlgorithm) -> &'static str {
    match alg {
        HashAlgorithm::Sha256 => "sha2-256",
        HashAlgorithm::Sha384 => "sha2-384",
        HashAlgorithm::Sha512 => "sha2-512",
    }
}

/// An open transit key.
pub(crate) struct VaultSigner {
    client: VaultClient,
    version: u64,
    public_key: PublicKey,
}

fn public_key_of(client: &VaultClient, info: &KeyInfo) -> Result<(u64, PublicKey), KmsError> {
    let ctx = &client.ctx;
    let key_type = transit_type(&info.key_type).ok_or_else(|| {
        ctx.err(format!(
            "transit key type {} cannot sign for cosign (use ecdsa-p256, ecdsa-p384, ecdsa-p521 or rsa-2048/3072/4096; ed25519 transit keys cannot sign a prehashed digest)",
            info.key_type
        ))
    })?;
    let version = info.latest_version;
    let pem = info
        .keys
        .get(&version.to_string())
        .and_then(|k| k.get("public_key"))
        .and_then(|p| p.as_str())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ctx.err(format!("version {version} of the key has no public key")))?;
    let public_key = PublicKey::from_pem(pem.as_bytes())
        .map_err(|e| ctx.caused(format!("the public key of version {version}"), e))?;
    if public_key.key_type() != key_type {
        return Err(ctx.err(format!(
            "the public key is {} but the key type is {}",
            public_key.key_type(),
            info.key_type
        )));
    }
    Ok((version, public_key))
}

/// Opens the key: one read of the key, the latest version's public key.
pub(crate) async fn open(uri: &str, cfg: &KmsConfig) -> Result<VaultSigner, KmsError> {
    let client = VaultClient::new(uri, cfg)?;
    let info = client.key_info().await?;
    let (version, public_key) = public_key_of(&client, &info)?;
    Ok(VaultSigner {
        // A fresh connection pool for the signing runtime.
        client: VaultClient::new(uri, cfg)?,
        version,
        public_key,
    })
}

/// Creates an `ecdsa-p256` transit key (an existing key of that name is kept as it is).
pub(crate) async fn create(uri: &str, cfg: &KmsConfig) -> Result<CreatedKey, KmsError> {
    let client = VaultClient::new(uri, cfg)?;
    let what = "creating the key";
    let resp = http::send(
        &client.ctx,
        what,
        client
            .request(reqwest::Method::POST, &format!("keys/{}", client.key))
            .header("Content-Type", "application/json")
            .body(json!({ "type": "ecdsa-p256" }).to_string()),
    )
    .await?;
    if !resp.status.is_success() {
        return Err(client.failure(what, &resp));
    }
    let info = client.key_info().await?;
    let (_, public_key) = public_key_of(&client, &info)?;
    Ok(CreatedKey {
        public_key,
        reference: uri.to_owned(),
        created: true,
    })
}

impl RestKey for VaultSigner {
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
            let alg = scheme
                .prehash()
                .filter(|a| scheme.fits(self.public_key.key_type()) && *a == digest.algorithm())
                .ok_or_else(|| {
                    ctx.err(format!(
                        "cannot sign a {} digest with {scheme} using a {} key",
                        digest.algorithm().name(),
                        self.public_key.key_type()
                    ))
                })?;
            let mut body = json!({
                "input": STANDARD.encode(digest.as_bytes()),
                "prehashed": true,
                "key_version": self.version,
            });
            if matches!(scheme, SignatureScheme::RsaPkcs1Sha256) {
                body["signature_algorithm"] = json!("pkcs1v15");
            }
            let what = "signing";
            let resp = http::send(
                ctx,
                what,
                c.request(
                    reqwest::Method::POST,
                    &format!("sign/{}/{}", c.key, hash_name(alg)),
                )
                .header("Content-Type", "application/json")
                .body(body.to_string()),
            )
            .await?;
            if !resp.status.is_success() {
                return Err(c.failure(what, &resp));
            }
            #[derive(Deserialize)]
            struct Signed {
                signature: String,
            }
            let signed = resp.json::<Data<Signed>>(ctx, what)?.data.signature;
            let prefix = format!("vault:v{}:", self.version);
            let b64 = signed.strip_prefix(&prefix).ok_or_else(|| {
                ctx.err(format!(
                    "signing: expected a signature starting {prefix:?}, got {:?}",
                    signed.chars().take(16).collect::<String>()
                ))
            })?;
            base64_field(ctx, "signing: the signature", &STANDARD, b64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_key_names() {
        assert_eq!(
            parse_uri("hashivault://cosign-test").unwrap(),
            (false, "cosign-test".to_owned())
        );
        assert_eq!(
            parse_uri("openbao://a.b_c").unwrap(),
            (true, "a.b_c".to_owned())
        );
        for bad in [
            "hashivault://",
            "hashivault://a/b",
            "hashivault://-a",
            "hashivault://a b",
            "openbao://../x",
        ] {
            let e = parse_uri(bad).unwrap_err().to_string();
            assert!(e.contains("malformed key URI"), "{e}");
        }
    }
}
