//! `cosign signing-config create`: a signing config from service specifications
//! (`url=...,api-version=N,start-time=...,operator=...[,end-time=...]`), selector flags
//! (`ANY`, `ALL`, `EXACT:<n>`), and optionally the services of a base config or of the
//! Sigstore instance's own config, in Go cosign 3.1.2's order and with its messages.

use crate::create::{CreateError, Instant, kv, parse_go_rfc3339, parse_kvs};

use super::{Selector, Service, ServiceConfiguration, ServiceValidity, SigningConfig};

/// What `create` builds from. The caller loads `base` (`--base-config`) and `defaults`
/// (`--with-default-services`, `--with-default-rekor-v2`) first, as Go cosign does, after
/// [`CreateRequest::check`].
#[derive(Clone, Debug, Default)]
pub struct CreateRequest {
    /// `--fulcio` specifications.
    pub fulcio: Vec<String>,
    /// `--rekor` specifications.
    pub rekor: Vec<String>,
    /// `--oidc-provider` specifications.
    pub oidc_provider: Vec<String>,
    /// `--tsa` specifications.
    pub tsa: Vec<String>,
    /// `--rekor-config` (empty: not given).
    pub rekor_config: String,
    /// `--tsa-config` (empty: not given).
    pub tsa_config: String,
    /// The config of `--base-config`: each kind of service without a flag of its own is
    /// taken from it.
    pub base: Option<SigningConfig>,
    /// The instance's config (`--with-default-services`): its services come first, those
    /// of the flags after them.
    pub defaults: Option<SigningConfig>,
    /// `--no-default-fulcio`: no Fulcio from `base` or `defaults`.
    pub no_default_fulcio: bool,
    /// `--no-default-rekor`.
    pub no_default_rekor: bool,
    /// `--no-default-oidc`.
    pub no_default_oidc: bool,
    /// `--no-default-tsa`.
    pub no_default_tsa: bool,
}

impl CreateRequest {
    /// The checks Go cosign makes before reading anything: a selector is required with
    /// services of that kind.
    pub fn check(&self) -> Result<(), CreateError> {
        if !self.rekor.is_empty() && self.rekor_config.is_empty() {
            return Err(CreateError::new(
                "--rekor-config must be provided when --rekor is specified",
            ));
        }
        if !self.tsa.is_empty() && self.tsa_config.is_empty() {
            return Err(CreateError::new(
                "--tsa-config must be provided when --tsa is specified",
            ));
        }
        Ok(())
    }
}

/// Go's `strconv.ParseUint(text, 10, 32)` error wording.
fn parse_u32(text: &str) -> Result<u32, CreateError> {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CreateError::new(format!(
            "strconv.ParseUint: parsing {quoted}: invalid syntax"
        )));
    }
    text.parse::<u32>().map_err(|_| {
        CreateError::new(format!(
            "strconv.ParseUint: parsing {quoted}: value out of range"
        ))
    })
}

/// One service specification: `url`, `api-version`, `start-time` and `operator` required
/// (present and not empty), `end-time` optional; other keys are ignored.
pub fn parse_service(spec: &str) -> Result<Service, CreateError> {
    let kvs = parse_kvs(spec)?;
    for key in ["url", "api-version", "start-time", "operator"] {
        if kv(&kvs, key).is_none_or(str::is_empty) {
            return Err(CreateError::new(format!(
                "missing required key '{key}' in service spec"
            )));
        }
    }
    let value = |key| kv(&kvs, key).unwrap_or_default();
    let major_api_version =
        parse_u32(value("api-version")).map_err(|e| e.wrap("parsing api-version"))?;
    let start = parse_go_rfc3339(value("start-time")).map_err(|e| e.wrap("parsing start-time"))?;
    let end = match kv(&kvs, "end-time").filter(|t| !t.is_empty()) {
        Some(t) => Some(parse_go_rfc3339(t).map_err(|e| e.wrap("parsing end-time"))?),
        None => None,
    };
    Ok(Service {
        url: value("url").to_owned(),
        major_api_version,
        valid_for: ServiceValidity {
            start: go_time(start),
            end: end.and_then(go_time),
        },
        operator: value("operator").to_owned(),
    })
}

