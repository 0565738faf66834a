//! The `cosign` binary: argument fix-ups, parsing, dispatch, and cosign's error reporting.
#![forbid(unsafe_code)]

mod args;
mod argv;
mod commands;
mod ctx;
mod env;
mod exit;
mod output;
mod printer;
mod progress;
mod prompt;
mod settings;

use std::io::Write;
use std::process::ExitCode;

use clap::FromArgMatches;

use crate::args::Cli;
use crate::printer::Printer;

fn main() -> ExitCode {
    let mut warnings = Vec::new();
    let argv = argv::rewrite(std::env::args_os().collect(), &mut |w| warnings.push(w));
    let mut stderr = std::io::stderr().lock();
    for w in &warnings {
        let _ = writeln!(stderr, "{w}");
    }
    drop(stderr);

    let command = Cli::full_command();
    let matches = match command.try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => return clap_error(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_error(e),
    };
    if cli.global.verbose {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .init();
    }
    let printer = match Printer::new(cli.global.output_file.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            return fail(&anyhow::anyhow!(
                "opening --output-file {}: {e}",
                cli.global
                    .output_file
                    .as_deref()
                    .unwrap_or_else(|| std::path::Path::new(""))
                    .display()
            ));
        }
    };
    match commands::run(cli, &printer) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn fail(err: &anyhow::Error) -> ExitCode {
    let msg = exit::message(err);
    let _ = std::io::stderr().write_all(exit::report(&msg).as_bytes());
    ExitCode::from(u8::try_from(exit::code(err)).unwrap_or(1))
}

/// Help and version requests print normally; usage errors print in cosign's format, exit 1.
fn clap_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let rendered = err.render().to_string();
            let first = rendered
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ")
                .to_owned();
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(exit::report(&first).as_bytes());
            // Keep clap's hints (usage, suggestions) after cosign's two lines.
            let rest: Vec<&str> = rendered.lines().skip(1).collect();
            if !rest.is_empty() {
                let _ = writeln!(stderr, "{}", rest.join("\n").trim_end());
            }
            ExitCode::from(1)
        }
    }
}
