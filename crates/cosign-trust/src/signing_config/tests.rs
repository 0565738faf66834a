use super::*;

const DAY: i64 = 86_400;
/// 2025-01-01T00:00:00Z.
const NOW: i64 = 1_735_689_600;

fn at(secs: i64) -> Option<Instant> {
    Some(Instant::from_secs(secs))
}

fn svc(url: &str, version: u32, start: i64, end: Option<i64>, operator: &str) -> Service {
    Service {
        url: url.to_owned(),
        major_api_version: version,
        valid_for: ServiceValidity {
            start: at(start),
            end: end.and_then(at),
        },
        operator: operator.to_owned(),
    }
}

fn urls(services: &[Service]) -> Vec<&str> {
    let mut v: Vec<&str> = services.iter().map(|s| s.url.as_str()).collect();
    v.sort_unstable();
    v
}

fn config(selector: Selector, count: u32) -> ServiceConfiguration {
    ServiceConfiguration { selector, count }
}

#[test]
fn select_service_prefers_the_highest_version_then_the_newest_valid() {
    let services = [
        svc("old-v1", 1, NOW - 300 * DAY, None, "a"),
        svc("new-v1", 1, NOW - DAY, None, "a"),
        svc("future-v1", 1, NOW + DAY, None, "a"),
        svc("expired-v2", 2, NOW - 10 * DAY, Some(NOW - DAY), "a"),
    ];
    assert_eq!(select_service(&services, &[1], NOW).unwrap().url, "new-v1");
    // v2 is preferred, but the only v2 service has expired.
    assert_eq!(
        select_service(&services, &[2, 1], NOW).unwrap().url,
        "new-v1"
    );
    assert_eq!(
        select_service(&services, &[1, 2], NOW - 2 * DAY)
            .unwrap()
            .url,
        "expired-v2"
    );
    // Both bounds are inclusive.
    assert_eq!(
        select_service(&services, &[2], NOW - DAY).unwrap().url,
        "expired-v2"
    );
    assert_eq!(
        select_service(&services, &[2], NOW - 10 * DAY).unwrap().url,
        "expired-v2"
    );
    let err = select_service(&services, &[3], NOW)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "no matching service found for API versions [3] and current time 2025-01-01T00:00:00Z"
    );
    assert_eq!(
        select_service(&services, &[], NOW).unwrap_err().to_string(),
        "no supported API versions"
    );
    // No start: valid since always, and the oldest.
    let mut open = svc("open", 1, 0, None, "a");
    open.valid_for.start = None;
    assert_eq!(
        select_service(&[open.clone()], &[1], i64::MIN / 2)
            .unwrap()
            .url,
        "open"
    );
    assert_eq!(
        select_service(&[open, services[1].clone()], &[1], NOW)
            .unwrap()
            .url,
        "new-v1"
    );
}

#[test]
fn select_services_groups_by_operator_and_version() {
    let services = [
        svc("a-v1", 1, NOW - 9 * DAY, None, "a"),
        svc("a-v2-old", 2, NOW - 8 * DAY, None, "a"),
        svc("a-v2-new", 2, NOW - DAY, None, "a"),
        svc("b-v2", 2, NOW - 5 * DAY, None, "b"),
        svc("c-v2-future", 2, NOW + DAY, None, "c"),
        svc("d-v1", 1, NOW - 5 * DAY, None, "d"),
    ];
    // The newest service of each operator, of the highest version only.
    let all = select_services(&services, config(Selector::All, 0), &[1, 2], NOW).unwrap();
    assert_eq!(urls(&all), ["a-v2-new", "b-v2"]);
    // sigstore-go's order: newest first.
    assert_eq!(all[0].url, "a-v2-new");
    let v1 = select_services(&services, config(Selector::All, 0), &[1], NOW).unwrap();
    assert_eq!(urls(&v1), ["a-v1", "d-v1"]);

    // ANY: one of them, at random; EXACT:n: n distinct ones.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..64 {
        let one = select_services(&services, config(Selector::Any, 0), &[1, 2], NOW).unwrap();
        assert_eq!(one.len(), 1);
        seen.insert(one[0].url.clone());
    }
    assert!(seen.iter().all(|u| u == "a-v2-new" || u == "b-v2"));
    let two = select_services(&services, config(Selector::Exact, 2), &[2], NOW).unwrap();
    assert_eq!(urls(&two), ["a-v2-new", "b-v2"]);
    let one = select_services(&services, config(Selector::Exact, 1), &[2], NOW).unwrap();
    assert_eq!(one.len(), 1);

    let err = |c: ServiceConfiguration, v: &[u32]| {
        select_services(&services, c, v, NOW)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(config(Selector::Exact, 3), &[1, 2]),
        "service selector count 3 must be less than or equal to the slice length 2"
    );
    assert_eq!(
        err(config(Selector::Exact, 0), &[2]),
        "service selector count must be greater than 0"
    );
    assert_eq!(
        err(config(Selector::Undefined, 0), &[2]),
        "invalid service selector"
    );
    assert_eq!(
        err(config(Selector::Other(7), 0), &[2]),
        "invalid service selector"
    );
    assert_eq!(
        err(config(Selector::All, 0), &[3, 4]),
        "no matching services found for API versions [3 4] and current time 2025-01-01T00:00:00Z"
    );
}

