//! `sign-blob`: a blob signed in one streaming pass, optionally recorded in the transparency
//! log, and the legacy or Sigstore bundle that carries the result.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{MessageSource, SignatureScheme};
use cosign_tlog::LogEntry;
use cosign_types::bundle::{
    BUNDLE_V03_MEDIA_TYPE, Bundle, BundleContent, MessageDigest, MessageSignature,
};
use cosign_types::legacy_bundle::LocalSignedPayload;
use cosign_types::{Digest, HashAlgorithm};

use super::{BlobInput, MultiHasher, one_pass, open_input, pick, pump};
use crate::certs::Certificate;
use crate::witness::{Signed, SignedBy, Witnesses};
use crate::{Error, Signer};

/// What `sign-blob` does besides signing.
#[derive(Clone, Copy, Default)]
pub struct SignBlobOptions<'a> {
    /// The certificate for the signing key (`--certificate`, or the token's), recorded in the
    /// log entry and the bundles instead of the bare key.
    pub certificate: Option<&'a Certificate>,
    /// Where to record and date the signature (None: nowhere, `--tlog-upload=false`).
    pub witnesses: Option<&'a Witnesses>,
}

/// Signs a blob: Ed25519 keys sign the message itself (pure Ed25519) without a log and
/// Ed25519ph with one (the log records a digest); then the witnesses record a `hashedrekord`
/// entry and timestamp the signature, and their answers are checked.
pub async fn sign(
    signer: &Signer,
    input: &BlobInput,
    opts: &SignBlobOptions<'_>,
) -> Result<SignedBlob, Error> {
    let logs = opts.witnesses.is_some_and(Witnesses::logs);
    let scheme = signer.scheme(logs);
    let digest_alg = scheme.prehash().unwrap_or(HashAlgorithm::Sha512);
    let mut signed = sign_blob(signer, scheme, input, digest_alg).await?;
    if let Some(w) = opts.witnesses.filter(|w| w.any()) {
        let public_key = signer.public_key();
        let pem = opts
            .certificate
            .map_or_else(|| public_key.to_pem(), |c| c.pem.clone());
        let witnessed = w
            .witness(
                Signed::Message {
                    digest: &signed.digest,
                    signature: &signed.signature,
                },
                SignedBy {
                    key: &public_key,
                    certificate: opts.certificate,
                    verifier_pem: &pem,
                },
                &signed.signature,
            )
            .await?;
        signed.entry = witnessed.entry;
        signed.timestamps = witnessed.timestamps;
    }
    Ok(signed)
}

/// The result of signing a blob.
#[derive(Clone, Debug)]
pub struct SignedBlob {
    /// The raw signature bytes.
    pub signature: Vec<u8>,
    /// The digest of the blob with the requested algorithm (for bundles).
    pub digest: Digest,
    /// The transparency log entry, when one was recorded.
    pub entry: Option<LogEntry>,
    /// RFC 3161 timestamps over the signature (DER), when authorities dated it.
    pub timestamps: Vec<Vec<u8>>,
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

/// Signs a blob with `scheme`, also returning its `digest_alg` digest (the low-level step of
/// [`sign`]; no log entry).
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
            entry: None,
            timestamps: Vec::new(),
        });
    }
    let Some(key) = signer.as_local() else {
        return Err(Error::Invalid {
            what: format!("{signer:?}"),
            reason: "signs digests only; pure Ed25519 needs the key in this process".into(),
        });
    };
    // Pure Ed25519: two passes over a seekable copy.
    let (file, name) = match input {
        BlobInput::File(path) if is_seekable_file(path) => (open_input(path)?, path.clone()),
        BlobInput::File(_) | BlobInput::Stdin => (spill(input)?, input.path_for_errors()),
        BlobInput::Digest(_) => {
            return Err(Error::Invalid {
                what: input.describe(),
                reason: "Ed25519 signatures cover the whole message: a digest cannot be signed"
                    .into(),
            });
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
        entry: None,
        timestamps: Vec::new(),
    })
}

impl SignedBlob {
    /// cosign's legacy bundle file: the base64 signature, the certificate (or the key) PEM in
    /// base64, and the log entry.
    pub fn legacy_bundle(&self, signer: &Signer, certificate: Option<&Certificate>) -> Vec<u8> {
        let cert_pem = certificate.map_or_else(|| signer.public_key().to_pem(), |c| c.pem.clone());
        LocalSignedPayload {
            base64_signature: STANDARD.encode(&self.signature),
            cert: Some(STANDARD.encode(cert_pem.as_bytes())),
            rekor_bundle: self.entry.as_ref().map(LogEntry::to_legacy_bundle),
        }
        .to_json()
    }

    /// A Sigstore bundle v0.3 with a message signature and a public-key hint (or the
    /// certificate), and the log entry.
    pub fn sigstore_bundle(
        &self,
        signer: &Signer,
        certificate: Option<&Certificate>,
    ) -> Result<Vec<u8>, Error> {
        Ok(Bundle {
            media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
            verification_material: super::bundle::verification_material(
                &signer.public_key(),
                certificate,
                self.entry.as_ref(),
                &self.timestamps,
            )?,
            content: BundleContent::MessageSignature(MessageSignature {
                message_digest: Some(MessageDigest {
                    algorithm: self.digest.algorithm().proto_name().to_owned(),
                    digest: self.digest.as_bytes().to_vec(),
                }),
                signature: self.signature.clone(),
            }),
        }
        .to_json())
    }
}
