//! Public keys: parsing (PKIX, PKCS#1, certificates), canonical encoding, verification.

use std::fmt;

use aws_lc_rs::signature::{self as lc_sig, UnparsedPublicKey, VerificationAlgorithm};
use cosign_types::{Digest, HashAlgorithm};
use der::asn1::{AnyRef, ObjectIdentifier, UintRef};
use der::{Decode as _, Encode as _};
use ed25519_dalek::VerifyingKey;
use spki::SubjectPublicKeyInfoRef;

use crate::asn1::{self, Curve, ID_EC_PUBLIC_KEY, ID_ED25519, RSA_ENCRYPTION};
use crate::hash::{Hasher, hash, to_aws_lc};
use crate::{CryptoError, KeyType, SignatureScheme, ed25519, pem};

/// A public key: ECDSA P-256/P-384/P-521, RSA 2048..=8192 bits, or Ed25519.
///
/// Always held in canonical form (the DER that Go's `x509.MarshalPKIXPublicKey` writes), so
/// equality, [`PublicKey::to_spki_der`] and [`PublicKey::hint`] do not depend on how the key
/// was read.
#[derive(Clone)]
pub struct PublicKey {
    key_type: KeyType,
    spki: Vec<u8>,
    material: Material,
}

#[derive(Clone)]
enum Material {
    Ecdsa(Curve),
    Rsa,
    Ed25519(VerifyingKey),
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for PublicKey {}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.spki.hash(state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("type", &format_args!("{}", self.key_type))
            .field("hint", &format_args!("{}", hex::encode(self.hint())))
            .finish()
    }
}

impl PublicKey {
    /// Reads a PEM public key: `PUBLIC KEY` (PKIX SubjectPublicKeyInfo), `CERTIFICATE` (the
    /// certificate's key) or `RSA PUBLIC KEY` (PKCS#1). The first well-formed PEM block is
    /// used. Key strength is validated as for private keys.
    pub fn from_pem(pem: &[u8]) -> Result<Self, CryptoError> {
        let block = pem::decode_first(pem)?;
        match block.label.as_str() {
            "PUBLIC KEY" => Self::from_spki_der(&block.der),
            "CERTIFICATE" => Self::from_certificate_der(&block.der),
            "RSA PUBLIC KEY" => Self::from_rsa_pkcs1_der(&block.der),
            _ => Err(CryptoError::UnsupportedPemType(block.label.clone())),
        }
    }

