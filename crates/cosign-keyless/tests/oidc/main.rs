//! Identity tokens against the test OIDC issuer of `test-support` (a real HTTP server on
//! 127.0.0.1): each source, the order of precedence, the interactive flows driven end to end,
//! and hostile issuers. No error message may hold a token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod flows;
mod hostile;
mod providers;
mod sources;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cosign_keyless::oidc::{
    AmbientEnv, AuthFlow, IdTokenRequest, IdentityToken, Interaction, OidcError, OidcOptions,
    TokenSource, retrieve_id_token,
};
use test_support::oidc::OidcIssuer;

/// What the browser does with the authorization URL.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Play {
    /// Follows it (the issuer approves and redirects to our listener).
    Follow,
    /// Cannot be opened: the test follows the printed URL instead.
    NoBrowser,
    /// Follows it but changes the `state` in the redirect.
    WrongState,
    /// Delivers a code the issuer gave for another PKCE challenge (code injection).
    SwapCode,
    /// Nothing happens.
    Nothing,
}

/// The user: records messages and plays the browser.
pub struct User {
    pub play: Play,
    pub messages: Mutex<Vec<String>>,
    /// What the loopback listener answered the browser (status, body).
    pub browser_saw: Arc<Mutex<Option<(u16, String)>>>,
}

impl User {
    pub fn new(play: Play) -> User {
        User {
            play,
            messages: Mutex::default(),
            browser_saw: Arc::default(),
        }
    }

    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }

    fn browse(&self, url: String) {
        let play = self.play;
        let saw = Arc::clone(&self.browser_saw);
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let answer = client.get(&url).send().await.unwrap();
            assert_eq!(answer.status().as_u16(), 302, "the issuer approves at once");
            let location = answer.headers()["location"].to_str().unwrap().to_owned();
            let mut target = url::Url::parse(&location).unwrap();
            let pairs: Vec<(String, String)> = target.query_pairs().into_owned().collect();
            let mut code = pairs.iter().find(|(k, _)| k == "code").unwrap().1.clone();
            let mut state = pairs.iter().find(|(k, _)| k == "state").unwrap().1.clone();
            if play == Play::WrongState {
                state = "forged-state".into();
            }
            if play == Play::SwapCode {
                // An attacker's own authorization request, with its own PKCE challenge.
                let mut attacker = url::Url::parse(&url).unwrap();
                let kept: Vec<(String, String)> = attacker
                    .query_pairs()
                    .into_owned()
                    .map(|(k, v)| {
                        if k == "code_challenge" {
                            (k, "attacker-challenge-attacker-challenge-xyz".into())
                        } else {
                            (k, v)
                        }
                    })
                    .collect();
                attacker.query_pairs_mut().clear().extend_pairs(kept);
                let answer = client.get(attacker).send().await.unwrap();
                let location = answer.headers()["location"].to_str().unwrap().to_owned();
                let swapped = url::Url::parse(&location).unwrap();
                code = swapped
                    .query_pairs()
                    .find(|(k, _)| k == "code")
                    .unwrap()
                    .1
                    .into_owned();
            }
            target
                .query_pairs_mut()
                .clear()
                .append_pair("code", &code)
                .append_pair("state", &state);
            let target = target.as_str().replace("localhost", "127.0.0.1");
            let answer = client.get(target).send().await.unwrap();
            let status = answer.status().as_u16();
            let body = answer.text().await.unwrap_or_default();
            *saw.lock().unwrap() = Some((status, body));
        });
    }
}

impl Interaction for User {
    fn message(&self, text: &str) {
        self.messages.lock().unwrap().push(text.to_owned());
        if self.play == Play::NoBrowser
            && let Some(url) = text.strip_prefix("Go to the following link in a browser:\n\n\t ")
        {
            self.browse(url.to_owned());
        }
    }

    fn open_browser(&self, url: &str) -> Result<(), String> {
        match self.play {
            Play::NoBrowser => Err("no browser here".into()),
            Play::Nothing => Ok(()),
            _ => {
                self.browse(url.to_owned());
                Ok(())
            }
        }
    }
}

/// A request with no flag, no ambient environment, against `issuer`.
pub fn request<'a>(issuer: &OidcIssuer, flow: AuthFlow, user: &'a User) -> IdTokenRequest<'a> {
    IdTokenRequest {
        token_or_path: "",
        options: OidcOptions {
            issuer: issuer.url().to_owned(),
            client_secret: Some(OidcIssuer::CLIENT_SECRET.into()),
            ..OidcOptions::default()
        },
        flow,
        ambient: AmbientEnv::default(),
        interaction: user,
        browser_timeout: Duration::from_secs(20),
        poll_second: Duration::from_millis(20),
    }
}

pub async fn get(request: &IdTokenRequest<'_>) -> Result<(IdentityToken, TokenSource), OidcError> {
    retrieve_id_token(request).await
}

/// The error, checked to hold no JWT (in `Display` and `Debug`) and none of `secrets`.
pub fn error_without_token(
    result: Result<(IdentityToken, TokenSource), OidcError>,
    secrets: &[&str],
) -> String {
    let error = match result {
        Ok((token, source)) => panic!("expected an error, got {token:?} from {source:?}"),
        Err(e) => e,
    };
    let shown = format!("{error} / {error:?}");
    assert!(!shown.contains("eyJ"), "a token leaked: {shown}");
    for secret in secrets {
        assert!(!secret.is_empty());
        assert!(!shown.contains(secret), "{secret:?} leaked: {shown}");
    }
    error.to_string()
}
