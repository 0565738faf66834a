//! Signing and verifying blobs (files, standard input, or a bare digest) in constant memory.
//!
//! Prehash schemes (ECDSA, RSA, Ed25519ph) read the input once through a hasher. Pure Ed25519
//! needs the message twice: a regular file is read twice, and standard input or a pipe is first
//! spilled to an unlinked temporary file (never to memory).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use cosign_crypto::{Hasher, MessageSource, PublicKey, SignatureScheme};
use cosign_types::{Digest, HashAlgorithm};

use crate::fsutil::check_regular_or_stream;
use crate::{Error, Signer};

/// Size of each read from the input.
const CHUNK: usize = 256 * 1024;

/// What to sign or verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobInput {
    /// A file path (regular file, or a pipe such as `/dev/fd/63`).
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// Only the digest of the blob (`sha256:<hex>`), for verification with prehash schemes.
    Digest(Digest),
}

impl BlobInput {
    /// How messages name this input.
    pub fn describe(&self) -> String {
        match self {
            Self::File(p) => p.display().to_string(),
            Self::Stdin => "standard input".to_owned(),
            Self::Digest(d) => d.to_string(),
        }
    }

    fn path_for_errors(&self) -> PathBuf {
        PathBuf::from(self.describe())
    }
}

/// Feeds everything `reader` yields to `sink`, in chunks.
fn pump(reader: &mut dyn Read, name: &Path, sink: &mut dyn FnMut(&[u8])) -> Result<u64, Error> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io("reading", name, e)),
        };
        total += n as u64;
        sink(&buf[..n]);
    }
}

/// Opens a file input after checking that it exists and is not a directory.
fn open_input(path: &Path) -> Result<File, Error> {
    check_regular_or_stream(path, "reading")?;
    File::open(path).map_err(|e| Error::io("reading", path, e))
}

/// Runs one pass over the input, feeding every chunk to `sink`.
fn one_pass(input: &BlobInput, sink: &mut dyn FnMut(&[u8])) -> Result<u64, Error> {
    match input {
        BlobInput::File(path) => pump(&mut open_input(path)?, path, sink),
        BlobInput::Stdin => pump(&mut io::stdin().lock(), Path::new("standard input"), sink),
        BlobInput::Digest(d) => Err(Error::Usage(format!(
            "{d} is a digest; this operation needs the blob's content"
        ))),
    }
}

/// A set of hashers run over the same bytes.
struct MultiHasher(Vec<Hasher>);

impl MultiHasher {
    fn new(algs: &[HashAlgorithm]) -> Self {
        let mut uniq: Vec<HashAlgorithm> = algs.to_vec();
        uniq.sort();
        uniq.dedup();
        Self(uniq.into_iter().map(Hasher::new).collect())
    }

    fn update(&mut self, data: &[u8]) {
        for h in &mut self.0 {
            h.update(data);
        }
    }

    fn finish(self) -> Vec<Digest> {
        self.0.into_iter().map(Hasher::finish).collect()
    }
}

fn pick(digests: &[Digest], alg: HashAlgorithm) -> Result<Digest, Error> {
    digests
        .iter()
        .find(|d| d.algorithm() == alg)
        .cloned()
        .ok_or_else(|| Error::Usage(format!("internal: no {alg} digest computed")))
}

/// The result of signing a blob.
#[derive(Clone, Debug)]
pub struct SignedBlob {
    /// The raw signature bytes.
    pub signature: Vec<u8>,
    /// The digest of the blob with the requested algorithm (for bundles).
    pub digest: Digest,
}

/// A re-readable message: a seekable file whose whole content is fed on each call.
struct SeekableSource<'a> {
    file: File,
    name: PathBuf,
    /// Hashes the content on the first pass, for the bundle digest.
    first_pass: Option<&'a mut MultiHasher>,
    error: Option<Error>,
}

