//! Sigstore signing configs (`dev.sigstore.trustroot.v1.SigningConfig`, media type v0.2): the
//! Fulcio, OIDC, Rekor and timestamp authority services a signer uses, and how many of them.
//!
//! - [`SigningConfig::from_json`] reads one as sigstore-go does (protojson, v0.2 only: v0.1 is
//!   refused as sigstore-go refuses it); [`SigningConfig::to_json`] writes it as sigstore-go's
//!   `NewSigningConfig` + `MarshalJSON` do (what `cosign signing-config create` prints).
//! - Service selection follows sigstore-go's `SelectService` (Fulcio, OIDC: the newest valid
//!   service of the highest supported API version) and `SelectServices` (Rekor, TSA: services
//!   of the highest supported API version that has any valid one, at most one per operator,
//!   newest first, then `ALL`, one at random for `ANY`, `count` at random for `EXACT`).
//! - [`SigningConfig::from_tuf`] reads the TUF target `signing_config.v0.2.json` (where Go
//!   cosign 3.1.2 gets its default), [`SigningConfig::embedded`] the copy built into the binary
//!   (see `tuf/embedded/README.md`).
//! - [`create`]: `cosign signing-config create`.

pub mod create;
mod json;

use crate::TrustError;
use crate::create::Instant;
use crate::trusted_root::ValidityPeriod;
use crate::tuf::{Fetcher, Instance, TufClient};

/// Media type of signing config v0.2, the only one sigstore-go reads.
pub const MEDIA_TYPE_V02: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";
/// The TUF target holding the instance's signing config (Go cosign's default).
pub const SIGNING_CONFIG_TARGET: &str = "signing_config.v0.2.json";
/// The TUF target holding the instance's signing config with its Rekor v2 log
/// (`cosign signing-config create --with-default-rekor-v2`).
pub const SIGNING_CONFIG_REKOR_V2_TARGET: &str = "signing_config_rekor_v2.v0.2.json";
/// Largest signing config read (bytes).
pub const MAX_SIGNING_CONFIG_LEN: usize = 1 << 20;
/// Most services in one list of a signing config.
const MAX_SERVICES: usize = 256;

/// Fulcio API versions this client speaks (sigstore-go's `FulcioAPIVersions`).
pub const FULCIO_API_VERSIONS: &[u32] = &[1];
/// OIDC provider API versions (Go cosign's `SigstoreOIDCIssuerAPIVersions`).
pub const OIDC_API_VERSIONS: &[u32] = &[1];
/// Rekor API versions (sigstore-go's `RekorAPIVersions`): v1 REST and v2 tiles.
pub const REKOR_API_VERSIONS: &[u32] = &[1, 2];
/// Timestamp authority API versions (sigstore-go's `TimestampAuthorityAPIVersions`).
pub const TSA_API_VERSIONS: &[u32] = &[1];

const PUBLIC_GOOD: &[u8] = include_bytes!("tuf/embedded/public-good/signing_config.v0.2.json");
const PUBLIC_GOOD_REKOR_V2: &[u8] =
    include_bytes!("tuf/embedded/public-good/signing_config_rekor_v2.v0.2.json");
const STAGING: &[u8] = include_bytes!("tuf/embedded/staging/signing_config.v0.2.json");

/// When a service may be used; an absent bound is open, both bounds inclusive. Times keep
/// their nanoseconds so a config is written back exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceValidity {
    /// The first instant (None: unbounded, also for Go's zero time).
    pub start: Option<Instant>,
    /// The last instant (None: unbounded).
    pub end: Option<Instant>,
}

impl ServiceValidity {
    /// Whether `now` (Unix seconds) falls within the window.
    pub fn contains(&self, now: i64) -> bool {
        let t = Instant::from_secs(now);
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }

    /// The window in whole seconds (the start rounded down, the end too: an end of
    /// `12:00:00.5` allows `12:00:00`).
    pub fn period(&self) -> ValidityPeriod {
        ValidityPeriod {
            start: self.start.map(|s| s.secs),
            end: self.end.map(|e| e.secs),
        }
    }
}

