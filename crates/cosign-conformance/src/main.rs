//! `cosign-conformance`: the entry point the sigstore-conformance suite drives. It translates
//! each protocol call into `cosign` commands (see the library) and runs them, passing cosign's
//! standard output, standard error and exit code through. Arguments that do not follow the
//! protocol exit 2 with the problem named.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use cosign_conformance::{Facts, USAGE, parse, plan};

/// Exit code of a protocol error.
const USAGE_EXIT: u8 = 2;

fn main() -> ExitCode {
    let mut args = Vec::new();
    for (i, arg) in std::env::args_os().skip(1).enumerate() {
        match arg.into_string() {
            Ok(a) => args.push(a),
            Err(raw) => {
                return usage_failure(&format!(
                    "argument {} is not valid UTF-8: {}",
                    i + 1,
                    raw.to_string_lossy()
                ));
            }
        }
    }
    if matches!(
        args.first().map(String::as_str),
        Some("-h" | "--help" | "help")
    ) {
        say_out(USAGE);
        return ExitCode::SUCCESS;
    }
    let request = match parse(&args) {
        Ok(r) => r,
        Err(e) => return usage_failure(&e.0),
    };
    let plan = plan(&request, &Facts::gather(&request));
    let cosign = cosign_program();
    for call in plan.calls() {
        let status = match Command::new(&cosign).args(call).status() {
            Ok(s) => s,
            Err(e) => {
                say_err(&format!(
                    "cosign-conformance: cannot run {}: {e} (set COSIGN_BIN to the cosign program)",
                    PathBuf::from(&cosign).display()
                ));
                return ExitCode::FAILURE;
            }
        };
        if !status.success() {
            return ExitCode::from(exit_byte(status));
        }
    }
    ExitCode::SUCCESS
}

/// `$COSIGN_BIN` when set, else `cosign` next to this program, else `cosign` (found on PATH).
fn cosign_program() -> OsString {
    #[allow(clippy::disallowed_methods)] // the binary reads its own environment
    if let Some(bin) = std::env::var_os("COSIGN_BIN").filter(|b| !b.is_empty()) {
        return bin;
    }
    if let Ok(me) = std::env::current_exe()
        && let Some(dir) = me.parent()
    {
        let sibling = dir.join(format!("cosign{}", std::env::consts::EXE_SUFFIX));
        if sibling.is_file() {
            return sibling.into_os_string();
        }
    }
    OsString::from("cosign")
}

/// The exit code to pass on: cosign's, or 128 + the signal that ended it.
fn exit_byte(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code & 0xff).unwrap_or(1).max(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return u8::try_from(128 + (signal & 0x7f)).unwrap_or(1);
        }
    }
    1
}

fn usage_failure(problem: &str) -> ExitCode {
    say_err(&format!("cosign-conformance: {problem}\n\n{USAGE}"));
    ExitCode::from(USAGE_EXIT)
}

#[allow(clippy::print_stdout)]
fn say_out(text: &str) {
    println!("{text}");
}

#[allow(clippy::print_stderr)]
fn say_err(text: &str) {
    eprintln!("{text}");
}