    /// Reads a DER PKIX SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        const WHAT: &str = "parsing PKIX public key";
        let spki =
            SubjectPublicKeyInfoRef::from_der(der).map_err(|e| CryptoError::malformed(WHAT, e))?;
        let key_bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| CryptoError::malformed(WHAT, "the key bit string has unused bits"))?;
        match spki.algorithm.oid {
            ID_EC_PUBLIC_KEY => {
                let curve = Curve::from_parameters(spki.algorithm.parameters)?;
                Self::from_ec_point(curve, key_bits)
            }
            RSA_ENCRYPTION => {
                if spki.algorithm.parameters != Some(AnyRef::NULL) {
                    return Err(CryptoError::malformed(
                        WHAT,
                        "RSA key missing NULL parameters",
                    ));
                }
                Self::from_rsa_pkcs1_der(key_bits)
            }
            ID_ED25519 => {
                if spki.algorithm.parameters.is_some() {
                    return Err(CryptoError::malformed(
                        WHAT,
                        "Ed25519 key encoded with illegal parameters",
                    ));
                }
                let bytes = <[u8; 32]>::try_from(key_bits)
                    .map_err(|_| CryptoError::malformed(WHAT, "Ed25519 key is not 32 bytes"))?;
                Self::from_ed25519_bytes(&bytes)
            }
            other => Err(CryptoError::UnsupportedKeyAlgorithm(asn1::oid_name(&other))),
        }
    }

    /// Reads the public key of a DER X.509 certificate (the certificate is not verified).
    pub fn from_certificate_der(der: &[u8]) -> Result<Self, CryptoError> {
        Self::from_spki_der(asn1::certificate_spki(der)?)
    }

    /// Reads a DER PKCS#1 `RSAPublicKey`.
    pub fn from_rsa_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        const WHAT: &str = "parsing PKCS#1 RSA public key";
        let key =
            pkcs1::RsaPublicKeyRef::from_der(der).map_err(|e| CryptoError::malformed(WHAT, e))?;
        let bits = asn1::bit_len(key.modulus.as_bytes());
        asn1::check_rsa_bits(bits)?;
        // Re-encode so the stored form is canonical.
        let pkcs1 = pkcs1::RsaPublicKey {
            modulus: UintRef::new(key.modulus.as_bytes())
                .map_err(|e| CryptoError::malformed(WHAT, e))?,
            public_exponent: UintRef::new(key.public_exponent.as_bytes())
                .map_err(|e| CryptoError::malformed(WHAT, e))?,
        }
        .to_der()
        .map_err(|e| CryptoError::malformed(WHAT, e))?;
        let spki = asn1::encode_spki(RSA_ENCRYPTION, Some(AnyRef::NULL), &pkcs1)?;
        validate(&lc_sig::RSA_PKCS1_2048_8192_SHA256, &spki, WHAT)?;
        Ok(Self {
            key_type: KeyType::Rsa { bits },
            spki,
            material: Material::Rsa,
        })
    }

    /// An ECDSA key from its uncompressed point (`04 || X || Y`).
    pub(crate) fn from_ec_point(curve: Curve, point: &[u8]) -> Result<Self, CryptoError> {
        const WHAT: &str = "parsing ECDSA public key";
        if point.len() != curve.point_len() || point.first() != Some(&4) {
            return Err(CryptoError::malformed(
                WHAT,
                "not an uncompressed point of the curve's size",
            ));
        }
        let curve_oid: ObjectIdentifier = curve.oid();
        let spki = asn1::encode_spki(ID_EC_PUBLIC_KEY, Some(AnyRef::from(&curve_oid)), point)?;
        validate(curve.verification_alg(), &spki, WHAT)?;
        Ok(Self {
            key_type: curve.key_type(),
            spki,
            material: Material::Ecdsa(curve),
        })
    }

    /// An Ed25519 key from its 32 bytes.
    pub(crate) fn from_ed25519_bytes(bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| {
            CryptoError::malformed("parsing Ed25519 public key", "not a point on the curve")
        })?;
        Self::from_ed25519(key)
    }

    pub(crate) fn from_ed25519(key: VerifyingKey) -> Result<Self, CryptoError> {
        let spki = asn1::encode_spki(ID_ED25519, None, key.as_bytes())?;
        Ok(Self {
            key_type: KeyType::Ed25519,
            spki,
            material: Material::Ed25519(key),
        })
    }

    /// The curve of an ECDSA key.
    pub(crate) fn ec_curve(&self) -> Option<Curve> {
        match self.material {
            Material::Ecdsa(curve) => Some(curve),
            _ => None,
        }
    }

    /// The DER PKIX SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Vec<u8> {
        self.spki.clone()
    }

    /// `-----BEGIN PUBLIC KEY-----` PEM exactly like Go's `pem.Encode`: 64-character base64
    /// lines and a trailing newline.
    pub fn to_pem(&self) -> String {
        pem::encode("PUBLIC KEY", &self.spki)
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// SHA-256 of the SPKI DER (Rekor log ID, bundle `publicKey.hint` before base64).
    pub fn hint(&self) -> [u8; 32] {
        let digest = hash(HashAlgorithm::Sha256, &self.spki);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_bytes());
        out
    }

    fn check_scheme(&self, scheme: SignatureScheme) -> Result<(), CryptoError> {
        if scheme.fits(self.key_type) {
            Ok(())
        } else {
            Err(CryptoError::SchemeMismatch {
                scheme,
                key: self.key_type,
            })
        }
    }

    /// Verifies `sig` over a precomputed digest. The digest's algorithm must be the one the
    /// scheme signs (so pure Ed25519 always errors here).
    pub fn verify_digest(
        &self,
        scheme: SignatureScheme,
        digest: &Digest,
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        self.check_scheme(scheme)?;
        crate::keys::check_digest(scheme, digest)?;
        match &self.material {
            Material::Ed25519(key) => ed25519::verify_ph(key, digest.as_bytes(), sig),
            Material::Ecdsa(curve) => lc_verify(curve.verification_alg(), &self.spki, digest, sig),
            Material::Rsa => {
                lc_verify(&lc_sig::RSA_PKCS1_2048_8192_SHA256, &self.spki, digest, sig)
            }
        }
    }

    /// Verifies `sig` over a whole in-memory message.
    pub fn verify_message(
        &self,
        scheme: SignatureScheme,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        self.check_scheme(scheme)?;
        match (scheme.prehash(), &self.material) {
            (Some(alg), _) => self.verify_digest(scheme, &hash(alg, message), sig),
            (None, Material::Ed25519(key)) => ed25519::verify(key, message, sig),
            (None, _) => Err(CryptoError::SchemeMismatch {
                scheme,
                key: self.key_type,
            }),
        }
    }

    /// A verifier for a message streamed in with [`StreamVerifier::update`]. Prehash schemes
    /// hash then verify the digest; pure Ed25519 verifies strictly as it goes. A malformed
    /// signature may be reported here or by [`StreamVerifier::finish`].
    pub fn stream_verifier(
        &self,
        scheme: SignatureScheme,
        sig: &[u8],
    ) -> Result<StreamVerifier, CryptoError> {
        self.check_scheme(scheme)?;
        let inner = match (scheme.prehash(), &self.material) {
            (Some(alg), _) => StreamInner::Prehash {
                hasher: Hasher::new(alg),
                key: self.clone(),
                scheme,
                sig: sig.to_vec(),
            },
            (None, Material::Ed25519(key)) => {
                StreamInner::Ed25519(ed25519::stream_verifier(key, sig)?)
            }
            (None, _) => {
                return Err(CryptoError::SchemeMismatch {
                    scheme,
                    key: self.key_type,
                });
            }
        };
        Ok(StreamVerifier { scheme, inner })
    }
}

