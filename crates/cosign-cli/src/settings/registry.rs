//! Turning the registry flags and environment into the registry client and storage settings.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use cosign::image::storage::{DEFAULT_MAX_ATTACHMENT_SIZE, Storage};
use cosign_oci::{ImageRef, Registry, RegistryOptions, Repository};

use crate::args::RegistryArgs;
use crate::env;

fn read_file(path: &PathBuf, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {what} {}", path.display()))
}

/// The Docker config.json that holds registry credentials: `$DOCKER_CONFIG/config.json`, else
/// `$HOME/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    let dir = env::lookup("DOCKER_CONFIG")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| env::home().map(|h| PathBuf::from(h).join(".docker")))?;
    Some(dir.join("config.json"))
}

/// Builds the registry client.
pub fn client(args: &RegistryArgs, timeout: std::time::Duration) -> Result<Registry> {
    let opts = RegistryOptions {
        allow_insecure: args.allow_insecure_registry,
        allow_http: args.allow_http_registry,
        username: args.registry_username.clone(),
        password: args.registry_password.clone(),
        token: args.registry_token.clone(),
        ca_certs_pem: args
            .registry_cacert
            .as_ref()
            .map(|p| read_file(p, "--registry-cacert"))
            .transpose()?,
        client_cert_pem: args
            .registry_client_cert
            .as_ref()
            .map(|p| read_file(p, "--registry-client-cert"))
            .transpose()?,
        client_key_pem: args
            .registry_client_key
            .as_ref()
            .map(|p| read_file(p, "--registry-client-key"))
            .transpose()?,
        server_name: args.registry_server_name.clone(),
        docker_config: docker_config_path(),
        user_agent: super::user_agent(),
        request_timeout: Some(timeout),
        ..RegistryOptions::default()
    };
    Ok(Registry::new(opts)?)
}

/// Parses a humanized size: `5120`, `20K`, `3M`, `45MiB`, `1GB` (SI and IEC units).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "ki" | "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mi" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" => 1e12,
        "ti" | "tib" => 1024f64.powi(4),
        _ => return None,
    };
    let bytes = value * mult;
    (bytes.is_finite() && (0.0..1.8e19).contains(&bytes)).then_some(bytes as u64)
}

fn truthy(name: &str) -> bool {
    env::lookup(name).is_some_and(|v| crate::settings::parse_go_bool(&v).unwrap_or(false))
}

/// Storage settings from flags and `COSIGN_REPOSITORY`, `COSIGN_DOCKER_MEDIA_TYPES`,
/// `COSIGN_MAX_ATTACHMENT_SIZE`.
pub fn storage(args: &RegistryArgs) -> Result<Storage> {
    let cosign_repository = match env::lookup("COSIGN_REPOSITORY").filter(|r| !r.is_empty()) {
        Some(r) => {
            Some(Repository::parse(&r).with_context(|| format!("parsing COSIGN_REPOSITORY={r}"))?)
        }
        None => None,
    };
    let max_attachment_size = match env::lookup("COSIGN_MAX_ATTACHMENT_SIZE")
        .filter(|v| !v.is_empty())
    {
        Some(v) => match parse_size(&v) {
            Some(n) if n > 0 => n,
            _ => bail!("COSIGN_MAX_ATTACHMENT_SIZE={v} is not a size (examples: 5120, 20K, 45MiB)"),
        },
        None => DEFAULT_MAX_ATTACHMENT_SIZE,
    };
    Ok(Storage {
        tag_prefix: args.attachment_tag_prefix.clone().unwrap_or_default(),
        cosign_repository,
        docker_media_types: truthy("COSIGN_DOCKER_MEDIA_TYPES"),
        max_attachment_size,
    })
}

/// Whether `COSIGN_EXPERIMENTAL` is on.
pub fn experimental() -> bool {
    truthy("COSIGN_EXPERIMENTAL")
}

/// Parses image arguments (as [`crate::args::image_ref`] parses one).
pub fn parse_images(args: &[String]) -> Result<Vec<ImageRef>> {
    args.iter()
        .map(|a| crate::args::image_ref(a).map_err(anyhow::Error::msg))
        .collect()
}

/// Parses `-a key=value` flags (split on the first `=`).
pub fn parse_annotations(args: &[String]) -> Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for a in args {
        let Some((k, v)) = a.split_once('=') else {
            bail!("unable to parse annotation {a:?}: expected key=value");
        };
        out.insert(k.to_owned(), v.to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("5120"), Some(5120));
        assert_eq!(parse_size("20K"), Some(20_000));
        assert_eq!(parse_size("45MiB"), Some(45 * 1024 * 1024));
        assert_eq!(parse_size("1GB"), Some(1_000_000_000));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("5 parsecs"), None);
    }

    #[test]
    fn annotations() {
        let a = parse_annotations(&["a=b=c".into(), "x=".into()]).unwrap();
        assert_eq!(a["a"], "b=c");
        assert_eq!(a["x"], "");
        assert!(parse_annotations(&["nokey".into()]).is_err());
    }
}