/// One service of a signing config.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Service {
    /// Its URL (a base URL, except for timestamp authorities: the full request URL).
    pub url: String,
    /// The major API version it speaks (0: not released yet).
    pub major_api_version: u32,
    /// When it may be used.
    pub valid_for: ServiceValidity,
    /// Who runs it (a scheme-less URI such as `sigstore.dev`).
    pub operator: String,
}

/// How many services of a list to use (`ServiceSelector`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Selector {
    /// `SERVICE_SELECTOR_UNDEFINED`: selection fails.
    #[default]
    Undefined,
    /// `ALL`: every selected service.
    All,
    /// `ANY`: one of them, at random.
    Any,
    /// `EXACT`: `count` of them, at random.
    Exact,
    /// A number this protocol version does not define (kept when read; selection fails).
    Other(i32),
}

impl Selector {
    /// The enum name, for a defined value.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Self::Undefined => Some("SERVICE_SELECTOR_UNDEFINED"),
            Self::All => Some("ALL"),
            Self::Any => Some("ANY"),
            Self::Exact => Some("EXACT"),
            Self::Other(_) => None,
        }
    }

    /// The enum number.
    pub fn number(self) -> i32 {
        match self {
            Self::Undefined => 0,
            Self::All => 1,
            Self::Any => 2,
            Self::Exact => 3,
            Self::Other(n) => n,
        }
    }

    /// The value of an enum name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Undefined, Self::All, Self::Any, Self::Exact]
            .into_iter()
            .find(|s| s.name() == Some(name))
    }

    /// The value of an enum number.
    pub fn from_number(n: i32) -> Self {
        match n {
            0 => Self::Undefined,
            1 => Self::All,
            2 => Self::Any,
            3 => Self::Exact,
            n => Self::Other(n),
        }
    }
}

/// The selector of a service list and, for `EXACT`, how many to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceConfiguration {
    /// How to choose.
    pub selector: Selector,
    /// How many, for [`Selector::Exact`].
    pub count: u32,
}

/// A parsed signing config (v0.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SigningConfig {
    /// Fulcio-compatible certificate authorities (`caUrls`).
    pub ca_urls: Vec<Service>,
    /// OpenID Connect providers (`oidcUrls`).
    pub oidc_urls: Vec<Service>,
    /// Rekor transparency logs (`rekorTlogUrls`).
    pub rekor_tlog_urls: Vec<Service>,
    /// How many logs to write to (`rekorTlogConfig`; absent reads as undefined).
    pub rekor_tlog_config: ServiceConfiguration,
    /// RFC 3161 timestamp authorities (`tsaUrls`).
    pub tsa_urls: Vec<Service>,
    /// How many timestamps to get (`tsaConfig`; absent reads as undefined).
    pub tsa_config: ServiceConfiguration,
}

/// Where a default signing config came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigningConfigSource {
    /// The verified TUF target of this mirror.
    Tuf {
        /// The TUF mirror.
        mirror: String,
    },
    /// The copy built into the binary.
    Embedded(Instance),
}

/// Go's `%v` of a `[]uint32`: `[1 2]`.
fn go_list(versions: &[u32]) -> String {
    let items: Vec<String> = versions.iter().map(u32::to_string).collect();
    format!("[{}]", items.join(" "))
}

fn selection_error(reason: impl Into<String>) -> TrustError {
    TrustError::ServiceSelection {
        reason: reason.into(),
    }
}

/// The versions from highest to lowest, and the services from the newest validity start to
/// the oldest (as sigstore-go orders them: ascending sort, then reversed).
fn ordered<'a>(services: &'a [Service], supported: &[u32]) -> (Vec<u32>, Vec<&'a Service>) {
    let mut versions = supported.to_vec();
    versions.sort_unstable();
    versions.reverse();
    let mut newest: Vec<&Service> = services.iter().collect();
    newest.sort_by_key(|s| s.valid_for.start);
    newest.reverse();
    (versions, newest)
}