impl MessageSource for SeekableSource<'_> {
    fn feed(&mut self, sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(0))?;
        let mut tee = self.first_pass.take();
        let result = pump(&mut self.file, &self.name, &mut |chunk| {
            if let Some(h) = tee.as_deref_mut() {
                h.update(chunk);
            }
            sink(chunk);
        });
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let msg = e.to_string();
                self.error = Some(e);
                Err(io::Error::other(msg))
            }
        }
    }
}

/// Copies a non-seekable input (stdin, a pipe) into an unlinked temporary file.
fn spill(input: &BlobInput) -> Result<File, Error> {
    let mut temp = tempfile::tempfile()
        .map_err(|e| Error::io("creating a temporary file for", input.path_for_errors(), e))?;
    let mut write_err = None;
    one_pass(input, &mut |chunk| {
        if write_err.is_none()
            && let Err(e) = temp.write_all(chunk)
        {
            write_err = Some(e);
        }
    })?;
    if let Some(e) = write_err {
        return Err(Error::io(
            "spilling to a temporary file",
            input.path_for_errors(),
            e,
        ));
    }
    Ok(temp)
}

/// Whether a file input can be read twice by seeking (regular files can; pipes cannot).
fn is_seekable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Signs a blob with `scheme`, also returning its `digest_alg` digest.
pub async fn sign_blob(
    signer: &Signer,
    scheme: SignatureScheme,
    input: &BlobInput,
    digest_alg: HashAlgorithm,
) -> Result<SignedBlob, Error> {
    let crypto_ctx = || format!("signing {}", input.describe());
    if let Some(prehash) = scheme.prehash() {
        let mut hashers = MultiHasher::new(&[prehash, digest_alg]);
        one_pass(input, &mut |chunk| hashers.update(chunk))?;
        let digests = hashers.finish();
        let signed = pick(&digests, prehash)?;
        let signature = signer.sign_digest(scheme, &signed).await?;
        return Ok(SignedBlob {
            signature,
            digest: pick(&digests, digest_alg)?,
        });
    }
    let Some(key) = signer.as_local() else {
        return Err(Error::Usage(format!(
            "{signer:?} signs digests only; pure Ed25519 needs the key in this process"
        )));
    };
    // Pure Ed25519: two passes over a seekable copy.
    let (file, name) = match input {
        BlobInput::File(path) if is_seekable_file(path) => (open_input(path)?, path.clone()),
        BlobInput::File(_) | BlobInput::Stdin => (spill(input)?, input.path_for_errors()),
        BlobInput::Digest(_) => {
            return Err(Error::Usage(
                "Ed25519 signatures cover the whole message: a digest cannot be signed".into(),
            ));
        }
    };
    let mut hashers = MultiHasher::new(&[digest_alg]);
    let mut source = SeekableSource {
        file,
        name,
        first_pass: Some(&mut hashers),
        error: None,
    };
    let result = key.sign_stream(scheme, &mut source);
    if let Some(e) = source.error.take() {
        return Err(e);
    }
    let signature = result.map_err(|e| Error::crypto(crypto_ctx(), e))?;
    Ok(SignedBlob {
        signature,
        digest: pick(&hashers.finish(), digest_alg)?,
    })
}

/// What a blob verification must check.
pub struct VerifyBlob<'a> {
    /// The verification key.
    pub key: &'a PublicKey,
    /// Schemes to accept (Ed25519 keys accept pure and prehashed signatures).
    pub schemes: &'a [SignatureScheme],
    /// The blob.
    pub input: &'a BlobInput,
    /// The raw signature.
    pub signature: &'a [u8],
    /// A digest the blob must have (e.g. a bundle's message digest), checked as well.
    pub expected_digest: Option<&'a Digest>,
    /// A digest of the blob to compute in the same pass and return (e.g. for a log lookup).
    pub want_digest: Option<HashAlgorithm>,
}

