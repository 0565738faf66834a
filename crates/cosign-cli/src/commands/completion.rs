//! `cosign completion SHELL`: shell completion scripts generated from the command definition.

use anyhow::Result;
use clap_complete::Shell;

use crate::args::{Cli, CompletionArgs};
use crate::ctx::Ctx;

pub fn run(args: &CompletionArgs, ctx: &Ctx<'_>) -> Result<()> {
    let shell = Shell::from(args.shell);
    let mut cmd = Cli::full_command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "cosign", &mut buf);
    ctx.printer.out_bytes(&buf)?;
    Ok(())
}
