//! Records the build's git commit, tree state, date and compiler for `cosign version`.

// Cargo hands build scripts their inputs through the environment.
#![allow(clippy::disallowed_methods)]

use std::process::Command;

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    let commit = run("git", &["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let state = match run("git", &["status", "--porcelain", "--untracked-files=no"]) {
        Some(s) if s.is_empty() => "clean",
        Some(_) => "dirty",
        None => "unknown",
    };
    // The commit date keeps builds of one commit reproducible.
    let date = run(
        "git",
        &[
            "log",
            "-1",
            "--format=%cd",
            "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
        ],
    )
    .filter(|s| !s.is_empty())
    .unwrap_or_else(|| "unknown".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = run(&rustc, &["--version"]).unwrap_or_else(|| "rustc unknown".into());
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=COSIGN_BUILD_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=COSIGN_BUILD_GIT_TREE_STATE={state}");
    println!("cargo:rustc-env=COSIGN_BUILD_DATE={date}");
    println!("cargo:rustc-env=COSIGN_BUILD_RUSTC={rustc_version}");
    println!("cargo:rustc-env=COSIGN_BUILD_TARGET={target}");
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/index");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
}
