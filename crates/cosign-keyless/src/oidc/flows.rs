//! The interactive flows of sigstore's `pkg/oauthflow`: `normal` (browser, authorization code
//! with PKCE S256, state and nonce, loopback redirect), `device` (RFC 8628 with PKCE),
//! `client_credentials`, and `token`. Every ID token obtained is verified against the
//! issuer's JWKS (issuer, audience = client id, expiry, nonce) as go-oidc's verifier does.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::http::{self, Discovery, Expect, discover, post_form, verify_id_token};
use super::token::sanitize;
use super::{AuthFlow, IdTokenRequest, IdentityToken, OidcError, now_unix};

/// The page the browser shows after the redirect.
const SUCCESS_HTML: &str = "<!DOCTYPE html><html><head><title>Sigstore Auth</title></head>\
<body><h1>Sigstore Auth Successful</h1><p>You may now close this page.</p></body></html>";

const SCOPE: &str = "openid email";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Go cosign's flow choice (`auth.GetOAuthFlow`) when no token was found: the flag's flow if
/// given, else `device` when stdin is not a terminal (Go prints "Non-interactive mode
/// detected, using device flow."), else `normal` (after the privacy statement and consent).
pub fn choose_flow(flag: Option<&str>, stdin_is_terminal: bool) -> Result<AuthFlow, OidcError> {
    match flag.filter(|f| !f.is_empty()) {
        Some(flow) => flow.parse(),
        None if !stdin_is_terminal => Ok(AuthFlow::Device),
        None => Ok(AuthFlow::Normal),
    }
}

pub(crate) async fn run(request: &IdTokenRequest<'_>) -> Result<IdentityToken, OidcError> {
    if request.flow == AuthFlow::Token {
        return Err(OidcError::Flow(
            "the token flow needs an identity token (--identity-token)".into(),
        ));
    }
    let client = http::client()?;
    let discovery = discover(&client, &request.options.issuer).await?;
    match request.flow {
        AuthFlow::Normal => browser(request, &client, &discovery).await,
        AuthFlow::Device => device(request, &client, &discovery).await,
        AuthFlow::ClientCredentials => client_credentials(request, &client, &discovery).await,
        AuthFlow::Token => Err(OidcError::Flow("unreachable".into())),
    }
}

/// `bytes` random bytes, base64url (state, nonce, PKCE verifier).
fn random_url_safe(bytes: usize) -> Result<String, OidcError> {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf)
        .map_err(|_| OidcError::Flow("the system random generator failed".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

struct Pkce {
    verifier: String,
    challenge: String,
}

/// PKCE S256 (sigstore's `NewPKCE`): the provider must list S256 (Azure excepted).
fn pkce(discovery: &Discovery) -> Result<Pkce, OidcError> {
    let azure = discovery
        .authorization_endpoint
        .starts_with("https://login.microsoftonline.com/")
        || discovery
            .authorization_endpoint
            .starts_with("https://login.microsoftonline.us/");
    if !azure
        && !discovery
            .code_challenge_methods_supported
            .iter()
            .any(|m| m == "S256")
    {
        return Err(OidcError::Flow(format!(
            "PKCE is not supported by OIDC provider '{}'",
            sanitize(&discovery.authorization_endpoint)
        )));
    }
    let verifier = random_url_safe(48)?;
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    Ok(Pkce {
        verifier,
        challenge,
    })
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    id_token: String,
    #[serde(default)]
    error: String,
}

fn expect<'a>(request: &'a IdTokenRequest<'_>, nonce: Option<&'a str>) -> Expect<'a> {
    Expect {
        issuer: &request.options.issuer,
        client_id: &request.options.client_id,
        nonce,
        now: now_unix(),
    }
}

/// Binds the redirect listener: `--oidc-redirect-url`'s host and port, else `127.0.0.1` on a
/// free port with `http://localhost:PORT/auth/callback` (Go's default URL). Returns the
/// listener, the redirect URI and its path.
pub async fn redirect_listener(
    redirect_url: Option<&str>,
) -> Result<(TcpListener, String, String), OidcError> {
    let io = |source| OidcError::Io {
        what: "starting redirect listener".into(),
        source,
    };
    match redirect_url.filter(|u| !u.is_empty()) {
        None => {
            let listener = TcpListener::bind("127.0.0.1:0").await.map_err(io)?;
            let port = listener.local_addr().map_err(io)?.port();
            let path = "/auth/callback".to_owned();
            Ok((listener, format!("http://localhost:{port}{path}"), path))
        }
        Some(url) => {
            let parsed = url::Url::parse(url)
                .map_err(|e| OidcError::Flow(format!("--oidc-redirect-url: {e}")))?;
            let host = parsed.host_str().unwrap_or("localhost");
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let port = parsed.port_or_known_default().unwrap_or(80);
            let listener = TcpListener::bind((host, port)).await.map_err(io)?;
            let path = match parsed.path() {
                "" => "/".to_owned(),
                p => p.to_owned(),
            };
            Ok((listener, url.to_owned(), path))
        }
    }
}