/// Go's zero time is "not set" once in a `Service`.
fn go_time(t: Instant) -> Option<Instant> {
    (!t.is_go_zero()).then_some(t)
}

/// A selector flag: `ANY`, `ALL` or `EXACT:<count>`, case-insensitive; empty means not set.
pub fn parse_service_config(text: &str) -> Result<ServiceConfiguration, CreateError> {
    if text.is_empty() {
        return Ok(ServiceConfiguration::default());
    }
    let (mode, count) = match text.split_once(':') {
        Some((m, c)) => (m.to_uppercase(), Some(c)),
        None => (text.to_uppercase(), None),
    };
    let selector = match mode.as_str() {
        "ANY" => Selector::Any,
        "ALL" => Selector::All,
        "EXACT" => {
            let count = count
                .ok_or_else(|| CreateError::new("mode EXACT requires a count, e.g. EXACT:2"))?;
            let count = parse_u32(count).map_err(|e| e.wrap("invalid count for EXACT mode"))?;
            return Ok(ServiceConfiguration {
                selector: Selector::Exact,
                count,
            });
        }
        _ => {
            return Err(CreateError::new(format!(
                "invalid service config mode: {mode}"
            )));
        }
    };
    if count.is_some() {
        return Err(CreateError::new(format!(
            "mode {mode} does not accept a count"
        )));
    }
    Ok(ServiceConfiguration { selector, count: 0 })
}

fn specs(list: &[String], what: &str) -> Result<Vec<Service>, CreateError> {
    list.iter()
        .map(|spec| parse_service(spec).map_err(|e| e.wrap(&format!("parsing {what} spec"))))
        .collect()
}

/// Builds the config of `req` as Go cosign 3.1.2 does: services of the base config (for the
/// kinds without flags) or of the defaults, then the selectors of the flags, then the
/// services of the flags.
pub fn create(req: &CreateRequest) -> Result<SigningConfig, CreateError> {
    let mut out = SigningConfig::default();
    if let Some(base) = &req.base {
        if req.fulcio.is_empty() && !req.no_default_fulcio {
            out.ca_urls.extend(base.ca_urls.iter().cloned());
        }
        if req.rekor.is_empty() && !req.no_default_rekor {
            out.rekor_tlog_urls
                .extend(base.rekor_tlog_urls.iter().cloned());
            out.rekor_tlog_config = base.rekor_tlog_config;
        }
        if req.oidc_provider.is_empty() && !req.no_default_oidc {
            out.oidc_urls.extend(base.oidc_urls.iter().cloned());
        }
        if req.tsa.is_empty() && !req.no_default_tsa {
            out.tsa_urls.extend(base.tsa_urls.iter().cloned());
            out.tsa_config = base.tsa_config;
        }
    }
    if let Some(defaults) = &req.defaults {
        if !req.no_default_fulcio {
            out.ca_urls.extend(defaults.ca_urls.iter().cloned());
        }
        if !req.no_default_rekor {
            out.rekor_tlog_urls
                .extend(defaults.rekor_tlog_urls.iter().cloned());
            out.rekor_tlog_config = defaults.rekor_tlog_config;
        }
        if !req.no_default_oidc {
            out.oidc_urls.extend(defaults.oidc_urls.iter().cloned());
        }
        if !req.no_default_tsa {
            out.tsa_urls.extend(defaults.tsa_urls.iter().cloned());
            out.tsa_config = defaults.tsa_config;
        }
    }
    if !req.rekor_config.is_empty() {
        out.rekor_tlog_config =
            parse_service_config(&req.rekor_config).map_err(|e| e.wrap("parsing rekor-config"))?;
    }
    if !req.tsa_config.is_empty() {
        out.tsa_config =
            parse_service_config(&req.tsa_config).map_err(|e| e.wrap("parsing tsa-config"))?;
    }
    out.ca_urls.extend(specs(&req.fulcio, "fulcio")?);
    out.rekor_tlog_urls.extend(specs(&req.rekor, "rekor")?);
    out.oidc_urls
        .extend(specs(&req.oidc_provider, "oidc-provider")?);
    out.tsa_urls.extend(specs(&req.tsa, "tsa")?);
    Ok(out)
}

