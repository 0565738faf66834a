//! HTTP for the OIDC flows: capped bodies, the discovery document, the JWKS and ID token
//! verification (what go-oidc's verifier checks: signature by a JWKS key, `iss`, `aud`, `exp`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::OidcError;
use super::token::{IdentityToken, sanitize, split_jws};

/// The most any OIDC answer may hold (discovery, JWKS, token responses).
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// The parts of an OpenID provider's discovery document the flows use.
#[derive(Clone, Debug, Deserialize)]
pub struct Discovery {
    /// `issuer`: must equal the issuer URL asked for.
    pub issuer: String,
    /// `authorization_endpoint`.
    #[serde(default)]
    pub authorization_endpoint: String,
    /// `token_endpoint`.
    #[serde(default)]
    pub token_endpoint: String,
    /// `jwks_uri`.
    #[serde(default)]
    pub jwks_uri: String,
    /// `device_authorization_endpoint`, if the provider has one.
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// `code_challenge_methods_supported`.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
}

/// A status and a body read up to [`MAX_RESPONSE_BYTES`].
pub(crate) struct Answer {
    pub status: reqwest::StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON of type `T`; `what` names the answer in errors.
    pub fn json<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<T, OidcError> {
        serde_json::from_slice(&self.body).map_err(|e| OidcError::BadResponse {
            what: what.to_owned(),
            detail: format!("not the expected JSON ({})", sanitize(&e.to_string())),
        })
    }

    /// An error for a non-success answer, with the OAuth `error` / `error_description` or the
    /// start of the body (tokens redacted).
    pub fn status_error(&self, what: &str) -> OidcError {
        let detail = match serde_json::from_slice::<OAuthError>(&self.body) {
            Ok(e) if !e.error.is_empty() => match e.error_description {
                Some(d) if !d.is_empty() => format!("{}: {}", e.error, d),
                _ => e.error,
            },
            _ => String::from_utf8_lossy(&self.body).into_owned(),
        };
        OidcError::BadResponse {
            what: what.to_owned(),
            detail: format!("{}: {}", self.status, sanitize(detail.trim())),
        }
    }
}

/// An OAuth 2.0 error answer (RFC 6749 §5.2).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct OAuthError {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// The HTTP client of the flows (rustls, no cookies, follows no redirects).
pub(crate) fn client() -> Result<reqwest::Client, OidcError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| OidcError::Http {
            what: "the HTTP client".into(),
            detail: e.to_string(),
        })
}

/// Sends `request` and reads the answer, refusing bodies over [`MAX_RESPONSE_BYTES`].
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    what: &str,
) -> Result<Answer, OidcError> {
    let http_error = |e: reqwest::Error| OidcError::Http {
        what: what.to_owned(),
        detail: sanitize(&e.without_url().to_string()),
    };
    let mut response = request.send().await.map_err(http_error)?;
    let status = response.status();
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large(what));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http_error)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large(what));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer { status, body })
}

fn too_large(what: &str) -> OidcError {
    OidcError::BadResponse {
        what: what.to_owned(),
        detail: format!("the answer is over {MAX_RESPONSE_BYTES} bytes"),
    }
}

