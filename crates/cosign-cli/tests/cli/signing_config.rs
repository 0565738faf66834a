//! `cosign signing-config create`: every case recorded from Go cosign 3.1.2
//! (tests/data/signing-config/go-3.1.2.json, see record.py there) gives the same output, exit
//! code and error; `--out`; `--with-default-services` and `--with-default-rekor-v2` from an
//! initialized TUF repository, and offline the copies built in; base configs Go cosign crashes
//! on; the help text.

use std::path::Path;

use cosign_trust::signing_config::{REKOR_API_VERSIONS, SigningConfig};
use serde_json::Value;

use crate::common::Scratch;

#[allow(dead_code, clippy::all, clippy::unwrap_used, clippy::expect_used)]
#[path = "../../../cosign-trust/tests/tuf/repo.rs"]
mod tuf_repo;

fn data_dir() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/signing-config"
    ))
}

/// A scratch directory holding the JSON inputs of the recorded cases.
fn inputs() -> Scratch {
    let s = Scratch::new();
    for entry in std::fs::read_dir(data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.ends_with(".json") && !name.starts_with("go-") {
            std::fs::copy(&path, s.path(&name)).unwrap();
        }
    }
    s
}

/// protojson's output without its random space after commas (outside strings).
fn without_detrand_spaces(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped, mut after_comma) = (false, false, false);
    for c in json.chars() {
        if after_comma && c == ' ' {
            after_comma = false;
            continue;
        }
        after_comma = false;
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == ',' {
            after_comma = true;
        }
        out.push(c);
    }
    out
}

/// A protobuf-go message without its `(line L:C)` positions (`proto: (line 1:5): x` reads
/// `proto: x`, `syntax error (line 1:1): x` reads `syntax error: x`) and with a plain space
/// where protobuf-go puts its random no-break space after `proto:`.
fn without_positions(message: &str) -> String {
    let mut out = message.replace("proto:\u{a0}", "proto: ");
    while let Some(start) = out.find("(line ") {
        let Some(len) = out[start..].find(')') else {
            break;
        };
        let end = start + len + 1;
        if out[..start].ends_with(": ") && out[end..].starts_with(": ") {
            out.replace_range(start..end + 2, "");
        } else {
            out.replace_range(start.saturating_sub(1)..end, "");
        }
    }
    out
}