/// sigstore-go's `SelectService`: the newest service valid at `now` of the highest API
/// version in `supported` that has one.
pub fn select_service(
    services: &[Service],
    supported: &[u32],
    now: i64,
) -> Result<Service, TrustError> {
    if supported.is_empty() {
        return Err(selection_error("no supported API versions"));
    }
    let (versions, newest) = ordered(services, supported);
    versions
        .iter()
        .find_map(|&v| {
            newest
                .iter()
                .find(|s| s.major_api_version == v && s.valid_for.contains(now))
        })
        .map(|s| (*s).clone())
        .ok_or_else(|| {
            selection_error(format!(
                "no matching service found for API versions {} and current time {}",
                go_list(supported),
                cosign_types::time::rfc3339(now)
            ))
        })
}

/// A uniformly random index below `n` (`n` > 0).
fn random_index(n: usize) -> usize {
    let mut bytes = [0u8; 8];
    // The random source never fails in practice; if it did, the first service is as good.
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        return 0;
    }
    let r = u64::from_le_bytes(bytes);
    usize::try_from(r % n as u64).unwrap_or(0)
}

/// sigstore-go's `SelectServices`: the services valid at `now` of the highest API version in
/// `supported` that has any, the newest of each operator, then as many as `config` says
/// (`ANY` and `EXACT` choose at random).
pub fn select_services(
    services: &[Service],
    config: ServiceConfiguration,
    supported: &[u32],
    now: i64,
) -> Result<Vec<Service>, TrustError> {
    select_services_with(services, config, supported, now, &mut random_index)
}

/// [`select_services`] with the caller's choice of "random" index (`pick(n)` < `n`).
pub fn select_services_with(
    services: &[Service],
    config: ServiceConfiguration,
    supported: &[u32],
    now: i64,
    pick: &mut dyn FnMut(usize) -> usize,
) -> Result<Vec<Service>, TrustError> {
    if supported.is_empty() {
        return Err(selection_error("no supported API versions"));
    }
    let (versions, newest) = ordered(services, supported);
    let mut selected: Vec<&Service> = Vec::new();
    for v in versions {
        let mut operators: Vec<&str> = Vec::new();
        for s in &newest {
            if s.major_api_version == v
                && s.valid_for.contains(now)
                && !operators.contains(&s.operator.as_str())
            {
                operators.push(&s.operator);
                selected.push(s);
            }
        }
        if !selected.is_empty() {
            break;
        }
    }
    if selected.is_empty() {
        return Err(selection_error(format!(
            "no matching services found for API versions {} and current time {}",
            go_list(supported),
            cosign_types::time::rfc3339(now)
        )));
    }
    let mut take = |mut pool: Vec<&Service>, count: usize| -> Vec<Service> {
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let i = pick(pool.len()).min(pool.len() - 1);
            out.push(pool.swap_remove(i).clone());
        }
        out
    };
    match config.selector {
        Selector::All => Ok(selected.into_iter().cloned().collect()),
        Selector::Any => Ok(take(selected, 1)),
        Selector::Exact => {
            let count = config.count as usize;
            if count == 0 {
                return Err(selection_error(
                    "service selector count must be greater than 0",
                ));
            }
            if count > selected.len() {
                return Err(selection_error(format!(
                    "service selector count {count} must be less than or equal to the slice length {}",
                    selected.len()
                )));
            }
            Ok(take(selected, count))
        }
        Selector::Undefined | Selector::Other(_) => {
            Err(selection_error("invalid service selector"))
        }
    }
}

/// The embedded copy of an instance's `signing_config.v0.2.json`.
pub fn embedded_json(instance: Instance) -> &'static [u8] {
    match instance {
        Instance::PublicGood => PUBLIC_GOOD,
        Instance::Staging => STAGING,
    }
}