/// A form-encoded POST body.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// POSTs a form.
pub(crate) async fn post_form(
    client: &reqwest::Client,
    url: &str,
    pairs: &[(&str, &str)],
    what: &str,
) -> Result<Answer, OidcError> {
    let request = client
        .post(url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(reqwest::header::ACCEPT, "application/json")
        .body(form(pairs));
    send(request, what).await
}

/// Fetches `{issuer}/.well-known/openid-configuration` and checks its `issuer` (go-oidc's
/// `NewProvider`).
pub async fn discover(client: &reqwest::Client, issuer: &str) -> Result<Discovery, OidcError> {
    let what = "the OIDC discovery document";
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let answer = send(client.get(url), what).await?;
    if !answer.status.is_success() {
        return Err(answer.status_error(what));
    }
    let discovery: Discovery = answer.json(what)?;
    if discovery.issuer != issuer {
        return Err(OidcError::BadResponse {
            what: what.into(),
            detail: format!(
                "issuer did not match the issuer returned by provider, expected {issuer:?} got {:?}",
                sanitize(&discovery.issuer)
            ),
        });
    }
    Ok(discovery)
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

/// What [`verify_id_token`] checks besides the signature.
pub(crate) struct Expect<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
    pub now: i64,
}

fn invalid(detail: impl Into<String>) -> OidcError {
    OidcError::InvalidToken(detail.into())
}

/// Verifies an ID token from a flow: the signature by a key of the provider's JWKS (RS256/384/512,
/// PS256/384/512, ES256/384), then `iss`, `aud` (holds the client id), `exp`, and `nonce`.
pub(crate) async fn verify_id_token(
    client: &reqwest::Client,
    discovery: &Discovery,
    raw: &str,
    expect: &Expect<'_>,
) -> Result<IdentityToken, OidcError> {
    let (header, header_b64, payload_b64, signature_b64) =
        split_jws(raw.trim()).ok_or(OidcError::NotAJwt)?;
    let token = IdentityToken::parse(raw)?;
    let what = "the OIDC provider's keys (JWKS)";
    let answer = send(client.get(&discovery.jwks_uri), what).await?;
    if !answer.status.is_success() {
        return Err(answer.status_error(what));
    }
    let jwks: Jwks = answer.json(what)?;
    let alg = header["alg"].as_str().unwrap_or_default();
    let kid = header.get("kid").and_then(|k| k.as_str());
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| invalid("the signature is not base64url"))?;
    let message = format!("{header_b64}.{payload_b64}");
    let verified = jwks
        .keys
        .iter()
        .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
        .any(|k| verify_with(k, alg, message.as_bytes(), &signature));
    if !verified {
        return Err(invalid(format!(
            "the signature ({}) does not verify with the provider's keys",
            sanitize(alg)
        )));
    }
    let claims = token.claims();
    if claims.issuer != expect.issuer {
        return Err(invalid(format!(
            "id token issued by a different provider, expected {:?} got {:?}",
            expect.issuer,
            sanitize(&claims.issuer)
        )));
    }
    if !claims.audience.iter().any(|a| a == expect.client_id) {
        return Err(invalid(format!(
            "expected audience {:?} got {:?}",
            expect.client_id,
            claims
                .audience
                .iter()
                .map(|a| sanitize(a))
                .collect::<Vec<_>>()
        )));
    }
    token.check_not_expired(expect.now)?;
    if let Some(nonce) = expect.nonce
        && claims.nonce.as_deref() != Some(nonce)
    {
        return Err(invalid("nonce does not match value sent"));
    }
    Ok(token)
}

fn verify_with(key: &Jwk, alg: &str, message: &[u8], signature: &[u8]) -> bool {
    use aws_lc_rs::signature as sig;
    let b64 = |v: &Option<String>| v.as_deref().and_then(|s| URL_SAFE_NO_PAD.decode(s).ok());
    match (key.kty.as_str(), alg) {
        ("RSA", "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512") => {
            let (Some(n), Some(e)) = (b64(&key.n), b64(&key.e)) else {
                return false;
            };
            let params: &sig::RsaParameters = match alg {
                "RS256" => &sig::RSA_PKCS1_2048_8192_SHA256,
                "RS384" => &sig::RSA_PKCS1_2048_8192_SHA384,
                "RS512" => &sig::RSA_PKCS1_2048_8192_SHA512,
                "PS256" => &sig::RSA_PSS_2048_8192_SHA256,
                "PS384" => &sig::RSA_PSS_2048_8192_SHA384,
                _ => &sig::RSA_PSS_2048_8192_SHA512,
            };
            sig::RsaPublicKeyComponents { n, e }
                .verify(params, message, signature)
                .is_ok()
        }
        ("EC", "ES256" | "ES384") => {
            let (Some(x), Some(y)) = (b64(&key.x), b64(&key.y)) else {
                return false;
            };
            let (algorithm, crv, len): (&sig::EcdsaVerificationAlgorithm, _, _) = match alg {
                "ES256" => (&sig::ECDSA_P256_SHA256_FIXED, "P-256", 32),
                _ => (&sig::ECDSA_P384_SHA384_FIXED, "P-384", 48),
            };
            if key.crv.as_deref() != Some(crv) || x.len() != len || y.len() != len {
                return false;
            }
            let mut point = vec![4u8];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            sig::UnparsedPublicKey::new(algorithm, point)
                .verify(message, signature)
                .is_ok()
        }
        _ => false,
    }
}
