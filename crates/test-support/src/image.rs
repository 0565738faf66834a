//! Deterministic test images, pushed with [`RegistryClient`] (plain distribution API calls).
//!
//! Each image has one gzip layer holding `etc/`, `etc/os-release` and `hello.txt` (the text
//! names the seed and platform), built in Rust with fixed mtime 0, uid/gid 0 and sorted
//! entries; a config with the right `diff_ids`; and a compact JSON manifest whose digest is
//! the digest of the bytes pushed. The same [`ImageSpec`] always gives the same digests.

use std::io::Write;

use flate2::{Compression, GzBuilder};
use serde::Serialize;

use crate::client::{RegistryClient, sha256_digest};
use crate::{Registry, rt};

/// What to push. `Default`: seed `"hello"`, a single `linux/amd64` manifest, OCI media types.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    /// Changes the layer content, hence every digest.
    pub seed: String,
    /// Empty: one image manifest (`linux/amd64`). Else an index (manifest list) with one image
    /// per platform, e.g. `["linux/amd64", "linux/arm64", "linux/arm/v7"]`.
    pub platforms: Vec<String>,
    /// Docker schema 2 / manifest list media types instead of OCI ones.
    pub docker_media_types: bool,
}

impl Default for ImageSpec {
    fn default() -> Self {
        Self {
            seed: "hello".to_owned(),
            platforms: Vec::new(),
            docker_media_types: false,
        }
    }
}

/// What was pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedImage {
    /// `host/repo:tag`.
    pub reference: String,
    /// `sha256:<hex>` of the top manifest (or index).
    pub digest: String,
    /// `host/repo@sha256:<hex>`.
    pub digest_ref: String,
    /// `(platform, manifest digest)` for each index entry, in `ImageSpec::platforms` order;
    /// empty for a single-manifest image.
    pub platform_digests: Vec<(String, String)>,
}

struct MediaTypes {
    manifest: &'static str,
    index: &'static str,
    config: &'static str,
    layer: &'static str,
}

const OCI: MediaTypes = MediaTypes {
    manifest: "application/vnd.oci.image.manifest.v1+json",
    index: "application/vnd.oci.image.index.v1+json",
    config: "application/vnd.oci.image.config.v1+json",
    layer: "application/vnd.oci.image.layer.v1.tar+gzip",
};

const DOCKER: MediaTypes = MediaTypes {
    manifest: "application/vnd.docker.distribution.manifest.v2+json",
    index: "application/vnd.docker.distribution.manifest.list.v2+json",
    config: "application/vnd.docker.container.image.v1+json",
    layer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
};

/// Pushes `spec` as `repo_tag` (`"test/hello:v1"`; tag `latest` when none) with the registry's
/// own credentials, if it has auth. Panics on any failure.
pub fn push_image(registry: &Registry, repo_tag: &str, spec: &ImageSpec) -> PushedImage {
    push_with(registry, RegistryClient::new(registry), repo_tag, spec)
}

/// [`push_image`] with these credentials (Basic, or Basic to the token server for Bearer).
pub fn push_image_with_auth(
    registry: &Registry,
    repo_tag: &str,
    spec: &ImageSpec,
    user: &str,
    password: &str,
) -> PushedImage {
    let client = RegistryClient::with_credentials(registry, user, password);
    push_with(registry, client, repo_tag, spec)
}

fn push_with(
    registry: &Registry,
    client: RegistryClient,
    repo_tag: &str,
    spec: &ImageSpec,
) -> PushedImage {
    let (repo, tag) = split_repo_tag(repo_tag);
    let types = if spec.docker_media_types {
        &DOCKER
    } else {
        &OCI
    };
    let (digest, platform_digests) = rt::block_on(async {
        if spec.platforms.is_empty() {
            let image = build_image(&spec.seed, "linux/amd64", types);
            let digest = push_built(&client, repo, tag, types, image).await;
            (digest, Vec::new())
        } else {
            let mut descriptors = Vec::new();
            let mut platform_digests = Vec::new();
            for platform in &spec.platforms {
                let image = build_image(&spec.seed, platform, types);
                let size = image.manifest.len() as u64;
                let digest = sha256_digest(&image.manifest);
                push_built(&client, repo, &digest, types, image).await;
                descriptors.push(Descriptor {
                    media_type: types.manifest,
                    digest: digest.clone(),
                    size,
                    platform: Some(parse_platform(platform)),
                });
                platform_digests.push((platform.clone(), digest));
            }
            let index = compact(&Index {
                schema_version: 2,
                media_type: types.index,
                manifests: descriptors,
            });
            let digest = client
                .push_manifest_async(repo, tag, types.index, index)
                .await;
            (digest, platform_digests)
        }
    });
    let host = registry.host();
    PushedImage {
        reference: format!("{host}/{repo}:{tag}"),
        digest_ref: format!("{host}/{repo}@{digest}"),
        digest,
        platform_digests,
    }
}

/// `"a/b:v1"` -> `("a/b", "v1")`; `"a/b"` -> `("a/b", "latest")`.
fn split_repo_tag(repo_tag: &str) -> (&str, &str) {
    let last = repo_tag.rsplit('/').next().unwrap_or(repo_tag);
    match last.rsplit_once(':') {
        Some((_, tag)) => (&repo_tag[..repo_tag.len() - tag.len() - 1], tag),
        None => (repo_tag, "latest"),
    }
}