#[test]
fn select_services_with_a_chosen_pick() {
    let services = [
        svc("x", 1, NOW - 3 * DAY, None, "x"),
        svc("y", 1, NOW - 2 * DAY, None, "y"),
        svc("z", 1, NOW - DAY, None, "z"),
    ];
    // Newest first: z, y, x; picking index 0 each time takes z, then (x swapped in) x.
    let got =
        select_services_with(&services, config(Selector::Exact, 2), &[1], NOW, &mut |_| 0).unwrap();
    assert_eq!(
        got.iter().map(|s| s.url.as_str()).collect::<Vec<_>>(),
        ["z", "x"]
    );
    // A pick out of range is clamped, never a panic.
    let got = select_services_with(&services, config(Selector::Any, 0), &[1], NOW, &mut |n| {
        n + 5
    })
    .unwrap();
    assert_eq!(got[0].url, "x");
}

#[test]
fn public_good_and_staging_configs() {
    // 2025-08-01, after the public-good TSA entry starts.
    let now = 1_754_006_400;
    let pg = SigningConfig::embedded(Instance::PublicGood).unwrap();
    assert_eq!(
        pg.fulcio(now).unwrap().unwrap().url,
        "https://fulcio.sigstore.dev"
    );
    assert_eq!(
        pg.oidc_provider(now).unwrap().unwrap().url,
        "https://oauth2.sigstore.dev/auth"
    );
    let logs = pg.rekor_logs(now, REKOR_API_VERSIONS).unwrap();
    assert_eq!(urls(&logs), ["https://rekor.sigstore.dev"]);
    assert_eq!(
        urls(&pg.tsas(now).unwrap()),
        ["https://timestamp.sigstore.dev/api/v1/timestamp"]
    );
    // The TSA entry starts on 2025-07-04: not before.
    let early = 1_720_000_000;
    assert!(pg.tsas(early).is_err());
    assert_eq!(
        pg.ca_urls[0].valid_for.start,
        Some(Instant {
            secs: 1_649_880_375,
            nanos: 0
        })
    );

    // Rekor v2 from 2026-01-01, v1 before, and v1 when only v1 is spoken.
    let v2 =
        SigningConfig::from_json(embedded_rekor_v2_json(Instance::PublicGood).unwrap()).unwrap();
    let in_2026 = 1_767_225_600 + DAY;
    assert_eq!(
        urls(&v2.rekor_logs(in_2026, REKOR_API_VERSIONS).unwrap()),
        ["https://log2025-1.rekor.sigstore.dev"]
    );
    assert_eq!(
        urls(&v2.rekor_logs(NOW, REKOR_API_VERSIONS).unwrap()),
        ["https://rekor.sigstore.dev"]
    );
    assert_eq!(
        urls(&v2.rekor_logs(in_2026, &[1]).unwrap()),
        ["https://rekor.sigstore.dev"]
    );

    // Staging: three rotated v2 logs of one operator; the one valid now is chosen.
    let st = SigningConfig::embedded(Instance::Staging).unwrap();
    assert_eq!(st.rekor_tlog_urls.len(), 4);
    let alpha2 = 1_756_000_000; // 2025-08-24
    assert_eq!(
        urls(&st.rekor_logs(alpha2, REKOR_API_VERSIONS).unwrap()),
        ["https://log2025-alpha2.rekor.sigstage.dev"]
    );
    assert_eq!(
        urls(&st.rekor_logs(in_2026, REKOR_API_VERSIONS).unwrap()),
        ["https://log2025-alpha3.rekor.sigstage.dev"]
    );
    assert!(embedded_rekor_v2_json(Instance::Staging).is_none());
}

#[test]
fn empty_lists_select_nothing() {
    let c = SigningConfig::default();
    assert_eq!(c.fulcio(NOW).unwrap(), None);
    assert_eq!(c.oidc_provider(NOW).unwrap(), None);
    assert!(c.rekor_logs(NOW, REKOR_API_VERSIONS).unwrap().is_empty());
    assert!(c.tsas(NOW).unwrap().is_empty());
    // A list with nothing valid is an error, not "none".
    let c = SigningConfig {
        ca_urls: vec![svc("f", 1, NOW + DAY, None, "o")],
        ..SigningConfig::default()
    };
    assert!(c.fulcio(NOW).is_err());
}