#[test]
fn every_recorded_go_case_gives_the_same_result() {
    let cases: Vec<Value> =
        serde_json::from_slice(&std::fs::read(data_dir().join("go-3.1.2.json")).unwrap()).unwrap();
    assert!(cases.len() > 40);
    let s = inputs();
    for case in &cases {
        let mut args = vec!["signing-config".to_owned(), "create".to_owned()];
        args.extend(
            case["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned()),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = s.run(&args, &[], None);
        let go_code = case["code"].as_i64().unwrap();
        assert_eq!(i64::from(run.code), go_code, "{args:?}: {}", run.stderr);
        let go_stdout = case["stdout"].as_str().unwrap();
        assert_eq!(
            run.stdout_text(),
            without_detrand_spaces(go_stdout),
            "{args:?}"
        );
        match case["error"].as_str() {
            Some(go_error) => {
                let ours = run
                    .stderr
                    .lines()
                    .find(|l| l.starts_with("Error: "))
                    .unwrap_or_else(|| panic!("{args:?}: no Error line in {}", run.stderr));
                assert_eq!(ours, without_positions(go_error), "{args:?}");
            }
            None => assert_eq!(run.stderr, "", "{args:?}"),
        }
    }
}

#[test]
fn normalisers() {
    assert_eq!(
        without_detrand_spaces(r#"{"a":"x, y", "b":[1, 2]}"#),
        r#"{"a":"x, y","b":[1,2]}"#
    );
    assert_eq!(
        without_positions(
            "loading base config from b.json: proto: (line 1:105): unknown field \"x\""
        ),
        "loading base config from b.json: proto: unknown field \"x\""
    );
    assert_eq!(
        without_positions("proto:\u{a0}syntax error (line 1:1): unexpected token ["),
        "proto: syntax error: unexpected token ["
    );
}

#[test]
fn out_writes_a_private_file_and_the_config_selects() {
    let s = inputs();
    let args = [
        "signing-config",
        "create",
        "--fulcio",
        "url=https://fulcio.example,api-version=1,start-time=2024-01-01T00:00:00Z,operator=example",
        "--rekor",
        "url=https://rekor2.example,api-version=2,start-time=2025-01-01T00:00:00Z,operator=example",
        "--rekor",
        "url=https://rekor1.example,api-version=1,start-time=2024-01-01T00:00:00Z,operator=example",
        "--rekor-config",
        "ANY",
        "--tsa",
        "url=https://tsa.example/api/v1/timestamp,api-version=1,start-time=2024-01-01T00:00:00Z,operator=example",
        "--tsa-config",
        "ALL",
    ];
    let mut with_out = args.to_vec();
    with_out.extend(["--out", "sc.json"]);
    let run = s.run(&with_out, &[], None).ok();
    assert!(run.stdout.is_empty());
    assert_eq!(run.stderr, "");
    let printed = s.run(&args, &[], None).ok().stdout;
    let file = s.read("sc.json");
    assert_eq!(printed, [file.as_slice(), b"\n"].concat());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(s.path("sc.json")).unwrap().permissions();
        assert_eq!(mode.mode() & 0o777, 0o600);
    }
    // What it wrote is a config a signer can use: Rekor v2 preferred once valid.
    let config = SigningConfig::from_json(&file).unwrap();
    let in_2026 = 1_767_225_600;
    assert_eq!(
        config.rekor_logs(in_2026, REKOR_API_VERSIONS).unwrap()[0].url,
        "https://rekor2.example"
    );
    assert_eq!(
        config.rekor_logs(in_2026, &[1]).unwrap()[0].url,
        "https://rekor1.example"
    );
    assert_eq!(
        config.fulcio(in_2026).unwrap().unwrap().url,
        "https://fulcio.example"
    );
    assert_eq!(config.tsas(in_2026).unwrap().len(), 1);
    // An existing file is replaced.
    s.run(&["signing-config", "create", "--out", "sc.json"], &[], None)
        .ok();
    assert!(s.read("sc.json").starts_with(b"{\"mediaType\""));
    assert!(
        !String::from_utf8(s.read("sc.json"))
            .unwrap()
            .contains("caUrls")
    );
    let run = s
        .run(
            &["signing-config", "create", "--out", "no/such/dir/sc.json"],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("Error: open no/such/dir/sc.json: no such file or directory"),
        "{}",
        run.stderr
    );
}

#[test]
fn base_configs_go_cosign_crashes_on_are_read() {
    // Go cosign 3.1.2 dereferences the absent rekorTlogConfig / tsaConfig (SIGSEGV, exit 2).
    let s = Scratch::new();
    s.write(
        "bare.json",
        r#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","caUrls":[{"url":"u"}]}"#,
    );
    let run = s
        .run(
            &["signing-config", "create", "--base-config", "bare.json"],
            &[],
            None,
        )
        .ok();
    assert_eq!(
        run.stdout_text(),
        "{\"mediaType\":\"application/vnd.dev.sigstore.signingconfig.v0.2+json\",\"caUrls\":[{\"url\":\"u\",\"validFor\":{\"start\":\"0001-01-01T00:00:00Z\"}}],\"rekorTlogConfig\":{},\"tsaConfig\":{}}\n"
    );
    // Too big to be a signing config.
    s.write("big.json", vec![b' '; (1 << 20) + 10]);
    let run = s
        .run(
            &["signing-config", "create", "--base-config", "big.json"],
            &[],
            None,
        )
        .fails();
    assert!(
        run.stderr
            .contains("loading base config from big.json: more than"),
        "{}",
        run.stderr
    );
}

/// Publishes `targets` in a TUF repository on disk and runs `cosign initialize` on it;
/// returns the environment naming the cache.
fn initialized(s: &Scratch, targets: &[(&str, &[u8])]) -> String {
    let mut repo = tuf_repo::Repo::new();
    for (name, body) in targets {
        repo.targets.insert((*name).into(), body.to_vec());
    }
    repo.targets.insert(
        "trusted_root.json".into(),
        cosign_trust::tuf::Instance::Staging
            .trusted_root_json()
            .to_vec(),
    );
    repo.publish();
    let dir = s.path("mirror");
    for (name, body) in repo.files.lock().unwrap().iter() {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    std::fs::write(s.path("root.json"), &repo.roots[&1]).unwrap();
    let mirror = format!("file://{}", dir.display());
    let cache = s.path("tuf-cache").display().to_string();
    s.run(
        &["initialize", "--mirror", &mirror, "--root", "root.json"],
        &[("TUF_ROOT", cache.as_str())],
        None,
    )
    .ok();
    cache
}

#[test]
fn default_services_come_from_the_initialized_repository() {
    let s = inputs();
    let staging = s.read("staging.json");
    let v2 = cosign_trust::signing_config::embedded_rekor_v2_json(
        cosign_trust::tuf::Instance::PublicGood,
    )
    .unwrap();
    let cache = initialized(
        &s,
        &[
            ("signing_config.v0.2.json", &staging),
            ("signing_config_rekor_v2.v0.2.json", v2),
        ],
    );
    let env = [("TUF_ROOT", cache.as_str())];
    let create = |extra: &[&str]| {
        let mut args = vec!["signing-config", "create"];
        args.extend_from_slice(extra);
        let run = s.run(&args, &env, None).ok();
        assert_eq!(run.stderr, "");
        SigningConfig::from_json(&run.stdout).unwrap()
    };
    // The repository's config, as --base-config would give it.
    let from_base = create(&["--base-config", "staging.json"]);
    assert_eq!(create(&["--with-default-services"]), from_base);
    // --with-default-rekor-v2 reads the other target.
    let with_v2 = create(&["--with-default-rekor-v2"]);
    assert_eq!(with_v2, SigningConfig::from_json(v2).unwrap());
    // Flags add services after the defaults; --no-default-* leave kinds out.
    let spec = "url=https://tsa.example,api-version=1,start-time=2024-01-01T00:00:00Z,operator=me";
    let c = create(&[
        "--with-default-services",
        "--tsa",
        spec,
        "--tsa-config",
        "EXACT:2",
        "--no-default-oidc",
        "--no-default-rekor",
    ]);
    assert_eq!(c.ca_urls, from_base.ca_urls);
    assert!(c.oidc_urls.is_empty() && c.rekor_tlog_urls.is_empty());
    assert_eq!(c.tsa_urls.len(), 2);
    assert_eq!(c.tsa_urls[0], from_base.tsa_urls[0]);
    assert_eq!(c.tsa_urls[1].url, "https://tsa.example");
    assert_eq!(c.tsa_config.count, 2);

    // A repository without the target: Go's error, never another instance's services.
    let s = Scratch::new();
    let cache = initialized(&s, &[]);
    let run = s
        .run(
            &["signing-config", "create", "--with-default-services"],
            &[("TUF_ROOT", cache.as_str())],
            None,
        )
        .fails();
    assert!(
        run.stderr.contains(
            "Error: getting default trusted root: error getting signing config from TUF: target \"signing_config.v0.2.json\" not found"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn offline_the_instance_defaults_are_the_copy_built_in_with_a_warning() {
    // Nothing initialized: the public-good repository, unreachable through a closed proxy.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let proxy = format!("http://127.0.0.1:{closed}");
    let s = Scratch::new();
    let env = [
        ("HTTPS_PROXY", proxy.as_str()),
        ("HTTP_PROXY", proxy.as_str()),
    ];
    for (flag, embedded) in [
        (
            "--with-default-services",
            cosign_trust::signing_config::embedded_json(cosign_trust::tuf::Instance::PublicGood),
        ),
        (
            "--with-default-rekor-v2",
            cosign_trust::signing_config::embedded_rekor_v2_json(
                cosign_trust::tuf::Instance::PublicGood,
            )
            .unwrap(),
        ),
    ] {
        let run = s.run(&["signing-config", "create", flag], &env, None).ok();
        assert_eq!(
            SigningConfig::from_json(&run.stdout).unwrap(),
            SigningConfig::from_json(embedded).unwrap()
        );
        assert!(
            run.stderr
                .starts_with("WARNING: could not read signing_config")
                && run.stderr.contains("https://tuf-repo-cdn.sigstore.dev")
                && run.stderr.contains("using the copy built into cosign"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn help_texts_signing_config() {
    let s = Scratch::new();
    for cmd in ["signing-config", "signing-config create"] {
        let mut args: Vec<&str> = cmd.split(' ').collect();
        args.push("--help");
        let run = s.run(&args, &[], None).ok();
        insta::assert_snapshot!(format!("help_{}", cmd.replace(' ', "_")), run.stdout_text());
    }
}
