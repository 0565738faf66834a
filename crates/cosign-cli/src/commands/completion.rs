//! `cosign completion SHELL`: shell completion scripts generated from the command definition.

use anyhow::Result;
use clap_complete::Shell;

use super::Ctx;
use crate::args::{Cli, CompletionArgs};

pub fn run(args: &CompletionArgs, ctx: &Ctx<'_>) -> Result<()> {
    let shell = match args.shell.as_str() {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => Shell::PowerShell,
    };
    let mut cmd = Cli::full_command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "cosign", &mut buf);
    ctx.printer.out_bytes(&buf)?;
    Ok(())
}