const MT: &str = r#""mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json""#;

fn parse(body: &str) -> Result<SigningConfig, String> {
    SigningConfig::from_json(format!("{{{MT}{body}}}").as_bytes()).map_err(|e| e.to_string())
}

#[test]
fn parsed_as_protojson_reads() {
    // Proto names, nulls, numbers as strings or with exponents, enums by number.
    let c = parse(
        r#","ca_urls":[{"url":"u","major_api_version":"2","valid_for":{"start":"2024-01-01T00:00:00+01:00","end":null}}],
           "oidcUrls":null,"rekorTlogConfig":{"selector":2.0,"count":"1e0"},"tsa_config":{"selector":7}"#,
    )
    .unwrap();
    assert_eq!(c.ca_urls[0].major_api_version, 2);
    assert_eq!(
        c.ca_urls[0].valid_for.start,
        Some(Instant::from_secs(1_704_063_600))
    );
    assert_eq!(c.rekor_tlog_config, config(Selector::Any, 1));
    assert_eq!(c.tsa_config.selector, Selector::Other(7));
    // Go's zero time is no bound.
    let c = parse(
        r#","caUrls":[{"validFor":{"start":"0001-01-01T00:00:00Z","end":"0001-01-01T00:00:00Z"}}]"#,
    )
    .unwrap();
    assert_eq!(c.ca_urls[0].valid_for, ServiceValidity::default());
    // Fractions are kept.
    let c = parse(r#","caUrls":[{"validFor":{"start":"2024-01-01T01:00:00,5Z"}}]"#).unwrap();
    assert_eq!(c.ca_urls[0].valid_for.start.unwrap().nanos, 500_000_000);

    for (body, want) in [
        (r#","foo":1"#, r#"proto: unknown field "foo""#),
        (
            r#","caUrls":[{"url":"u","foo":1}]"#,
            r#"proto: unknown field "foo""#,
        ),
        (
            r#","caUrls":[],"ca_urls":[]"#,
            r#"proto: duplicate field "ca_urls""#,
        ),
        (
            r#","mediaType":null"#,
            r#"proto: duplicate field "mediaType""#,
        ),
        (
            r#","rekorTlogConfig":{"selector":"any"}"#,
            r#"proto: invalid value for enum field selector: "any""#,
        ),
        (
            r#","rekorTlogConfig":{"selector":"2"}"#,
            r#"proto: invalid value for enum field selector: "2""#,
        ),
        (
            r#","rekorTlogConfig":{"count":" 1"}"#,
            r#"proto: invalid value for uint32 field count: " 1""#,
        ),
        (
            r#","caUrls":[{"majorApiVersion":-1}]"#,
            "proto: invalid value for uint32 field majorApiVersion: -1",
        ),
        (
            r#","caUrls":[{"majorApiVersion":4294967296}]"#,
            "proto: invalid value for uint32 field majorApiVersion: 4294967296",
        ),
        (
            r#","caUrls":[{"majorApiVersion":1.5}]"#,
            "proto: invalid value for uint32 field majorApiVersion: 1.5",
        ),
        (
            r#","caUrls":[{"url":1}]"#,
            "proto: invalid value for string field url: 1",
        ),
        (
            r#","caUrls":[null]"#,
            "proto: syntax error: unexpected token null",
        ),
        (
            r#","tsaUrls":{}"#,
            "proto: syntax error: unexpected token {",
        ),
        (
            r#","rekorTlogConfig":[]"#,
            "proto: syntax error: unexpected token [",
        ),
        (
            r#","caUrls":[{"validFor":{"start":"2024-01-01T00:00:00"}}]"#,
            r#"proto: invalid google.protobuf.Timestamp value "2024-01-01T00:00:00""#,
        ),
        (
            r#","caUrls":[{"validFor":{"start":"2024-01-01t00:00:00z"}}]"#,
            r#"proto: invalid google.protobuf.Timestamp value "2024-01-01t00:00:00z""#,
        ),
        (
            r#","caUrls":[{"validFor":{"start":"2024-01-01T00:00:00.1234567891Z"}}]"#,
            r#"proto: invalid google.protobuf.Timestamp value "2024-01-01T00:00:00.1234567891Z""#,
        ),
        (
            r#","caUrls":[{"validFor":{"start":"2024-02-30T00:00:00Z"}}]"#,
            r#"proto: invalid google.protobuf.Timestamp value "2024-02-30T00:00:00Z""#,
        ),
        (
            r#","caUrls":[{"validFor":{"start":"0001-01-01T00:00:00+01:00"}}]"#,
            r#"proto: google.protobuf.Timestamp value out of range: "0001-01-01T00:00:00+01:00""#,
        ),
        (
            r#","caUrls":[{"validFor":{"start":"2024-01-01T00:00:00Z","x":1}}]"#,
            r#"proto: unknown field "x""#,
        ),
    ] {
        assert_eq!(parse(body).unwrap_err(), want, "{body}");
    }
    let err = |json: &str| {
        SigningConfig::from_json(json.as_bytes())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(err("{}"), "unsupported SigningConfig media type: ");
    assert_eq!(
        err(r#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.1+json"}"#),
        "unsupported SigningConfig media type: application/vnd.dev.sigstore.signingconfig.v0.1+json"
    );
    assert_eq!(err("[]"), "proto: syntax error: unexpected token [");
    assert!(err("").starts_with("proto: syntax error"));
    assert!(err(&format!("{{{MT}}} trailing")).starts_with("proto: syntax error"));
    assert_eq!(
        err(r#"{"mediaType":1}"#),
        "proto: invalid value for string field mediaType: 1"
    );
    let huge = vec![b' '; MAX_SIGNING_CONFIG_LEN + 1];
    assert!(SigningConfig::from_json(&huge).is_err());
}

#[test]
fn written_back_as_sigstore_go_writes_it() {
    // The staging config round-trips (times normalised to protojson's form).
    let st = SigningConfig::embedded(Instance::Staging).unwrap();
    let json = st.to_json().unwrap();
    assert!(json.starts_with(&format!("{{{MT},\"caUrls\":[{{\"url\":\"https://fulcio.sigstage.dev\",\"majorApiVersion\":1,\"validFor\":{{\"start\":\"2022-04-14T21:38:40Z\"}},\"operator\":\"sigstore.dev\"}}]")));
    assert!(json.ends_with(r#""rekorTlogConfig":{"selector":"ANY"},"tsaUrls":[{"url":"https://timestamp.sigstage.dev/api/v1/timestamp","majorApiVersion":1,"validFor":{"start":"2025-04-09T00:00:00Z"},"operator":"sigstore.dev"}],"tsaConfig":{"selector":"ANY"}}"#));
    assert_eq!(SigningConfig::from_json(json.as_bytes()).unwrap(), st);
    // "2022-04-13T20:06:15.000Z" is written without its zero fraction.
    let pg = SigningConfig::embedded(Instance::PublicGood)
        .unwrap()
        .to_json()
        .unwrap();
    assert!(pg.contains(r#""start":"2022-04-13T20:06:15Z""#));

    // Empty: both selector configurations are written.
    assert_eq!(
        SigningConfig::default().to_json().unwrap(),
        format!("{{{MT},\"rekorTlogConfig\":{{}},\"tsaConfig\":{{}}}}")
    );
    // Services without a start get Go's zero time, unknown selectors their number, strings
    // protojson's escapes.
    let c = parse(
        r#","caUrls":[{"url":"\u00e9\u0001\"<>&"}],"rekorTlogConfig":{"selector":-1},"tsaConfig":{"selector":"SERVICE_SELECTOR_UNDEFINED","count":0}"#,
    )
    .unwrap();
    assert_eq!(
        c.to_json().unwrap(),
        format!(
            "{{{MT},\"caUrls\":[{{\"url\":\"é\\u0001\\\"<>&\",\"validFor\":{{\"start\":\"0001-01-01T00:00:00Z\"}}}}],\"rekorTlogConfig\":{{\"selector\":-1}},\"tsaConfig\":{{}}}}"
        )
    );
}

#[test]
fn tuf_or_embedded_without_a_repository_is_the_embedded_copy() {
    let (c, source) =
        SigningConfig::tuf_or_embedded::<crate::tuf::HttpFetcher>(None, Instance::Staging).unwrap();
    assert_eq!(source, SigningConfigSource::Embedded(Instance::Staging));
    assert_eq!(c, SigningConfig::embedded(Instance::Staging).unwrap());
}

#[test]
fn validity_in_seconds() {
    let v = ServiceValidity {
        start: Some(Instant { secs: 10, nanos: 5 }),
        end: Some(Instant {
            secs: 20,
            nanos: 500,
        }),
    };
    assert_eq!(
        v.period(),
        ValidityPeriod {
            start: Some(10),
            end: Some(20)
        }
    );
    assert!(!v.contains(10));
    assert!(v.contains(11));
    assert!(v.contains(20));
    assert!(!v.contains(21));
}
