//! `cosign upload blob` and `cosign upload wasm` (deprecated in cosign): files pushed as
//! single-layer images (cosign's `static.NewFile`), several files with platforms as an index.
//!
//! Files are hashed and uploaded streaming from disk, so their size does not matter.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use cosign_oci::{ImageRef, Registry};
use cosign_types::media_types::{
    OCI_CONFIG_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE, WASM_CONFIG_MEDIA_TYPE,
    WASM_LAYER_MEDIA_TYPE,
};
use cosign_types::oci::{Descriptor, ImageIndex, Platform};
use cosign_types::{Digest, HashAlgorithm};

use super::sbom::file_image;
use super::transfer::ProgressSink;
use super::{Event, Reporter};
use crate::Error;

/// One `-f path[:os[/arch[/variant]]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadFile {
    /// The file.
    pub path: PathBuf,
    /// The platform given after the first `:`.
    pub platform: Option<Platform>,
}

impl UploadFile {
    /// Parses `path[:os[/arch[/variant]]]` (the platform starts at the first `:`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let (path, platform) = match text.split_once(':') {
            Some((p, plat)) => (p, Some(plat)),
            None => (text, None),
        };
        if path.is_empty() {
            return Err(Error::Invalid {
                what: format!("file {text:?}"),
                reason: "the file name is empty".into(),
            });
        }
        let platform = match platform {
            None => None,
            Some(p) => {
                let mut parts = p.split('/');
                let os = parts.next().unwrap_or_default();
                if os.is_empty() {
                    return Err(Error::Invalid {
                        what: format!("file {text:?}"),
                        reason: "the platform after ':' must be os[/arch[/variant]]".into(),
                    });
                }
                let architecture = parts.next().unwrap_or_default().to_owned();
                let variant = parts.next().map(str::to_owned);
                if parts.next().is_some() {
                    return Err(Error::Invalid {
                        what: format!("file {text:?}"),
                        reason: "the platform after ':' must be os[/arch[/variant]]".into(),
                    });
                }
                Some(Platform {
                    os: os.to_owned(),
                    architecture,
                    variant,
                    ..Platform::default()
                })
            }
        };
        Ok(Self {
            path: PathBuf::from(path),
            platform,
        })
    }
}

/// Go's `http.DetectContentType` for the common cases: the first 512 bytes decide.
pub fn detect_content_type(data: &[u8]) -> &'static str {
    let data = &data[..data.len().min(512)];
    let ws = |b: &u8| matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ');
    let start = data.iter().position(|b| !ws(b)).unwrap_or(data.len());
    let trimmed = &data[start..];
    let ci_prefix =
        |p: &[u8]| trimmed.len() >= p.len() && trimmed[..p.len()].eq_ignore_ascii_case(p);
    for tag in [
        &b"<!DOCTYPE HTML"[..],
        b"<HTML",
        b"<HEAD",
        b"<SCRIPT",
        b"<IFRAME",
        b"<H1",
        b"<DIV",
        b"<FONT",
        b"<TABLE",
        b"<A",
        b"<STYLE",
        b"<TITLE",
        b"<B",
        b"<BODY",
        b"<BR",
        b"<P",
        b"<!--",
    ] {
        if ci_prefix(tag)
            && trimmed
                .get(tag.len())
                .is_some_and(|b| *b == b' ' || *b == b'>')
        {
            return "text/html; charset=utf-8";
        }
    }
    if trimmed.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    let magic: &[(&[u8], &str)] = &[
        (b"%PDF-", "application/pdf"),
        (b"%!PS-Adobe-", "application/postscript"),
        (b"\xFE\xFF", "text/plain; charset=utf-16be"),
        (b"\xFF\xFE", "text/plain; charset=utf-16le"),
        (b"\xEF\xBB\xBF", "text/plain; charset=utf-8"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"\x89PNG\x0D\x0A\x1A\x0A", "image/png"),
        (b"\xFF\xD8\xFF", "image/jpeg"),
        (b"BM", "image/bmp"),
        (b"OggS\x00", "application/ogg"),
        (b"\x1F\x8B\x08", "application/x-gzip"),
        (b"PK\x03\x04", "application/zip"),
        (b"Rar!\x1A\x07\x00", "application/x-rar-compressed"),
        (b"Rar!\x1A\x07\x01\x00", "application/x-rar-compressed"),
        (b"\x00\x61\x73\x6D", "application/wasm"),
    ];
    for (m, t) in magic {
        if data.starts_with(m) {
            return t;
        }
    }
    if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        return "image/webp";
    }
    let binary = data
        .iter()
        .any(|b| matches!(b, 0x00..=0x08 | 0x0B | 0x0E..=0x1A | 0x1C..=0x1F));
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

