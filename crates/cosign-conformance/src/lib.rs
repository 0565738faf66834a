//! The sigstore-conformance client protocol (`sign-bundle`, `verify-bundle`; see the suite's
//! `docs/cli_protocol.md`) translated into `cosign` invocations the way upstream cosign's
//! `cmd/conformance` wrapper does it.
//!
//! Everything here is pure except [`Facts::gather`], which looks at the disk (does the input
//! exist, does the bundle carry RFC 3161 timestamps); [`parse`] and [`plan`] turn arguments and
//! those facts into the exact argv of each `cosign` call, so they can be tested as is.

use std::fmt;
use std::path::Path;

/// The usage text, printed with every protocol error.
pub const USAGE: &str = "\
Usage:
  cosign-conformance sign-bundle [--staging] [--in-toto] --identity-token TOKEN --bundle FILE \
[--trusted-root FILE] [--signing-config FILE] FILE
  cosign-conformance verify-bundle [--staging] --bundle FILE \
--certificate-identity IDENTITY --certificate-oidc-issuer URL [--trusted-root FILE] FILE_OR_DIGEST
  cosign-conformance verify-bundle [--staging] --bundle FILE --key PATH_TO_KEY \
[--trusted-root FILE] FILE_OR_DIGEST

The cosign program: $COSIGN_BIN, else `cosign` next to this program, else `cosign` on PATH.";

/// Arguments that do not follow the protocol; the message names the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage_error(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

/// One protocol call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `sign-bundle`.
    Sign(SignBundle),
    /// `verify-bundle`.
    Verify(VerifyBundle),
}

/// `sign-bundle [--staging] [--in-toto] --identity-token TOKEN --bundle FILE
/// [--trusted-root FILE] [--signing-config FILE] FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignBundle {
    pub staging: bool,
    pub in_toto: bool,
    pub identity_token: String,
    pub bundle: String,
    pub trusted_root: Option<String>,
    pub signing_config: Option<String>,
    /// The artifact, or with `--in-toto` the in-toto statement to sign.
    pub file: String,
}

/// What a verified bundle must have been signed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// `--certificate-identity IDENTITY --certificate-oidc-issuer URL`.
    Identity { identity: String, issuer: String },
    /// `--key PATH_TO_KEY`.
    Key(String),
}

/// `verify-bundle [--staging] --bundle FILE (--certificate-identity IDENTITY
/// --certificate-oidc-issuer URL | --key PATH_TO_KEY) [--trusted-root FILE] FILE_OR_DIGEST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyBundle {
    pub staging: bool,
    pub bundle: String,
    pub signer: Signer,
    pub trusted_root: Option<String>,
    /// The artifact's path, or its digest (see [`is_sha256_digest`]).
    pub file_or_digest: String,
}

/// The options of the protocol, and whether each takes a value.
const OPTIONS: &[(&str, bool)] = &[
    ("--staging", false),
    ("--in-toto", false),
    ("--identity-token", true),
    ("--bundle", true),
    ("--trusted-root", true),
    ("--signing-config", true),
    ("--certificate-identity", true),
    ("--certificate-oidc-issuer", true),
    ("--key", true),
];

/// Options and the one positional argument, as given.
#[derive(Default)]
struct Parsed {
    flags: Vec<&'static str>,
    values: Vec<(&'static str, String)>,
    positional: Option<String>,
}

impl Parsed {
    fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }

    fn value(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }

    fn required(&self, name: &str, sub: &str) -> Result<String, UsageError> {
        self.value(name)
            .ok_or_else(|| usage_error(format!("{sub}: missing required option {name}")))
    }

    fn refuse(&self, names: &[&str], sub: &str) -> Result<(), UsageError> {
        for name in names {
            if self.flag(name) || self.value(name).is_some() {
                return Err(usage_error(format!(
                    "{sub}: {name} is not an option of {sub}"
                )));
            }
        }
        Ok(())
    }
}