async fn browser(
    request: &IdTokenRequest<'_>,
    client: &reqwest::Client,
    discovery: &Discovery,
) -> Result<IdentityToken, OidcError> {
    let state = random_url_safe(32)?;
    let nonce = random_url_safe(32)?;
    let (listener, redirect_uri, path) =
        redirect_listener(request.options.redirect_url.as_deref()).await?;
    let pkce = pkce(discovery)?;
    let mut auth_url = url::Url::parse(&discovery.authorization_endpoint)
        .map_err(|e| OidcError::Flow(format!("the provider's authorization_endpoint: {e}")))?;
    auth_url
        .query_pairs_mut()
        .append_pair("access_type", "online")
        .append_pair("client_id", &request.options.client_id)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("nonce", &nonce)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", SCOPE)
        .append_pair("state", &state);
    let interaction = request.interaction;
    match interaction.open_browser(auth_url.as_str()) {
        Ok(()) => interaction.message(&format!("Your browser will now be opened to:\n{auth_url}")),
        Err(why) => {
            interaction.message(&format!("error opening browser: {why}"));
            interaction.message(&format!(
                "Go to the following link in a browser:\n\n\t {auth_url}"
            ));
        }
    }
    let code = tokio::time::timeout(
        request.browser_timeout,
        wait_for_code(&listener, &path, &state),
    )
    .await
    .map_err(|_| OidcError::Flow("timeout waiting for the browser's redirect".into()))??;
    drop(listener);
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", request.options.client_id.as_str()),
        ("code_verifier", pkce.verifier.as_str()),
        ("nonce", nonce.as_str()),
    ];
    if let Some(secret) = request
        .options
        .client_secret
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        form.push(("client_secret", secret));
    }
    let what = "exchanging the authorization code";
    let answer = post_form(client, &discovery.token_endpoint, &form, what).await?;
    if !answer.status.is_success() {
        return Err(answer.status_error(what));
    }
    let token: TokenAnswer = answer.json(what)?;
    if token.id_token.is_empty() {
        return Err(OidcError::BadResponse {
            what: what.into(),
            detail: "id_token not present".into(),
        });
    }
    verify_id_token(
        client,
        discovery,
        &token.id_token,
        &expect(request, Some(&nonce)),
    )
    .await
}

/// Serves the redirect listener until a request to `path` arrives: its `code` when `state`
/// matches; an error when the state differs or the provider sent an `error`.
async fn wait_for_code(
    listener: &TcpListener,
    path: &str,
    state: &str,
) -> Result<String, OidcError> {
    loop {
        let (mut stream, _) = listener.accept().await.map_err(|source| OidcError::Io {
            what: "waiting for the browser's redirect".into(),
            source,
        })?;
        let Some(target) = read_request_target(&mut stream).await else {
            continue;
        };
        let (req_path, query) = target.split_once('?').unwrap_or((&target, ""));
        if req_path != path {
            respond(&mut stream, "404 Not Found", "not found").await;
            continue;
        }
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| {
            params
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.as_str())
        };
        if get("state") != Some(state) {
            respond(&mut stream, "400 Bad Request", "invalid state token").await;
            return Err(OidcError::Flow("invalid state token".into()));
        }
        if let Some(error) = get("error") {
            respond(&mut stream, "400 Bad Request", "authorization failed").await;
            return Err(OidcError::Flow(format!(
                "the OIDC provider refused the authorization: {}",
                sanitize(error)
            )));
        }
        let Some(code) = get("code").filter(|c| !c.is_empty()) else {
            respond(&mut stream, "400 Bad Request", "no code").await;
            return Err(OidcError::Flow("the redirect has no code".into()));
        };
        let code = code.to_owned();
        respond_html(&mut stream).await;
        return Ok(code);
    }
}

/// The request target of an HTTP/1 GET request head (at most 16 KiB, 5 s).
async fn read_request_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Some(())
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .ok()??;
    let line = std::str::from_utf8(&head).ok()?.lines().next()?.to_owned();
    let mut parts = line.split(' ');
    let (_method, target) = (parts.next()?, parts.next()?);
    Some(target.to_owned())
}

