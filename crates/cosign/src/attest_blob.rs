//! Blob attestations (`attest-blob`, `verify-blob-attestation`): the statement's subject is the
//! file's base name and digest, computed in one streaming pass in constant memory (cosign reads
//! the whole file), with no size limit.

use std::io::{self, Read};
use std::path::Path;

use cosign_crypto::Hasher;
use cosign_types::intoto::{Statement, statement_v01};
use cosign_types::predicate::PredicateType;
use cosign_types::{Digest, HashAlgorithm};

use crate::Error;
use crate::blob::BlobInput;
use crate::fsutil::check_regular_or_stream;

/// Size of each read.
const CHUNK: usize = 256 * 1024;

/// The `alg` digest of a blob, read once in chunks. A [`BlobInput::Digest`] is returned as is
/// when it has the algorithm asked for.
pub fn digest_input(input: &BlobInput, alg: HashAlgorithm) -> Result<Digest, Error> {
    let mut hasher = Hasher::new(alg);
    match input {
        BlobInput::Digest(d) if d.algorithm() == alg => return Ok(d.clone()),
        BlobInput::Digest(d) => {
            return Err(Error::Usage(format!(
                "a {alg} digest is needed, but {d} was given"
            )));
        }
        BlobInput::File(path) => {
            check_regular_or_stream(path, "reading")?;
            let mut f = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
            pump(&mut f, path, &mut hasher)?;
        }
        BlobInput::Stdin => {
            let path = Path::new("standard input");
            pump(&mut io::stdin().lock(), path, &mut hasher)?;
        }
    }
    Ok(hasher.finish())
}

fn io_err(path: &Path, e: io::Error) -> Error {
    Error::Io {
        action: "reading",
        path: path.to_owned(),
        source: e,
    }
}

fn pump(reader: &mut dyn Read, path: &Path, hasher: &mut Hasher) -> Result<(), Error> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(path, e)),
        }
    }
}

/// The subject name cosign records: Go's `path.Base` of the argument.
pub fn subject_name(arg: &str) -> String {
    if arg.is_empty() {
        return ".".to_owned();
    }
    let trimmed = arg.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Parses `--hash`: the subject's SHA-256 as 64 hex digits (any case; written lowercase).
pub fn parse_subject_hash(text: &str) -> Result<Digest, Error> {
    Digest::from_hex(HashAlgorithm::Sha256, &text.trim().to_ascii_lowercase()).map_err(|e| {
        Error::Usage(format!(
            "--hash {text:?} is not a SHA-256 digest in hex: {e}"
        ))
    })
}

/// The Statement v0.1 `attest-blob` signs for a predicate file.
pub fn predicate_statement(
    predicate_type: &PredicateType,
    predicate: &[u8],
    subject_name: &str,
    subject: &Digest,
    timestamp: &str,
) -> Result<Vec<u8>, Error> {
    let predicate_json = predicate_type
        .build_predicate(predicate, timestamp)
        .map_err(|e| Error::Usage(e.to_string()))?;
    Ok(statement_v01(
        subject_name,
        &subject.hex(),
        predicate_type.uri(),
        &predicate_json,
    ))
}

/// Checks a statement given with `--statement` before it is signed verbatim.
pub fn check_statement(bytes: &[u8]) -> Result<Statement, Error> {
    Statement::from_json(bytes).map_err(|e| Error::Usage(format!("invalid statement: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names() {
        assert_eq!(subject_name("dir/file.tar.gz"), "file.tar.gz");
        assert_eq!(subject_name("/a/b/"), "b");
        assert_eq!(subject_name("file"), "file");
        assert_eq!(subject_name("-"), "-");
        assert_eq!(subject_name(""), ".");
        assert_eq!(subject_name("///"), "/");
    }

    #[test]
    fn streaming_digest_matches() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("blob");
        let data: Vec<u8> = (0..(CHUNK * 3 + 17)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        for alg in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            assert_eq!(
                digest_input(&BlobInput::File(p.clone()), alg).unwrap(),
                cosign_crypto::hash(alg, &data)
            );
        }
        assert!(
            digest_input(
                &BlobInput::File(dir.path().to_owned()),
                HashAlgorithm::Sha256
            )
            .is_err()
        );
        assert!(parse_subject_hash("zz").is_err());
        assert_eq!(
            parse_subject_hash(&"AB".repeat(32)).unwrap().hex(),
            "ab".repeat(32)
        );
    }
}