fn split(sub: &str, args: &[String], what: &str) -> Result<Parsed, UsageError> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        match OPTIONS.iter().find(|(name, _)| name == arg) {
            Some(&(name, takes_value)) => {
                if parsed.positional.is_some() {
                    return Err(usage_error(format!(
                        "{sub}: {what} must be the last argument, but {name} follows it"
                    )));
                }
                if parsed.flag(name) || parsed.value(name).is_some() {
                    return Err(usage_error(format!("{sub}: {name} given more than once")));
                }
                if takes_value {
                    let value = args
                        .get(i + 1)
                        .ok_or_else(|| usage_error(format!("{sub}: {name} needs a value")))?;
                    if value.is_empty() {
                        return Err(usage_error(format!(
                            "{sub}: {name} needs a non-empty value"
                        )));
                    }
                    parsed.values.push((name, value.clone()));
                    i += 2;
                } else {
                    parsed.flags.push(name);
                    i += 1;
                }
            }
            None if arg.starts_with("--") => {
                return Err(usage_error(format!("{sub}: unknown option {arg}")));
            }
            None => {
                if let Some(first) = &parsed.positional {
                    return Err(usage_error(format!(
                        "{sub}: one {what} expected, got {first:?} and {arg:?}"
                    )));
                }
                if arg.is_empty() {
                    return Err(usage_error(format!("{sub}: {what} is empty")));
                }
                parsed.positional = Some(arg.clone());
                i += 1;
            }
        }
    }
    Ok(parsed)
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Request, UsageError> {
    let Some((sub, rest)) = args.split_first() else {
        return Err(usage_error(
            "missing subcommand (sign-bundle or verify-bundle)",
        ));
    };
    match sub.as_str() {
        "sign-bundle" => parse_sign(rest).map(Request::Sign),
        "verify-bundle" => parse_verify(rest).map(Request::Verify),
        other => Err(usage_error(format!(
            "unknown subcommand {other:?} (expected sign-bundle or verify-bundle)"
        ))),
    }
}

fn parse_sign(args: &[String]) -> Result<SignBundle, UsageError> {
    const SUB: &str = "sign-bundle";
    let p = split(SUB, args, "FILE")?;
    p.refuse(
        &[
            "--certificate-identity",
            "--certificate-oidc-issuer",
            "--key",
        ],
        SUB,
    )?;
    Ok(SignBundle {
        staging: p.flag("--staging"),
        in_toto: p.flag("--in-toto"),
        identity_token: p.required("--identity-token", SUB)?,
        bundle: p.required("--bundle", SUB)?,
        trusted_root: p.value("--trusted-root"),
        signing_config: p.value("--signing-config"),
        file: p
            .positional
            .ok_or_else(|| usage_error(format!("{SUB}: missing FILE (the artifact to sign)")))?,
    })
}

fn parse_verify(args: &[String]) -> Result<VerifyBundle, UsageError> {
    const SUB: &str = "verify-bundle";
    let p = split(SUB, args, "FILE_OR_DIGEST")?;
    p.refuse(&["--in-toto", "--identity-token", "--signing-config"], SUB)?;
    let signer = match (
        p.value("--certificate-identity"),
        p.value("--certificate-oidc-issuer"),
        p.value("--key"),
    ) {
        (Some(identity), Some(issuer), None) => Signer::Identity { identity, issuer },
        (None, None, Some(key)) => Signer::Key(key),
        (None, None, None) => {
            return Err(usage_error(format!(
                "{SUB}: give either --certificate-identity and --certificate-oidc-issuer, or --key"
            )));
        }
        (_, _, Some(_)) => {
            return Err(usage_error(format!(
                "{SUB}: --key cannot be combined with --certificate-identity or --certificate-oidc-issuer"
            )));
        }
        (Some(_), None, None) => {
            return Err(usage_error(format!(
                "{SUB}: --certificate-identity needs --certificate-oidc-issuer"
            )));
        }
        (None, Some(_), None) => {
            return Err(usage_error(format!(
                "{SUB}: --certificate-oidc-issuer needs --certificate-identity"
            )));
        }
    };
    Ok(VerifyBundle {
        staging: p.flag("--staging"),
        bundle: p.required("--bundle", SUB)?,
        signer,
        trusted_root: p.value("--trusted-root"),
        file_or_digest: p.positional.ok_or_else(|| {
            usage_error(format!(
                "{SUB}: missing FILE_OR_DIGEST (the artifact's path or sha256:<hex>)"
            ))
        })?,
    })
}

