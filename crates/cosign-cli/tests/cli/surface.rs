//! The command surface: version, env, completion, help, flag handling and error format.

use crate::common::Scratch;

#[test]
fn version_text_and_json() {
    let s = Scratch::new();
    let run = s.run(&["version"], &[], None).ok();
    let text = run.stdout_text();
    for key in [
        "GitVersion:",
        "GitCommit:",
        "GitTreeState:",
        "BuildDate:",
        "GoVersion:",
        "Compiler:",
        "Platform:",
    ] {
        assert!(text.contains(key), "{key} missing from {text}");
    }
    assert!(text.contains(
        "cosign: A tool for Container Signing, Verification and Storage in an OCI registry."
    ));
    let raw = s.run(&["version", "--json"], &[], None).ok().stdout_text();
    let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
    // Keys in Go's field order.
    let order = [
        "gitVersion",
        "gitCommit",
        "gitTreeState",
        "buildDate",
        "goVersion",
        "compiler",
        "platform",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|k| raw.find(&format!("\"{k}\"")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{raw}");
    assert_eq!(json.as_object().unwrap().len(), order.len());
    assert_eq!(
        json["gitVersion"],
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );
    // `-version` is rewritten to the subcommand, with a warning.
    let run = s.run(&["-version"], &[], None).ok();
    assert!(run.stdout_text().contains("GitVersion:"));
    assert!(
        run.stderr
            .contains("Please use the version subcommand instead.")
    );
}

#[test]
fn env_lists_registry_and_masks_secrets() {
    let s = Scratch::new();
    let run = s
        .run(
            &["env"],
            &[
                ("COSIGN_PASSWORD", "s3cret"),
                ("COSIGN_REPOSITORY", "r.example/sigs"),
                ("COSIGN_UNKNOWN_THING", "x"),
            ],
            None,
        )
        .ok();
    let out = run.stdout_text();
    assert!(
        out.contains("# COSIGN_PASSWORD overrides password inputs with this value\n# Expects: ")
    );
    assert!(out.contains("COSIGN_PASSWORD=******\n"));
    assert!(!out.contains("s3cret"));
    assert!(out.contains("COSIGN_REPOSITORY=r.example/sigs\n"));
    assert!(out.contains("# Environment variables below are not registered with cosign,\n# but might still influence cosign's behavior.\nCOSIGN_UNKNOWN_THING=******\n"));
    let run = s
        .run(
            &[
                "env",
                "--show-descriptions=false",
                "--show-sensitive-values",
            ],
            &[("COSIGN_PASSWORD", "s3cret")],
            None,
        )
        .ok();
    let out = run.stdout_text();
    assert!(!out.contains('#'));
    assert!(out.contains("COSIGN_PASSWORD=s3cret\n"));
    let names: Vec<_> = out
        .lines()
        .map(|l| l.split('=').next().unwrap().to_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn completion_scripts() {
    let s = Scratch::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = s.run(&["completion", shell], &[], None).ok();
        let text = run.stdout_text();
        assert!(text.contains("sign-blob"), "{shell}");
    }
    s.run(&["completion", "tcsh"], &[], None).fails();
}

#[test]
fn output_file_redirects_stdout() {
    let s = Scratch::new();
    let run = s
        .run(&["version", "--json", "--output-file", "v.json"], &[], None)
        .ok();
    assert!(run.stdout.is_empty());
    let json: serde_json::Value = serde_json::from_slice(&s.read("v.json")).unwrap();
    assert!(json["gitVersion"].is_string());
}

#[test]
fn usage_errors_use_cosign_format_and_exit_1() {
    let s = Scratch::new();
    let run = s.run(&["verify-blob", "--no-such-flag", "x"], &[], None);
    assert_eq!(run.code, 1);
    let first_two: Vec<_> = run
        .stderr_redacted()
        .lines()
        .take(2)
        .map(str::to_owned)
        .collect();
    insta::assert_snapshot!(first_two.join("\n"), @r"
    Error: unexpected argument '--no-such-flag' found
    [TIMESTAMP] error during command execution: unexpected argument '--no-such-flag' found
    ");
    let run = s.run(
        &["sign-blob", "--key", "k", "--tlog-upload", "false", "f"],
        &[],
        None,
    );
    assert_eq!(
        run.code, 1,
        "Go-style booleans take no separate value: {}",
        run.stderr
    );
    let run = s.run(&["sign-blob", "--tlog-upload=maybe", "f"], &[], None);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("invalid boolean value"),
        "{}",
        run.stderr
    );
    let run = s.run(&["--timeout", "forever", "version"], &[], None);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("invalid duration"), "{}", run.stderr);
}

#[test]
fn runtime_errors_snapshot() {
    let s = Scratch::new();
    s.write("f", "x");
    let run = s
        .run(
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--signature",
                "AAAA",
                "f",
            ],
            &[],
            None,
        )
        .fails();
    insta::assert_snapshot!("error_no_tlog_key", run.stderr_redacted());
}

#[test]
fn help_texts() {
    let s = Scratch::new();
    for cmd in [
        "sign-blob",
        "verify-blob",
        "generate-key-pair",
        "import-key-pair",
        "public-key",
        "env",
        "version",
        "completion",
        "sign",
        "verify",
        "generate",
        "attach signature",
        "download signature",
        "triangulate",
        "initialize",
        "clean",
        "pkcs11-tool",
        "pkcs11-tool list-tokens",
        "pkcs11-tool list-keys-uris",
        "bundle",
        "bundle create",
        "bundle inspect",
        "bundle upgrade",
    ] {
        let mut args: Vec<&str> = cmd.split(' ').collect();
        args.push("--help");
        let run = s.run(&args, &[], None).ok();
        insta::assert_snapshot!(format!("help_{}", cmd.replace(' ', "_")), run.stdout_text());
    }
    let run = s.run(&["--help"], &[], None).ok();
    insta::assert_snapshot!("help_root", run.stdout_text());
}
