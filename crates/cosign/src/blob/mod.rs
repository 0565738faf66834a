//! Blobs (files, standard input, or a bare digest): signing, verifying and attesting them in
//! constant memory, and the bundles that carry their signatures. The image flows live beside
//! this in [`crate::image`]; both share [`crate::attestation`] and [`crate::tlog`].
//!
//! Prehash schemes (ECDSA, RSA, Ed25519ph) read the input once through a hasher. Pure Ed25519
//! needs the message twice: a regular file is read twice, and standard input or a pipe is first
//! spilled to an unlinked temporary file (never to memory).

pub mod attest;
pub mod bundle;
pub mod create;
pub mod sign;
pub mod upgrade;
pub mod verify;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use cosign_crypto::Hasher;
use cosign_types::{Digest, HashAlgorithm};

use crate::Error;
use crate::fsutil::check_regular_or_stream;

pub use sign::{SignBlobOptions, SignedBlob, sign, sign_blob};
pub use verify::{VerifiedBlob, VerifyBlob, VerifyBlobOptions, verify, verify_blob};

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
    /// Parses a blob argument: `-` is standard input; an existing path is a file; otherwise
    /// `alg:hex` is a digest; anything else is a (missing) file, reported when it is read.
    pub fn parse(arg: &str) -> Self {
        if arg == "-" {
            return Self::Stdin;
        }
        if !Path::new(arg).exists()
            && let Ok(d) = arg.parse::<Digest>()
        {
            return Self::Digest(d);
        }
        Self::File(PathBuf::from(arg))
    }

    /// How messages name this input.
    pub fn describe(&self) -> String {
        match self {
            Self::File(p) => p.display().to_string(),
            Self::Stdin => "standard input".to_owned(),
            Self::Digest(d) => d.to_string(),
        }
    }

    pub(crate) fn path_for_errors(&self) -> PathBuf {
        PathBuf::from(self.describe())
    }
}

/// Feeds everything `reader` yields to `sink`, in chunks.
pub(crate) fn pump(
    reader: &mut dyn Read,
    name: &Path,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<u64, Error> {
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
pub(crate) fn open_input(path: &Path) -> Result<File, Error> {
    check_regular_or_stream(path, "reading")?;
    File::open(path).map_err(|e| Error::io("reading", path, e))
}

/// Runs one pass over the input, feeding every chunk to `sink`.
pub(crate) fn one_pass(input: &BlobInput, sink: &mut dyn FnMut(&[u8])) -> Result<u64, Error> {
    match input {
        BlobInput::File(path) => pump(&mut open_input(path)?, path, sink),
        BlobInput::Stdin => pump(&mut io::stdin().lock(), Path::new("standard input"), sink),
        BlobInput::Digest(d) => Err(Error::Invalid {
            what: d.to_string(),
            reason: "a digest, where this operation needs the blob's content".into(),
        }),
    }
}

/// A set of hashers run over the same bytes.
pub(crate) struct MultiHasher(Vec<Hasher>);

impl MultiHasher {
    pub(crate) fn new(algs: &[HashAlgorithm]) -> Self {
        let mut uniq: Vec<HashAlgorithm> = algs.to_vec();
        uniq.sort();
        uniq.dedup();
        Self(uniq.into_iter().map(Hasher::new).collect())
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        for h in &mut self.0 {
            h.update(data);
        }
    }

    pub(crate) fn finish(self) -> Vec<Digest> {
        self.0.into_iter().map(Hasher::finish).collect()
    }
}

pub(crate) fn pick(digests: &[Digest], alg: HashAlgorithm) -> Result<Digest, Error> {
    digests
        .iter()
        .find(|d| d.algorithm() == alg)
        .cloned()
        .ok_or(Error::Internal(
            "a digest that was asked for was not computed",
        ))
}

/// The `alg` digest of a blob, read once in chunks. A [`BlobInput::Digest`] is returned as is
/// when it has the algorithm asked for.
pub fn digest_input(input: &BlobInput, alg: HashAlgorithm) -> Result<Digest, Error> {
    if let BlobInput::Digest(d) = input {
        return if d.algorithm() == alg {
            Ok(d.clone())
        } else {
            Err(Error::Invalid {
                what: d.to_string(),
                reason: format!("a {alg} digest is needed"),
            })
        };
    }
    let mut hasher = Hasher::new(alg);
    one_pass(input, &mut |chunk| hasher.update(chunk))?;
    Ok(hasher.finish())
}