/// Whether `arg` has the form of a digest in the protocol: `sha256:` and 64 hex digits.
/// (It is one only when no such path exists: see [`Facts`].)
pub fn is_sha256_digest(arg: &str) -> bool {
    arg.strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A path as an argument cosign reads as that path: cosign takes `-` for standard input, a
/// leading `-` for an option, and a missing `alg:hex` for a digest, so such relative paths get
/// a `./` in front.
pub fn path_arg(path: &str) -> String {
    let relative = !Path::new(path).is_absolute();
    if relative && (path.starts_with('-') || path.contains(':')) {
        format!("./{path}")
    } else {
        path.to_owned()
    }
}

/// A path given as an option's value, kept from reading as an option.
fn option_path(path: &str) -> String {
    if path.starts_with('-') {
        format!("./{path}")
    } else {
        path.to_owned()
    }
}

/// What the translation needs to know from the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// `verify-bundle`: the bundle carries RFC 3161 timestamps (upstream then adds
    /// `--use-signed-timestamps`).
    pub bundle_has_signed_timestamps: bool,
    /// `verify-bundle`: FILE_OR_DIGEST names an existing path.
    pub input_exists: bool,
}

impl Facts {
    /// Looks at the bundle and the input of a `verify-bundle` call. A bundle that cannot be
    /// read or parsed gets no flag: cosign reports what is wrong with it.
    pub fn gather(request: &Request) -> Self {
        match request {
            Request::Sign(_) => Self::default(),
            Request::Verify(v) => Self {
                bundle_has_signed_timestamps: std::fs::read(&v.bundle)
                    .map(|bytes| bundle_has_signed_timestamps(&bytes))
                    .unwrap_or(false),
                input_exists: Path::new(&v.file_or_digest).exists(),
            },
        }
    }
}

/// Whether a Sigstore bundle (protobuf JSON) holds at least one RFC 3161 timestamp in
/// `verificationMaterial.timestampVerificationData.rfc3161Timestamps` (protobuf JSON also
/// allows the snake_case field names).
pub fn bundle_has_signed_timestamps(bundle_json: &[u8]) -> bool {
    fn field<'a>(
        v: &'a serde_json::Value,
        camel: &str,
        snake: &str,
    ) -> Option<&'a serde_json::Value> {
        v.get(camel).or_else(|| v.get(snake))
    }
    let Ok(bundle) = serde_json::from_slice::<serde_json::Value>(bundle_json) else {
        return false;
    };
    field(&bundle, "verificationMaterial", "verification_material")
        .and_then(|m| {
            field(
                m,
                "timestampVerificationData",
                "timestamp_verification_data",
            )
        })
        .and_then(|t| field(t, "rfc3161Timestamps", "rfc3161_timestamps"))
        .and_then(serde_json::Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

/// The `cosign` calls of one request, run in order; the first failure ends the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `cosign initialize [--staging]`, as upstream runs before every command; left out when
    /// every piece of trust material comes from files (then it only needs the network).
    pub initialize: Option<Vec<String>>,
    /// The command itself.
    pub command: Vec<String>,
}

impl Plan {
    /// Every call, in order.
    pub fn calls(&self) -> impl Iterator<Item = &Vec<String>> {
        self.initialize.iter().chain(std::iter::once(&self.command))
    }
}

