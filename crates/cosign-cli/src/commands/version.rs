//! `cosign version`: the banner and build information, as text or JSON.

use anyhow::Result;
use serde::Serialize;

use crate::args::VersionArgs;
use crate::ctx::Ctx;

const BANNER: &str = r"  ______   ______        _______. __    _______ .__   __.
 /      | /  __  \      /       ||  |  /  _____||  \ |  |
|  ,----'|  |  |  |    |   (----`|  | |  |  __  |   \|  |
|  |     |  |  |  |     \   \    |  | |  | |_ | |  . `  |
|  `----.|  `--'  | .----)   |   |  | |  |__| | |  |\   |
 \______| \______/  |_______/    |__|  \______| |__| \__|
cosign: A tool for Container Signing, Verification and Storage in an OCI registry.";

/// Build information; field names as Go cosign's `version --json` prints them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Info {
    git_version: String,
    git_commit: &'static str,
    git_tree_state: &'static str,
    build_date: &'static str,
    go_version: &'static str,
    compiler: &'static str,
    platform: String,
}

fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}/{arch}", std::env::consts::OS)
}

fn info() -> Info {
    Info {
        git_version: format!("v{}", env!("CARGO_PKG_VERSION")),
        git_commit: env!("COSIGN_BUILD_GIT_COMMIT"),
        git_tree_state: env!("COSIGN_BUILD_GIT_TREE_STATE"),
        build_date: env!("COSIGN_BUILD_DATE"),
        // The field keeps Go cosign's name; it holds the Rust compiler that built this binary.
        go_version: env!("COSIGN_BUILD_RUSTC"),
        compiler: "rustc",
        platform: platform(),
    }
}

pub fn run(args: &VersionArgs, ctx: &Ctx<'_>) -> Result<()> {
    let i = info();
    if args.json {
        let text = serde_json::to_string_pretty(&i)?;
        ctx.printer.out_line(&text)?;
        return Ok(());
    }
    let text = format!(
        "{BANNER}\n\nGitVersion:    {}\nGitCommit:     {}\nGitTreeState:  {}\nBuildDate:     {}\nGoVersion:     {}\nCompiler:      {}\nPlatform:      {}\n",
        i.git_version,
        i.git_commit,
        i.git_tree_state,
        i.build_date,
        i.go_version,
        i.compiler,
        i.platform
    );
    ctx.printer.out_bytes(text.as_bytes())?;
    Ok(())
}
