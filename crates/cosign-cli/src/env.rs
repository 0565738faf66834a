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
        "AWS_ACCESS_KEY_ID",
        "is the AWS access key ID used for awskms:// keys",
        "string with an access key ID",
        false,
    ),
    var(
        "AWS_CA_BUNDLE",
        "is a PEM file of CA certificates trusted for the AWS KMS endpoint",
        "path to a PEM file",
        false,
    ),
    var(
        "AWS_CONFIG_FILE",
        "is the AWS config file (profiles, region)",
        "path to a file (default $HOME/.aws/config)",
        false,
    ),
    var(
        "AWS_DEFAULT_REGION",
        "is the AWS region used when AWS_REGION is not set",
        "string with an AWS region",
        false,
    ),
    var(
        "AWS_ENDPOINT_URL",
        "is the AWS endpoint used when an awskms:// URI names none",
        "string with a URL",
        false,
    ),
    var(
        "AWS_ENDPOINT_URL_KMS",
        "is the AWS KMS endpoint used when an awskms:// URI names none (wins over AWS_ENDPOINT_URL)",
        "string with a URL",
        false,
    ),
    var(
        "AWS_PROFILE",
        "is the profile of the AWS shared credentials and config files",
        "string with a profile name (default default)",
        false,
    ),
    var(
        "AWS_REGION",
        "is the AWS region of awskms:// keys that are not ARNs",
        "string with an AWS region",
        false,
    ),
    var(
        "AWS_SECRET_ACCESS_KEY",
        "is the AWS secret access key used for awskms:// keys",
        "string with a secret access key",
        true,
    ),
    var(
        "AWS_SESSION_TOKEN",
        "is the AWS session token used with temporary credentials",
        "string with a session token",
        true,
    ),
    var(
        "AWS_SHARED_CREDENTIALS_FILE",
        "is the AWS shared credentials file",
        "path to a file (default $HOME/.aws/credentials)",
        false,
    ),
    var(
        "AZURE_AUTHORITY_HOST",
        "is the Microsoft Entra ID authority that issues azurekms:// tokens",
        "string with a URL (default https://login.microsoftonline.com/)",
        false,
    ),
    var(
        "AZURE_CLIENT_ID",
        "is the client (application) ID of the service principal used for azurekms:// keys",
        "string with a client ID",
        false,
    ),
    var(
        "AZURE_CLIENT_SECRET",
        "is the client secret of the service principal used for azurekms:// keys",
        "string with a client secret",
        true,
    ),
    var(
        "AZURE_TENANT_ID",
        "is the tenant of the service principal used for azurekms:// keys",
        "string with a tenant ID",
        false,
    ),
    var(
        "BAO_ADDR",
        "is the address of the OpenBao server for openbao:// (and hashivault://) keys",
        "string with a URL",
        false,
    ),
    var(
        "BAO_TOKEN",
        "is the OpenBao token for openbao:// (and hashivault://) keys",
        "string with a token",
        true,
    ),
    var(
        "BUILDKITE_AGENT_ACCESS_TOKEN",
        "is an access token used to identify the Buildkite agent",
        "string with an access token",
        true,
    ),
    var(
        "BUILDKITE_AGENT_ENDPOINT",
        "the Buildkite agent endpoint",
        "string with an endpoint",
        false,
    ),
    var(
        "BUILDKITE_AGENT_LOG_LEVEL",
        "the log level for the Buildkite agent",
        "string with log level, either debug, notice, info, error, warn, fatal (default: notice)",
        false,
    ),
    var(
        "BUILDKITE_JOB_ID",
        "the Buildkite job ID to claim in the OIDC token",
        "string with a job ID",
        false,
    ),
    var(
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS",
        "overrides the Google Cloud KMS API endpoint for gcpkms:// keys",
        "string with a URL (default https://cloudkms.googleapis.com/)",
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
        "GCE_METADATA_HOST",
        "is the GCE metadata server (host[:port]) of the google-workload-identity and google-impersonate OIDC providers; when set, the machine counts as a GCE instance",
        "string with a host[:port] (default 169.254.169.254)",
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
        "GOOGLE_APPLICATION_CREDENTIALS",
        "is the Google credentials JSON file (service account or authorized user) used for gcpkms:// keys and the google-* OIDC providers",
        "path to a JSON file",
        false,
    ),
    var(
        "GOOGLE_OAUTH_ACCESS_TOKEN",
        "is a Google OAuth access token used as it is for gcpkms:// keys",
        "string with an access token",
        true,
    ),
    var(
        "GOOGLE_SERVICE_ACCOUNT_NAME",
        "is a service account name to be used with the Google provider",
        "string with the service account's name",
        false,
    ),
    var(
        "KUBECONFIG",
        "is the list of kubeconfig files used for k8s:// keys",
        "paths separated by : (default $HOME/.kube/config)",
        false,
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
        "SPIFFE_ENDPOINT_SOCKET",
        "allows you to specify non-default SPIFFE socket to use.",
        "string with SPIFFE socket path",
        false,
    ),
    var(
        "SSL_CERT_FILE",
        "is a PEM file of extra CA certificates trusted by the KMS and Kubernetes clients",
        "path to a PEM file",
        false,
    ),
    var(
        "TRANSIT_SECRET_ENGINE_PATH",
        "is the mount path of the Vault/OpenBao transit engine",
        "string with a path (default transit)",
        false,
    ),
    var(
        "TUF_ROOT",
        "is the directory where the TUF metadata is cached",
        "path to the TUF cache directory (default $HOME/.sigstore/root)",
        false,
    ),
    var(
        "VAULT_ADDR",
        "is the address of the Vault server for hashivault:// keys",
        "string with a URL",
        false,
    ),
    var(
        "VAULT_CACERT",
        "is a PEM file of CA certificates trusted for the Vault server",
        "path to a PEM file",
        false,
    ),
    var(
        "VAULT_NAMESPACE",
        "is the Vault namespace of hashivault:// keys",
        "string with a namespace",
        false,
    ),
    var(
        "VAULT_TOKEN",
        "is the Vault token for hashivault:// keys (else $HOME/.vault-token)",
        "string with a token",
        true,
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
    "copy",
    "generate",
    "load",
    "save",
    "tree",
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
    "initialize",
];