fn invalid_signature(input: &BlobInput) -> Error {
    Error::Verification(format!(
        "invalid signature for {}: it was not made over this content with this key",
        input.describe()
    ))
}

fn digest_mismatch(input: &BlobInput, expected: &Digest, actual: &Digest) -> Error {
    Error::Verification(format!(
        "the bundle's message digest {expected} does not match {} (digest {actual})",
        input.describe()
    ))
}

/// Verifies a blob signature in one pass over the input: every digest needed (the schemes'
/// prehashes, the expected digest, the wanted digest) is computed once from the same bytes.
/// Returns the wanted digest.
pub fn verify_blob(req: &VerifyBlob<'_>) -> Result<Option<Digest>, Error> {
    if let BlobInput::Digest(given) = req.input {
        verify_digest_only(req, given)?;
        return match req.want_digest {
            None => Ok(None),
            Some(alg) if alg == given.algorithm() => Ok(Some(given.clone())),
            Some(alg) => Err(Error::Usage(format!(
                "a {alg} digest of {given} is needed, but only the {} digest was given",
                given.algorithm()
            ))),
        };
    }
    let mut algs: Vec<HashAlgorithm> = req.schemes.iter().filter_map(|s| s.prehash()).collect();
    algs.extend(req.expected_digest.map(Digest::algorithm));
    algs.extend(req.want_digest);
    let mut hashers = MultiHasher::new(&algs);
    // Pure Ed25519 hashes R || A || message itself: it needs its own streaming verifier.
    let mut pure = None;
    if req.schemes.contains(&SignatureScheme::Ed25519) {
        pure = req
            .key
            .stream_verifier(SignatureScheme::Ed25519, req.signature)
            .ok();
    }
    one_pass(req.input, &mut |chunk| {
        hashers.update(chunk);
        if let Some(v) = pure.as_mut() {
            v.update(chunk);
        }
    })?;
    let digests = hashers.finish();
    if let Some(expected) = req.expected_digest {
        let actual = pick(&digests, expected.algorithm())?;
        if &actual != expected {
            return Err(digest_mismatch(req.input, expected, &actual));
        }
    }
    let prehashed_ok = req.schemes.iter().any(|s| {
        s.prehash().is_some_and(|alg| {
            pick(&digests, alg).is_ok_and(|d| req.key.verify_digest(*s, &d, req.signature).is_ok())
        })
    });
    let pure_ok = !prehashed_ok && pure.is_some_and(|v| v.finish().is_ok());
    if !(prehashed_ok || pure_ok) {
        return Err(invalid_signature(req.input));
    }
    req.want_digest.map(|alg| pick(&digests, alg)).transpose()
}

fn verify_digest_only(req: &VerifyBlob<'_>, given: &Digest) -> Result<(), Error> {
    if let Some(expected) = req.expected_digest
        && expected != given
    {
        return Err(digest_mismatch(req.input, expected, given));
    }
    let usable: Vec<_> = req
        .schemes
        .iter()
        .filter(|s| s.prehash() == Some(given.algorithm()))
        .collect();
    if usable.is_empty() {
        return Err(Error::Usage(format!(
            "cannot verify {given} with a {} key: the signature scheme does not sign a {} digest{}",
            req.key.key_type(),
            given.algorithm(),
            if req.schemes.contains(&SignatureScheme::Ed25519) {
                " (pure Ed25519 signs the whole message: pass the file instead)"
            } else {
                ""
            }
        )));
    }
    if usable
        .iter()
        .any(|s| req.key.verify_digest(**s, given, req.signature).is_ok())
    {
        Ok(())
    } else if req.schemes.contains(&SignatureScheme::Ed25519) {
        Err(Error::Verification(format!(
            "invalid signature for {given}: not an Ed25519ph signature over this digest, and a pure Ed25519 signature covers the whole message: pass the file instead"
        )))
    } else {
        Err(invalid_signature(req.input))
    }
}
