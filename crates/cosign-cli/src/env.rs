//! The one registry of environment variables that cosign reads, and the only place that reads them.
//!
//! `cosign env` prints this registry. Flags of most commands can also be set as `COSIGN_<FLAG>`
//! (see [`bind_flag_env`]); those bindings are generic and not listed here, as in Go cosign.
// This module is the single sanctioned reader of the environment.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;

/// One registered variable.
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    /// The variable's name.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// What value it expects.
    pub expects: &'static str,
    /// Whether its value is secret (masked by `cosign env`).
    pub sensitive: bool,
}

const fn var(
    name: &'static str,
    description: &'static str,
    expects: &'static str,
    sensitive: bool,
) -> EnvVar {
    EnvVar {
        name,
        description,
        expects,
        sensitive,
    }
}

/// Every variable cosign reads, sorted by name.
pub const REGISTRY: &[EnvVar] = &[
    var(
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "is the token used by GitHub Actions to request an OIDC token",
        "string with a token",
        true,
    ),
    var(
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "is the URL used by GitHub Actions to request an OIDC token",
        "string with a URL",
        false,
    ),
    var(
        "COSIGN_DOCKER_MEDIA_TYPES",
        "to be used with registries that do not support OCI media types",
        "true or false",
        false,
    ),
    var(
        "COSIGN_EXPERIMENTAL",
        "enables experimental cosign features",
        "true or false",
        false,
    ),
    var(
        "COSIGN_MAX_ATTACHMENT_SIZE",
        "maximum attachment size to download (default 128MiB)",
        "human-readable unit of memory, e.g. 5120, 20K, 3M, 45MiB, 1GB",
        false,
    ),
    var(
        "COSIGN_PASSWORD",
        "overrides password inputs with this value",
        "string with a password (asks on stdin by default)",
        true,
    ),
    var(
        "COSIGN_PKCS11_IGNORE_CERTIFICATE",
        "disables loading certificates with PKCS11",
        "true or false",
        false,
    ),
    var(
        "COSIGN_PKCS11_MODULE_PATH",
        "is PKCS11 module-path",
        "string with a module-path",
        false,
    ),
    var(
        "COSIGN_PKCS11_PIN",
        "is the PKCS11 pin",
        "string with a pin",
        true,
    ),
    var(
        "COSIGN_REPOSITORY",
        "can be used to store signatures in an alternate location",
        "string with a repository",
        false,
    ),
    var(
        "DOCKER_CONFIG",
        "is the directory of the Docker config.json with registry credentials",
        "path to a directory (default $HOME/.docker)",
        false,
    ),
    var(
        "GITHUB_HOST",
        "is URL of the GitHub Enterprise instance",
        "string with the URL of GitHub Enterprise instance",
        false,
    ),
    var(
        "GITHUB_TOKEN",
        "is a token used to authenticate with GitHub",
        "string with a GitHub token",
        true,
    ),
    var(
        "GITLAB_HOST",
        "is URL of the GitLab instance",
        "string with the URL of GitLab instance",
        false,
    ),
    var(
        "GITLAB_TOKEN",
        "is a token used to authenticate with GitLab",
        "string with a GitLab token",
        true,
    ),
    var(
        "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE",
        "overrides what is used to validate the SCT coming back from Fulcio",
        "path to the public key file",
        false,
    ),
    var(
        "SIGSTORE_ID_TOKEN",
        "is an OIDC token used to authenticate to Fulcio",
        "string with an OIDC token",
        true,
    ),
    var(
        "SIGSTORE_REKOR_PUBLIC_KEY",
        "overrides the public key used to verify Rekor entries",
        "path to the public key file",
        false,
    ),
    var(
        "SIGSTORE_ROOT_FILE",
        "overrides the public good instance root CA",
        "path to the root CA file",
        false,
    ),
    var(
        "SIGSTORE_TSA_CERTIFICATE_FILE",
        "overrides the certificate chain used to verify RFC 3161 timestamps",
        "path to the certificate chain file",
        false,
    ),
    var(
        "SOURCE_DATE_EPOCH",
        "overrides current time for reproducible builds",
        "unix timestamp in seconds",
        false,
    ),
    var(
        "TUF_ROOT",
        "is the directory where the TUF metadata is cached",
        "path to the TUF cache directory (default $HOME/.sigstore/root)",
        false,
    ),
];

/// Looks up a registered variable: `None` when unset. Panics are impossible: an unregistered
/// name is a programming error caught by the `registry_covers_every_read` test.
pub fn lookup(name: &str) -> Option<String> {
    debug_assert!(
        REGISTRY.iter().any(|v| v.name == name),
        "unregistered {name}"
    );
    std::env::var(name).ok()
}

/// `COSIGN_PASSWORD`, distinguishing unset from empty (an empty password is legal).
pub fn password() -> Option<String> {
    lookup("COSIGN_PASSWORD")
}

/// `HOME`, for default locations such as `~/.docker/config.json`.
pub fn home() -> Option<String> {
    std::env::var("HOME").ok().filter(|h| !h.is_empty())
}

/// Reads an arbitrary variable named by the user, as `--key env://NAME` does.
pub fn user_named(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Variables in the environment with cosign's prefixes that are not registered.
pub fn unregistered() -> BTreeMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| {
            (k.starts_with("COSIGN_") || k.starts_with("SIGSTORE_") || k.starts_with("TUF_"))
                && !REGISTRY.iter().any(|v| v.name == k)
        })
        .collect()
}

/// The environment variable that may set flag `long` (`COSIGN_` + upper-cased name).
pub fn flag_env_name(long: &str) -> String {
    format!("COSIGN_{}", long.to_ascii_uppercase().replace('-', "_"))
}

/// Commands whose flags may be set through `COSIGN_<FLAG>` variables (Go cosign's viper binding).
const BOUND_COMMANDS: &[&str] = &[
    "clean",
    "generate",
    "triangulate",
    "sign",
    "sign-blob",
    "verify",
    "verify-blob",
    "verify-attestation",
    "verify-blob-attestation",
    "attest",
    "attest-blob",
    "generate-key-pair",
    "import-key-pair",
    "public-key",
];

/// Adds `COSIGN_<FLAG>` environment bindings to every flag of the bound commands. An explicit
/// flag on the command line wins over the variable.
pub fn bind_flag_env(mut cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .filter(|n| BOUND_COMMANDS.contains(&n.as_str()))
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |sub| {
            let longs: Vec<(String, String)> = sub
                .get_arguments()
                .filter(|a| !a.is_global_set() && !a.is_positional())
                .filter_map(|a| Some((a.get_id().to_string(), a.get_long()?.to_owned())))
                .filter(|(_, long)| long != "help")
                .collect();
            let mut sub = sub;
            for (id, long) in longs {
                sub = sub.mut_arg(id, |a| a.env(flag_env_name(&long)).hide_env_values(true));
            }
            sub
        });
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_unique() {
        let names: Vec<_> = REGISTRY.iter().map(|v| v.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn flag_names_map_to_env() {
        assert_eq!(flag_env_name("tlog-upload"), "COSIGN_TLOG_UPLOAD");
        assert_eq!(flag_env_name("key"), "COSIGN_KEY");
    }
}