/// Translates a request into `cosign` argv (without the program name).
pub fn plan(request: &Request, facts: &Facts) -> Plan {
    let mut command: Vec<String> = Vec::new();
    let mut push = |args: &[&str]| command.extend(args.iter().map(|s| (*s).to_owned()));
    let (staging, from_files) = match request {
        Request::Sign(s) => {
            push(&[
                if s.in_toto {
                    "attest-blob"
                } else {
                    "sign-blob"
                },
                "-y",
            ]);
            // cosign 3 writes a Sigstore bundle by default; this cosign writes one with this
            // flag (and cosign 3 accepts it).
            push(&["--new-bundle-format"]);
            push(&["--bundle", &option_path(&s.bundle)]);
            push(&["--identity-token", &s.identity_token]);
            if let Some(root) = &s.trusted_root {
                push(&["--trusted-root", &option_path(root)]);
            }
            if let Some(config) = &s.signing_config {
                push(&["--signing-config", &option_path(config)]);
            }
            if s.in_toto {
                push(&["--statement"]);
            }
            push(&[&path_arg(&s.file)]);
            (
                s.staging,
                s.trusted_root.is_some() && s.signing_config.is_some(),
            )
        }
        Request::Verify(v) => {
            push(&["verify-blob"]);
            if facts.bundle_has_signed_timestamps {
                push(&["--use-signed-timestamps"]);
            }
            push(&["--bundle", &option_path(&v.bundle)]);
            if let Signer::Identity { identity, issuer } = &v.signer {
                push(&["--certificate-identity", identity]);
                push(&["--certificate-oidc-issuer", issuer]);
            }
            if let Some(root) = &v.trusted_root {
                push(&["--trusted-root", &option_path(root)]);
            }
            if let Signer::Key(key) = &v.signer {
                push(&["--key", &option_path(key)]);
            }
            let input = if is_sha256_digest(&v.file_or_digest) && !facts.input_exists {
                v.file_or_digest.clone()
            } else {
                path_arg(&v.file_or_digest)
            };
            push(&[&input]);
            (v.staging, v.trusted_root.is_some())
        }
    };
    let initialize = (!from_files).then(|| {
        let mut init = vec!["initialize".to_owned()];
        if staging {
            init.push("--staging".to_owned());
        }
        init
    });
    Plan {
        initialize,
        command,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_form() {
        let hex = "a".repeat(64);
        assert!(is_sha256_digest(&format!("sha256:{hex}")));
        assert!(is_sha256_digest(&format!("sha256:{}", "AB".repeat(32))));
        assert!(!is_sha256_digest(&format!("sha256:{}", "a".repeat(63))));
        assert!(!is_sha256_digest(&format!("sha256:{}", "a".repeat(65))));
        assert!(!is_sha256_digest(&format!("sha256:{}g", "a".repeat(63))));
        assert!(!is_sha256_digest(&format!("sha512:{hex}")));
        assert!(!is_sha256_digest(&hex));
    }

    #[test]
    fn paths_cosign_would_misread_get_dot_slash() {
        assert_eq!(path_arg("a.txt"), "a.txt");
        assert_eq!(path_arg("/tmp/a.txt"), "/tmp/a.txt");
        assert_eq!(path_arg("-"), "./-");
        assert_eq!(path_arg("-a"), "./-a");
        assert_eq!(path_arg("sha512:abcd"), "./sha512:abcd");
        assert_eq!(path_arg("/tmp/sha256:ab"), "/tmp/sha256:ab");
    }

    #[test]
    fn timestamps_in_bundle() {
        let with = br#"{"verificationMaterial":{"timestampVerificationData":{"rfc3161Timestamps":[{"signedTimestamp":"AA=="}]}}}"#;
        let snake = br#"{"verification_material":{"timestamp_verification_data":{"rfc3161_timestamps":[{"signed_timestamp":"AA=="}]}}}"#;
        let empty =
            br#"{"verificationMaterial":{"timestampVerificationData":{"rfc3161Timestamps":[]}}}"#;
        let none = br#"{"verificationMaterial":{"publicKey":{"hint":"x"}}}"#;
        assert!(bundle_has_signed_timestamps(with));
        assert!(bundle_has_signed_timestamps(snake));
        assert!(!bundle_has_signed_timestamps(empty));
        assert!(!bundle_has_signed_timestamps(none));
        assert!(!bundle_has_signed_timestamps(b"not json"));
    }
}