/// The embedded copy of an instance's `signing_config_rekor_v2.v0.2.json` (public-good only).
pub fn embedded_rekor_v2_json(instance: Instance) -> Option<&'static [u8]> {
    match instance {
        Instance::PublicGood => Some(PUBLIC_GOOD_REKOR_V2),
        Instance::Staging => None,
    }
}

impl SigningConfig {
    /// Parses a signing config as sigstore-go's `NewSigningConfigFromJSON` does.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustError> {
        json::parse(bytes)
    }

    /// The protojson of the config as sigstore-go writes a config it built (`cosign
    /// signing-config create`): compact, fields in protobuf order, `rekorTlogConfig` and
    /// `tsaConfig` always present, each service with a `validFor.start`. Fails only for a
    /// time outside protobuf's range (years 1 to 9999), with protojson's message.
    pub fn to_json(&self) -> Result<String, TrustError> {
        json::marshal(self)
    }

    /// The embedded copy of an instance's signing config (a snapshot taken when the binary
    /// was built).
    pub fn embedded(instance: Instance) -> Result<Self, TrustError> {
        Self::from_json(embedded_json(instance))
    }

    /// The verified TUF target `target` (e.g. [`SIGNING_CONFIG_TARGET`]) of the client's
    /// repository (updating the client first if it never was).
    pub fn from_tuf<F: Fetcher>(
        client: &mut TufClient<F>,
        target: &str,
    ) -> Result<Self, TrustError> {
        Self::from_json(&client.target(target)?)
    }

    /// The signing config Go cosign uses by default: the TUF target of the repository behind
    /// `client` when there is one (any failure, a missing target included, is an error: the
    /// services of another instance are never used instead), else the embedded copy of
    /// `instance`.
    pub fn tuf_or_embedded<F: Fetcher>(
        client: Option<&mut TufClient<F>>,
        instance: Instance,
    ) -> Result<(Self, SigningConfigSource), TrustError> {
        match client {
            Some(client) => {
                let mirror = client.options().mirror.clone();
                let config = Self::from_tuf(client, SIGNING_CONFIG_TARGET)?;
                Ok((config, SigningConfigSource::Tuf { mirror }))
            }
            None => Ok((
                Self::embedded(instance)?,
                SigningConfigSource::Embedded(instance),
            )),
        }
    }

    /// The Fulcio to ask for a certificate at `now` (Unix seconds): None when the config
    /// lists none, an error when none is valid for API version 1.
    pub fn fulcio(&self, now: i64) -> Result<Option<Service>, TrustError> {
        if self.ca_urls.is_empty() {
            return Ok(None);
        }
        select_service(&self.ca_urls, FULCIO_API_VERSIONS, now).map(Some)
    }

    /// The OIDC provider of the interactive flows at `now`: None when the config lists none.
    pub fn oidc_provider(&self, now: i64) -> Result<Option<Service>, TrustError> {
        if self.oidc_urls.is_empty() {
            return Ok(None);
        }
        select_service(&self.oidc_urls, OIDC_API_VERSIONS, now).map(Some)
    }

    /// The logs to write to at `now`, of the API versions in `supported` (normally
    /// [`REKOR_API_VERSIONS`]); empty when the config lists none.
    pub fn rekor_logs(&self, now: i64, supported: &[u32]) -> Result<Vec<Service>, TrustError> {
        if self.rekor_tlog_urls.is_empty() {
            return Ok(Vec::new());
        }
        select_services(
            &self.rekor_tlog_urls,
            self.rekor_tlog_config,
            supported,
            now,
        )
    }

    /// The timestamp authorities to ask at `now`; empty when the config lists none.
    pub fn tsas(&self, now: i64) -> Result<Vec<Service>, TrustError> {
        if self.tsa_urls.is_empty() {
            return Ok(Vec::new());
        }
        select_services(&self.tsa_urls, self.tsa_config, TSA_API_VERSIONS, now)
    }
}

#[cfg(test)]
mod tests;
