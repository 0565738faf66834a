//! Go cosign's argument fix-ups, done before parsing: a single-dash long flag (`-key`) becomes
//! `--key`, a three-character `--x` becomes `-x`, and `-version` becomes the `version` command,
//! each with cosign's deprecation warning. `-a=value` (a short flag with a value) is left alone.

use std::ffi::OsString;

fn is_flag_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Rewrites `args` (including the program name at index 0), reporting each warning to `warn`.
pub fn rewrite(args: Vec<OsString>, warn: &mut dyn FnMut(String)) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut passthrough = false;
    for (i, arg) in args.into_iter().enumerate() {
        let Some(text) = arg.to_str().filter(|_| i > 0 && !passthrough) else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            passthrough = true;
            out.push(arg);
            continue;
        }
        if let Some(name) = text.strip_prefix("--") {
            if name.len() == 1 && is_flag_name(name) {
                let new = format!("-{name}");
                warn(format!(
                    "WARNING: the flag {text} is deprecated and will be removed in a future release. Please use the flag {new}."
                ));
                out.push(new.into());
            } else {
                out.push(arg);
            }
            continue;
        }
        let Some(body) = text.strip_prefix('-') else {
            out.push(arg);
            continue;
        };
        let name = body.split_once('=').map_or(body, |(n, _)| n);
        // `-a`, `-a=value`, `-` and non-flags such as `-1` stay as they are.
        if name.len() < 2 || !is_flag_name(name) {
            out.push(arg);
            continue;
        }
        let new = format!("-{text}");
        if new == "--version" {
            warn(format!(
                "WARNING: the {text} flag is deprecated and will be removed in a future release. Please use the version subcommand instead."
            ));
            out.push("version".into());
        } else {
            warn(format!(
                "WARNING: the {text} flag is deprecated and will be removed in a future release. Please use the {} flag instead.",
                new.split_once('=').map_or(new.as_str(), |(n, _)| n)
            ));
            out.push(new.into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> (Vec<String>, Vec<String>) {
        let mut warnings = Vec::new();
        let out = rewrite(args.iter().map(OsString::from).collect(), &mut |w| {
            warnings.push(w)
        });
        (
            out.into_iter().map(|a| a.into_string().unwrap()).collect(),
            warnings,
        )
    }

    #[test]
    fn single_dash_long_flags_are_rewritten() {
        let (out, warnings) = run(&[
            "cosign",
            "sign-blob",
            "-key",
            "k",
            "-output-signature=s",
            "-",
        ]);
        assert_eq!(
            out,
            [
                "cosign",
                "sign-blob",
                "--key",
                "k",
                "--output-signature=s",
                "-"
            ]
        );
        assert_eq!(
            warnings[0],
            "WARNING: the -key flag is deprecated and will be removed in a future release. Please use the --key flag instead."
        );
        assert_eq!(warnings.len(), 2);
    }

    #[test]
    fn short_flags_values_and_passthrough_stay() {
        let (out, warnings) = run(&[
            "cosign",
            "verify",
            "-a",
            "x=y",
            "-a=foo=bar",
            "-d",
            "--",
            "-key",
        ]);
        assert_eq!(
            out,
            [
                "cosign",
                "verify",
                "-a",
                "x=y",
                "-a=foo=bar",
                "-d",
                "--",
                "-key"
            ]
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn version_and_triple_char() {
        let (out, _) = run(&["cosign", "-version"]);
        assert_eq!(out, ["cosign", "version"]);
        let (out, w) = run(&["cosign", "verify", "--o", "json"]);
        assert_eq!(out, ["cosign", "verify", "-o", "json"]);
        assert_eq!(w.len(), 1);
    }
}