/// A file hashed for upload.
struct Hashed {
    digest: Digest,
    size: u64,
    head: Vec<u8>,
}

fn hash_file(path: &Path) -> Result<Hashed, Error> {
    crate::fsutil::check_regular_or_stream(path, "reading")?;
    let mut file = File::open(path).map_err(|e| Error::io("reading", path, e))?;
    let mut hasher = cosign_crypto::Hasher::new(HashAlgorithm::Sha256);
    let mut buf = vec![0u8; 256 << 10];
    let mut head = Vec::new();
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io("reading", path, e))?;
        if n == 0 {
            break;
        }
        if head.len() < 512 {
            let take = (512 - head.len()).min(n);
            head.extend_from_slice(&buf[..take]);
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok(Hashed {
        digest: hasher.finish(),
        size,
        head,
    })
}

/// What was uploaded.
#[derive(Clone, Debug)]
pub struct Uploaded {
    /// `repository@digest` of the image (or index, for several files).
    pub digest_ref: ImageRef,
}

/// What to upload.
pub struct UploadRequest<'a> {
    /// The files.
    pub files: &'a [UploadFile],
    /// `--ct`: the layer media type (None: sniffed per file).
    pub content_type: Option<&'a str>,
    /// `-a k=v`: manifest annotations.
    pub annotations: BTreeMap<String, String>,
}

#[allow(clippy::too_many_arguments)]
async fn push_file_image(
    reg: &Registry,
    image: &ImageRef,
    path: &Path,
    hashed: &Hashed,
    layer_type: &str,
    config_type: &str,
    annotations: BTreeMap<String, String>,
    progress: &dyn ProgressSink,
) -> Result<Descriptor, Error> {
    let repo = image.repository();
    let ctx = || format!("uploading {} to {image}", path.display());
    let p = progress.start(&path.display().to_string(), hashed.size);
    reg.push_blob_from_file(repo, &hashed.digest, hashed.size, path, None, p)
        .await
        .map_err(|e| Error::registry(ctx(), e))?;
    let layer = Descriptor::new(layer_type, hashed.size, hashed.digest.clone());
    let (config, manifest) = file_image(&layer, config_type, OCI_MANIFEST_MEDIA_TYPE, annotations);
    reg.push_blob_if_missing(repo, &manifest.config.digest, &config)
        .await
        .map_err(|e| Error::registry(ctx(), e))?;
    let body = manifest.to_json();
    reg.put_manifest(repo, &image.reference(), OCI_MANIFEST_MEDIA_TYPE, &body)
        .await
        .map_err(|e| Error::registry(ctx(), e))?;
    Ok(Descriptor::new(
        OCI_MANIFEST_MEDIA_TYPE,
        body.len() as u64,
        cosign_crypto::hash(HashAlgorithm::Sha256, &body),
    ))
}