/// Parses `spki` with aws-lc-rs, which checks the point is on the curve / the RSA key is sane.
fn validate(
    alg: &'static dyn VerificationAlgorithm,
    spki: &[u8],
    what: &'static str,
) -> Result<(), CryptoError> {
    UnparsedPublicKey::new(alg, spki)
        .parse()
        .map(|_| ())
        .map_err(|e| CryptoError::malformed(what, e))
}

fn lc_verify(
    alg: &'static dyn VerificationAlgorithm,
    spki: &[u8],
    digest: &Digest,
    sig: &[u8],
) -> Result<(), CryptoError> {
    UnparsedPublicKey::new(alg, spki)
        .verify_digest(&to_aws_lc(digest)?, sig)
        .map_err(|_| CryptoError::InvalidSignature)
}

/// Verifies a signature over a message fed in chunks; see [`PublicKey::stream_verifier`].
pub struct StreamVerifier {
    scheme: SignatureScheme,
    inner: StreamInner,
}

enum StreamInner {
    Prehash {
        hasher: Hasher,
        key: PublicKey,
        scheme: SignatureScheme,
        sig: Vec<u8>,
    },
    Ed25519(ed25519_dalek::StreamVerifier),
}

impl StreamVerifier {
    /// Feeds the next chunk of the message.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.inner {
            StreamInner::Prehash { hasher, .. } => hasher.update(data),
            StreamInner::Ed25519(verifier) => verifier.update(data),
        }
    }

    /// Checks the signature against everything fed.
    pub fn finish(self) -> Result<(), CryptoError> {
        match self.inner {
            StreamInner::Prehash {
                hasher,
                key,
                scheme,
                sig,
            } => key.verify_digest(scheme, &hasher.finish(), &sig),
            StreamInner::Ed25519(verifier) => verifier
                .finalize_and_verify()
                .map_err(|_| CryptoError::InvalidSignature),
        }
    }
}

impl fmt::Debug for StreamVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamVerifier({})", self.scheme)
    }
}