async fn respond(stream: &mut TcpStream, status: &str, text: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn respond_html(stream: &mut TcpStream) {
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{SUCCESS_HTML}",
        SUCCESS_HTML.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[derive(Deserialize)]
struct DeviceAnswer {
    device_code: String,
    #[serde(default)]
    user_code: String,
    #[serde(default)]
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: String,
    #[serde(default)]
    interval: u64,
    #[serde(default)]
    expires_in: u64,
}

async fn device(
    request: &IdTokenRequest<'_>,
    client: &reqwest::Client,
    discovery: &Discovery,
) -> Result<IdentityToken, OidcError> {
    let Some(device_endpoint) = discovery.device_authorization_endpoint.as_deref() else {
        return Err(OidcError::Flow(
            "oidc: device authorization endpoint not returned by provider".into(),
        ));
    };
    let pkce = pkce(discovery)?;
    let client_id = request.options.client_id.as_str();
    let mut form = vec![
        ("client_id", client_id),
        ("scope", SCOPE),
        ("code_challenge_method", "S256"),
        ("code_challenge", pkce.challenge.as_str()),
    ];
    if let Some(redirect) = request
        .options
        .redirect_url
        .as_deref()
        .filter(|r| !r.is_empty())
    {
        form.push(("redirect_uri", redirect));
    }
    let what = "the device authorization request";
    let answer = post_form(client, device_endpoint, &form, what).await?;
    if !answer.status.is_success() {
        return Err(answer.status_error(what));
    }
    let device: DeviceAnswer = answer.json(what)?;
    let uri = if device.verification_uri_complete.is_empty() {
        &device.verification_uri
    } else {
        &device.verification_uri_complete
    };
    let interaction = request.interaction;
    interaction.message(&format!(
        "Enter the verification code {} in your browser at: {}",
        sanitize(&device.user_code),
        sanitize(uri)
    ));
    interaction.message(&format!(
        "Code will be valid for {} seconds",
        device.expires_in
    ));
    let started = tokio::time::Instant::now();
    let lifetime =
        request.poll_second * u32::try_from(device.expires_in.max(1)).unwrap_or(u32::MAX);
    // RFC 8628 §3.5: default 5 seconds; `slow_down` adds 5 for every later poll.
    let mut interval = if device.interval == 0 {
        5
    } else {
        device.interval
    };
    let what = "polling for the device token";
    loop {
        let form = [
            ("grant_type", DEVICE_GRANT),
            ("client_id", client_id),
            ("device_code", device.device_code.as_str()),
            ("scope", SCOPE),
            ("code_verifier", pkce.verifier.as_str()),
        ];
        let answer = post_form(client, &discovery.token_endpoint, &form, what).await?;
        let token: TokenAnswer = answer.json(what)?;
        if !token.id_token.is_empty() {
            interaction.message("Token received!");
            return verify_id_token(client, discovery, &token.id_token, &expect(request, None))
                .await;
        }
        match token.error.as_str() {
            "authorization_pending" => {}
            "slow_down" => interval += 5,
            "access_denied" | "expired_token" => {
                return Err(OidcError::Flow(format!(
                    "error obtaining token: {}",
                    token.error
                )));
            }
            "" if !answer.status.is_success() => return Err(answer.status_error(what)),
            other => {
                return Err(OidcError::Flow(format!(
                    "unexpected error in device flow: {}",
                    sanitize(other)
                )));
            }
        }
        let wait = request.poll_second * u32::try_from(interval).unwrap_or(u32::MAX);
        if started.elapsed() + wait > lifetime {
            return Err(OidcError::Flow(
                "error obtaining token: expired_token".into(),
            ));
        }
        tokio::time::sleep(wait).await;
    }
}

async fn client_credentials(
    request: &IdTokenRequest<'_>,
    client: &reqwest::Client,
    discovery: &Discovery,
) -> Result<IdentityToken, OidcError> {
    if discovery.token_endpoint.is_empty() {
        return Err(OidcError::Flow(
            "oidc: client credentials token authorization endpoint not returned by provider".into(),
        ));
    }
    let mut form = vec![
        ("client_id", request.options.client_id.as_str()),
        (
            "client_secret",
            request.options.client_secret.as_deref().unwrap_or_default(),
        ),
        ("scope", SCOPE),
        ("grant_type", "client_credentials"),
    ];
    if let Some(redirect) = request
        .options
        .redirect_url
        .as_deref()
        .filter(|r| !r.is_empty())
    {
        form.push(("redirect_uri", redirect));
    }
    let what = "the client credentials grant";
    let answer = post_form(client, &discovery.token_endpoint, &form, what).await?;
    if !answer.status.is_success() {
        return Err(answer.status_error(what));
    }
    let token: TokenAnswer = answer.json(what)?;
    if token.id_token.is_empty() {
        return Err(OidcError::Flow(format!(
            "unexpected error in client flow: {}",
            sanitize(&token.error)
        )));
    }
    request.interaction.message("Token received!");
    verify_id_token(client, discovery, &token.id_token, &expect(request, None)).await
}