struct BuiltImage {
    layer: Vec<u8>,
    config: Vec<u8>,
    manifest: Vec<u8>,
}

async fn push_built(
    client: &RegistryClient,
    repo: &str,
    reference: &str,
    types: &MediaTypes,
    image: BuiltImage,
) -> String {
    client.push_blob_async(repo, image.layer).await;
    client.push_blob_async(repo, image.config).await;
    client
        .push_manifest_async(repo, reference, types.manifest, image.manifest)
        .await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: &'static str,
    digest: String,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<Platform>,
}

#[derive(Serialize)]
struct Platform {
    architecture: String,
    os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    schema_version: u32,
    media_type: &'static str,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Index {
    schema_version: u32,
    media_type: &'static str,
    manifests: Vec<Descriptor>,
}

#[derive(Serialize)]
struct ImageConfig {
    architecture: String,
    os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
    config: RunConfig,
    created: &'static str,
    history: Vec<History>,
    rootfs: RootFs,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RunConfig {
    env: Vec<&'static str>,
    cmd: Vec<&'static str>,
}

#[derive(Serialize)]
struct History {
    created: &'static str,
    created_by: &'static str,
}

#[derive(Serialize)]
struct RootFs {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: Vec<String>,
}

fn parse_platform(platform: &str) -> Platform {
    let mut parts = platform.split('/');
    let (Some(os), Some(arch)) = (parts.next(), parts.next()) else {
        panic!("platform must be os/arch[/variant]: {platform}");
    };
    Platform {
        os: os.to_owned(),
        architecture: arch.to_owned(),
        variant: parts.next().map(str::to_owned),
    }
}

fn compact<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("serialize JSON")
}

fn build_image(seed: &str, platform: &str, types: &MediaTypes) -> BuiltImage {
    let p = parse_platform(platform);
    let hello = format!("hello from test-support seed={seed} platform={platform}\n");
    let tar = build_tar(&[
        ("etc/", None),
        ("etc/os-release", Some(b"ID=test-support\n".as_slice())),
        ("hello.txt", Some(hello.as_bytes())),
    ]);
    let diff_id = sha256_digest(&tar);
    let mut gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::best());
    gz.write_all(&tar).expect("gzip layer");
    let layer = gz.finish().expect("gzip layer");
    let config = compact(&ImageConfig {
        architecture: p.architecture,
        os: p.os,
        variant: p.variant,
        config: RunConfig {
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            cmd: vec!["/hello.txt"],
        },
        created: "1970-01-01T00:00:00Z",
        history: vec![History {
            created: "1970-01-01T00:00:00Z",
            created_by: "test-support",
        }],
        rootfs: RootFs {
            kind: "layers",
            diff_ids: vec![diff_id],
        },
    });
    let manifest = compact(&Manifest {
        schema_version: 2,
        media_type: types.manifest,
        config: Descriptor {
            media_type: types.config,
            digest: sha256_digest(&config),
            size: config.len() as u64,
            platform: None,
        },
        layers: vec![Descriptor {
            media_type: types.layer,
            digest: sha256_digest(&layer),
            size: layer.len() as u64,
            platform: None,
        }],
    });
    BuiltImage {
        layer,
        config,
        manifest,
    }
}

/// A ustar archive of these entries (directories when the content is `None`), in the order
/// given, with mtime 0, uid/gid 0, and modes 0755/0644.
fn build_tar(entries: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_path(path).expect("tar path");
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        match content {
            Some(data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(data.len() as u64);
                header.set_cksum();
                builder.append(&header, *data).expect("tar entry");
            }
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                header.set_cksum();
                builder
                    .append(&header, std::io::empty())
                    .expect("tar entry");
            }
        }
    }
    builder.into_inner().expect("finish tar")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_tag() {
        assert_eq!(split_repo_tag("test/hello:v1"), ("test/hello", "v1"));
        assert_eq!(split_repo_tag("test/hello"), ("test/hello", "latest"));
    }

    #[test]
    fn images_are_deterministic_and_seeded() {
        let a = build_image("hello", "linux/amd64", &OCI);
        let b = build_image("hello", "linux/amd64", &OCI);
        let c = build_image("other", "linux/amd64", &OCI);
        assert_eq!(a.manifest, b.manifest);
        assert_eq!(a.layer, b.layer);
        assert_ne!(sha256_digest(&a.manifest), sha256_digest(&c.manifest));
        let manifest: serde_json::Value = serde_json::from_slice(&a.manifest).unwrap();
        assert_eq!(manifest["config"]["digest"], sha256_digest(&a.config));
        let config: serde_json::Value = serde_json::from_slice(&a.config).unwrap();
        let mut tar = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&a.layer[..]), &mut tar)
            .unwrap();
        assert_eq!(config["rootfs"]["diff_ids"][0], sha256_digest(&tar));
        let names: Vec<String> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["etc/", "etc/os-release", "hello.txt"]);
        let arm = build_image("hello", "linux/arm/v7", &DOCKER);
        let config: serde_json::Value = serde_json::from_slice(&arm.config).unwrap();
        assert_eq!(config["variant"], "v7");
    }
}