/// `cosign upload blob`: each file becomes a single-layer image pushed to `image`; with
/// several files, an index of those that name a platform is pushed last.
pub async fn upload_blobs(
    reg: &Registry,
    image: &ImageRef,
    req: &UploadRequest<'_>,
    reporter: &dyn Reporter,
    progress: &dyn ProgressSink,
) -> Result<Uploaded, Error> {
    if req.files.is_empty() {
        return Err(Error::Missing("at least one file"));
    }
    let mut index = ImageIndex::empty();
    let mut last = None;
    for f in req.files {
        let hashed = hash_file(&f.path)?;
        let media_type = req
            .content_type
            .unwrap_or_else(|| detect_content_type(&hashed.head));
        reporter.event(Event::UploadingFile {
            path: f.path.clone(),
            image: image.to_string(),
            media_type: media_type.to_string(),
        });
        let desc = push_file_image(
            reg,
            image,
            &f.path,
            &hashed,
            media_type,
            OCI_CONFIG_MEDIA_TYPE,
            req.annotations.clone(),
            progress,
        )
        .await?;
        reporter.event(Event::FileAvailable {
            path: f.path.clone(),
            registry: image.repository().registry().to_string(),
            repository: image.repository().path().to_string(),
            digest: hashed.digest.clone(),
        });
        if let Some(p) = &f.platform {
            let mut d = desc.clone();
            d.platform = Some(p.clone());
            index.manifests.push(d);
        }
        last = Some(desc.digest);
    }
    if req.files.len() > 1 {
        let body = index.to_json();
        let put = reg
            .put_manifest(
                image.repository(),
                &image.reference(),
                OCI_INDEX_MEDIA_TYPE,
                &body,
            )
            .await
            .map_err(|e| Error::registry(format!("pushing the index to {image}"), e))?;
        return Ok(Uploaded {
            digest_ref: image.with_digest(put.digest),
        });
    }
    let digest = last.ok_or(Error::Internal("no file was uploaded"))?;
    Ok(Uploaded {
        digest_ref: image.with_digest(digest),
    })
}

/// `cosign upload wasm`: the module as a single-layer image with the WASM media types.
pub async fn upload_wasm(
    reg: &Registry,
    image: &ImageRef,
    path: &Path,
    reporter: &dyn Reporter,
    progress: &dyn ProgressSink,
) -> Result<Uploaded, Error> {
    let hashed = hash_file(path)?;
    if !hashed.head.starts_with(b"\x00asm") {
        return Err(Error::Invalid {
            what: path.display().to_string(),
            reason: "invalid wasm file".into(),
        });
    }
    reporter.event(Event::UploadingWasm {
        path: path.to_owned(),
        image: image.to_string(),
    });
    let desc = push_file_image(
        reg,
        image,
        path,
        &hashed,
        WASM_LAYER_MEDIA_TYPE,
        WASM_CONFIG_MEDIA_TYPE,
        BTreeMap::new(),
        progress,
    )
    .await?;
    Ok(Uploaded {
        digest_ref: image.with_digest(desc.digest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_like_go() {
        assert_eq!(
            detect_content_type(b"hello world\n"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            detect_content_type(b"{\"a\":1}"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            detect_content_type(b"\x00asm\x01\x00\x00\x00"),
            "application/wasm"
        );
        assert_eq!(
            detect_content_type(b"\x7fELF\x02\x01\x01\x00\x00"),
            "application/octet-stream"
        );
        assert_eq!(
            detect_content_type(b"\x1f\x8b\x08\x00"),
            "application/x-gzip"
        );
        assert_eq!(
            detect_content_type(b"  <html><body>"),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            detect_content_type(b"<?xml version=\"1.0\"?>"),
            "text/xml; charset=utf-8"
        );
        assert_eq!(detect_content_type(b""), "text/plain; charset=utf-8");
        assert_eq!(detect_content_type(b"%PDF-1.4"), "application/pdf");
    }

    #[test]
    fn file_flags() {
        let f = UploadFile::parse("foo").unwrap();
        assert_eq!(f.path, PathBuf::from("foo"));
        assert!(f.platform.is_none());
        let f = UploadFile::parse("foo:linux/arm64/v8").unwrap();
        let p = f.platform.unwrap();
        assert_eq!((p.os.as_str(), p.architecture.as_str()), ("linux", "arm64"));
        assert_eq!(p.variant.as_deref(), Some("v8"));
        let f = UploadFile::parse("foo:MYOS").unwrap();
        assert_eq!(f.platform.unwrap().os, "MYOS");
        assert!(UploadFile::parse(":linux").is_err());
        assert!(UploadFile::parse("foo:").is_err());
        assert!(UploadFile::parse("foo:a/b/c/d").is_err());
    }
}