/// Command groups whose every subcommand is bound (`attach sbom`, `download signature`, ...).
const BOUND_GROUPS: &[&str] = &["attach", "download", "upload", "dockerfile", "manifest"];

/// Adds `COSIGN_<FLAG>` environment bindings to every flag of the bound commands. An explicit
/// flag on the command line wins over the variable.
pub fn bind_flag_env(mut cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        if BOUND_COMMANDS.contains(&name.as_str()) {
            cmd = cmd.mut_subcommand(name, bind_args);
        } else if BOUND_GROUPS.contains(&name.as_str()) {
            cmd = cmd.mut_subcommand(name, |group| {
                let subs: Vec<String> = group
                    .get_subcommands()
                    .map(|s| s.get_name().to_owned())
                    .collect();
                subs.into_iter()
                    .fold(group, |group, sub| group.mut_subcommand(sub, bind_args))
            });
        }
    }
    cmd
}

/// Binds every non-global, non-positional flag of one command.
fn bind_args(sub: clap::Command) -> clap::Command {
    let longs: Vec<(String, String)> = sub
        .get_arguments()
        .filter(|a| !a.is_global_set() && !a.is_positional())
        .filter_map(|a| Some((a.get_id().to_string(), a.get_long()?.to_owned())))
        .filter(|(_, long)| long != "help")
        .collect();
    longs.into_iter().fold(sub, |sub, (id, long)| {
        sub.mut_arg(id, |a| a.env(flag_env_name(&long)).hide_env_values(true))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_bindings_reach_nested_commands_and_never_shadow_a_variable() {
        fn walk(cmd: &clap::Command, path: String, out: &mut Vec<(String, String)>) {
            for a in cmd.get_arguments() {
                if let Some(env) = a.get_env() {
                    out.push((path.clone(), env.to_string_lossy().into_owned()));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, format!("{path} {}", sub.get_name()), out);
            }
        }
        let mut bound = Vec::new();
        walk(
            &crate::args::Cli::full_command(),
            "cosign".into(),
            &mut bound,
        );
        for (path, env) in &bound {
            assert!(
                !REGISTRY.iter().any(|v| v.name == env),
                "{path}: flag variable {env} is also a cosign setting"
            );
        }
        for (path, env) in [
            ("cosign attach sbom", "COSIGN_SBOM"),
            ("cosign download signature", "COSIGN_REGISTRY_USERNAME"),
            ("cosign upload blob", "COSIGN_FILES"),
            ("cosign dockerfile verify", "COSIGN_KEY"),
            ("cosign sign", "COSIGN_KEY"),
        ] {
            assert!(
                bound.iter().any(|(p, e)| p == path && e == env),
                "{path} binds {env}"
            );
        }
    }

    #[test]
    fn registry_is_sorted_and_unique() {
        let names: Vec<_> = REGISTRY.iter().map(|v| v.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn kms_variables_are_registered() {
        // The KMS providers' settings are looked up by these names (HOME is read by `home`).
        for name in cosign::keys::KMS_ENV_VARS {
            assert!(
                *name == "HOME" || REGISTRY.iter().any(|v| v.name == *name),
                "{name} is not registered"
            );
        }
    }

    #[test]
    fn flag_names_map_to_env() {
        assert_eq!(flag_env_name("tlog-upload"), "COSIGN_TLOG_UPLOAD");
        assert_eq!(flag_env_name("key"), "COSIGN_KEY");
    }
}