/// [`create`], then the protojson Go cosign writes (no trailing newline).
pub fn create_json(req: &CreateRequest) -> Result<String, CreateError> {
    create(req)?
        .to_json()
        .map_err(|e| CreateError::new(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(extra: &str) -> String {
        format!(
            "url=https://f.example,api-version=1,start-time=2024-01-01T00:00:00Z,operator=o{extra}"
        )
    }

    #[test]
    fn specs_as_go_parses_them() {
        let s = parse_service(&spec(",end-time=2025-01-01T00:00:00.5+01:00,extra=x")).unwrap();
        assert_eq!(s.url, "https://f.example");
        assert_eq!(s.major_api_version, 1);
        assert_eq!(s.operator, "o");
        assert_eq!(s.valid_for.start, Some(Instant::from_secs(1_704_067_200)));
        let end = s.valid_for.end.unwrap();
        assert_eq!((end.secs, end.nanos), (1_735_686_000, 500_000_000));
        // Spaces around keys and values go; a value keeps its `=`; the last key wins.
        let s = parse_service(
            " url = a=b ,api-version=2,start-time=2024-01-01T00:00:00Z,operator=x,operator=y",
        )
        .unwrap();
        assert_eq!((s.url.as_str(), s.operator.as_str()), ("a=b", "y"));
        // An end at Go's zero time is no end.
        let s = parse_service(&spec(",end-time=0001-01-01T00:00:00Z")).unwrap();
        assert_eq!(s.valid_for.end, None);

        let err = |spec: &str| parse_service(spec).unwrap_err().to_string();
        assert_eq!(err("x"), "invalid key-value pair: x");
        assert_eq!(err(""), "invalid key-value pair: ");
        assert_eq!(
            err("url=x"),
            "missing required key 'api-version' in service spec"
        );
        assert_eq!(
            err(&spec("").replace("url=https://f.example", "url=")),
            "missing required key 'url' in service spec"
        );
        assert_eq!(
            err(&spec("").replace("api-version=1", "api-version=+1")),
            "parsing api-version: strconv.ParseUint: parsing \"+1\": invalid syntax"
        );
        assert_eq!(
            err(&spec("").replace("api-version=1", "api-version=4294967296")),
            "parsing api-version: strconv.ParseUint: parsing \"4294967296\": value out of range"
        );
        assert_eq!(
            err(&spec("").replace("2024-01-01T00:00:00Z", "2024-01-01")),
            "parsing start-time: parsing time \"2024-01-01\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"T\""
        );
        assert_eq!(
            err(&spec(",end-time=bad")),
            "parsing end-time: parsing time \"bad\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"bad\" as \"2006\""
        );
    }

    #[test]
    fn selector_flags() {
        let ok = |t: &str| parse_service_config(t).unwrap();
        assert_eq!(ok("").selector, Selector::Undefined);
        assert_eq!(ok("any").selector, Selector::Any);
        assert_eq!(ok("ALL").selector, Selector::All);
        assert_eq!(
            ok("exact:3"),
            ServiceConfiguration {
                selector: Selector::Exact,
                count: 3
            }
        );
        // Go takes EXACT:0 (selection fails later).
        assert_eq!(ok("EXACT:0").count, 0);
        let err = |t: &str| parse_service_config(t).unwrap_err().to_string();
        assert_eq!(err("ANY:1"), "mode ANY does not accept a count");
        assert_eq!(err("all:"), "mode ALL does not accept a count");
        assert_eq!(err("EXACT"), "mode EXACT requires a count, e.g. EXACT:2");
        assert_eq!(
            err("EXACT:x"),
            "invalid count for EXACT mode: strconv.ParseUint: parsing \"x\": invalid syntax"
        );
        assert_eq!(err("foo:1"), "invalid service config mode: FOO");
    }

    #[test]
    fn base_defaults_and_flags_combine_in_go_order() {
        let base = SigningConfig::from_json(include_bytes!(
            "../tuf/embedded/staging/signing_config.v0.2.json"
        ))
        .unwrap();
        let req = CreateRequest {
            tsa: vec![spec("")],
            tsa_config: "ALL".into(),
            no_default_oidc: true,
            base: Some(base.clone()),
            ..CreateRequest::default()
        };
        req.check().unwrap();
        let out = create(&req).unwrap();
        assert_eq!(out.ca_urls, base.ca_urls);
        assert_eq!(out.rekor_tlog_urls, base.rekor_tlog_urls);
        assert_eq!(out.rekor_tlog_config, base.rekor_tlog_config);
        assert!(out.oidc_urls.is_empty());
        assert_eq!(out.tsa_urls.len(), 1);
        assert_eq!(out.tsa_urls[0].url, "https://f.example");
        assert_eq!(out.tsa_config.selector, Selector::All);

        // Defaults come first, the flags' services after them.
        let req = CreateRequest {
            fulcio: vec![spec("")],
            defaults: Some(base.clone()),
            ..CreateRequest::default()
        };
        let out = create(&req).unwrap();
        assert_eq!(out.ca_urls.len(), 2);
        assert_eq!(out.ca_urls[0], base.ca_urls[0]);
        assert_eq!(out.tsa_config, base.tsa_config);

        let missing = CreateRequest {
            rekor: vec![spec("")],
            ..CreateRequest::default()
        };
        assert_eq!(
            missing.check().unwrap_err().to_string(),
            "--rekor-config must be provided when --rekor is specified"
        );
        let bad = CreateRequest {
            rekor_config: "ANY:2".into(),
            fulcio: vec!["x".into()],
            ..CreateRequest::default()
        };
        // The selector flags are read before the specifications.
        assert_eq!(
            create(&bad).unwrap_err().to_string(),
            "parsing rekor-config: mode ANY does not accept a count"
        );
    }

    #[test]
    fn written_as_go_writes_it() {
        let req = CreateRequest {
            fulcio: vec![spec(",end-time=2025-01-01T00:00:00Z")],
            tsa: vec![spec("").replace("00:00:00Z", "00:00:00.123456Z")],
            tsa_config: "EXACT:1".into(),
            ..CreateRequest::default()
        };
        assert_eq!(
            create_json(&req).unwrap(),
            concat!(
                r#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","#,
                r#""caUrls":[{"url":"https://f.example","majorApiVersion":1,"validFor":{"start":"2024-01-01T00:00:00Z","end":"2025-01-01T00:00:00Z"},"operator":"o"}],"#,
                r#""rekorTlogConfig":{},"#,
                r#""tsaUrls":[{"url":"https://f.example","majorApiVersion":1,"validFor":{"start":"2024-01-01T00:00:00.123456Z"},"operator":"o"}],"#,
                r#""tsaConfig":{"selector":"EXACT","count":1}}"#
            )
        );
        // Year 0 parses as Go parses it, but protobuf cannot hold it.
        let req = CreateRequest {
            fulcio: vec![spec("").replace("2024-01-01T00:00:00Z", "0000-01-01T00:00:00Z")],
            ..CreateRequest::default()
        };
        assert_eq!(
            create_json(&req).unwrap_err().to_string(),
            "proto: google.protobuf.Timestamp: seconds out of range -62167219200"
        );
    }
}
