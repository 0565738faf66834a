//! Private keys: generation, PEM/PKCS#8/SEC1/PKCS#1 import, PKCS#8 export, signing.

use std::fmt;

use aws_lc_rs::encoding::{AsBigEndian as _, AsDer as _, Pkcs8V1Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use cosign_types::Digest;
use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode as _, Encode as _};
use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use crate::asn1::{self, Curve, ID_EC_PUBLIC_KEY, ID_ED25519, RSA_ENCRYPTION};
use crate::hash::{Hasher, hash, to_aws_lc};
use crate::{CryptoError, KeyType, PublicKey, SignatureScheme, ed25519, pem};

/// Something whose whole content can be fed again from the start, chunk by chunk.
///
/// Pure Ed25519 signing calls `feed` twice (and refuses to sign if the two passes differ);
/// every other scheme once.
pub trait MessageSource {
    /// Feeds the whole content, from the start, to `sink`.
    fn feed(&mut self, sink: &mut dyn FnMut(&[u8])) -> std::io::Result<()>;
}

impl MessageSource for &[u8] {
    fn feed(&mut self, sink: &mut dyn FnMut(&[u8])) -> std::io::Result<()> {
        sink(self);
        Ok(())
    }
}

/// A private key. Key material is zeroized on drop; `Debug` prints only the key type; there is
/// no `Display`.
pub struct PrivateKey {
    inner: Inner,
    public: PublicKey,
}

enum Inner {
    // aws-lc-rs frees (and so zeroizes) the key when the pair is dropped.
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    // ed25519-dalek zeroizes on drop (feature "zeroize").
    Ed25519(Box<SigningKey>),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.key_type())
    }
}

/// Go's `MarshalPKCS8PrivateKey` output for an Ed25519 key, before the 32-byte seed:
/// `SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }`.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

fn lc_err(what: &'static str) -> impl Fn(aws_lc_rs::error::KeyRejected) -> CryptoError {
    move |e| CryptoError::malformed(what, e)
}

impl PrivateKey {
    /// A fresh ECDSA P-256 key (what `generate-key-pair` makes).
    pub fn generate_ecdsa_p256() -> Result<Self, CryptoError> {
        Self::generate(KeyType::EcdsaP256)
    }

    /// A fresh key of the given type. RSA sizes: 2048, 3072, 4096 or 8192 bits.
    pub fn generate(key_type: KeyType) -> Result<Self, CryptoError> {
        match key_type {
            KeyType::EcdsaP256 => Self::generate_ec(Curve::P256),
            KeyType::EcdsaP384 => Self::generate_ec(Curve::P384),
            KeyType::EcdsaP521 => Self::generate_ec(Curve::P521),
            KeyType::Rsa { bits } => {
                let size = match bits {
                    2048 => KeySize::Rsa2048,
                    3072 => KeySize::Rsa3072,
                    4096 => KeySize::Rsa4096,
                    8192 => KeySize::Rsa8192,
                    _ => {
                        return Err(CryptoError::UnsupportedKeyAlgorithm(format!(
                            "generating RSA {bits} (2048, 3072, 4096 or 8192 bits only)"
                        )));
                    }
                };
                let pair = RsaKeyPair::generate(size)
                    .map_err(|_| CryptoError::Internal("RSA key generation failed".to_owned()))?;
                Self::from_rsa_pair(pair)
            }
            KeyType::Ed25519 => {
                let mut seed = Zeroizing::new([0u8; 32]);
                aws_lc_rs::rand::fill(&mut seed[..]).map_err(|_| {
                    CryptoError::Internal("random number generator failed".to_owned())
                })?;
                Self::from_ed25519(SigningKey::from_bytes(&seed))
            }
        }
    }

    fn generate_ec(curve: Curve) -> Result<Self, CryptoError> {
        let pair = EcdsaKeyPair::generate(curve.signing_alg())
            .map_err(|_| CryptoError::Internal("ECDSA key generation failed".to_owned()))?;
        Self::from_ec_pair(curve, pair)
    }

    fn from_ec_pair(curve: Curve, pair: EcdsaKeyPair) -> Result<Self, CryptoError> {
        let public = PublicKey::from_ec_point(curve, pair.public_key().as_ref())?;
        Ok(Self {
            inner: Inner::Ecdsa(pair),
            public,
        })
    }

    fn from_rsa_pair(pair: RsaKeyPair) -> Result<Self, CryptoError> {
        // aws-lc-rs gives the public key as a PKCS#1 RSAPublicKey.
        let public = PublicKey::from_rsa_pkcs1_der(pair.public_key().as_ref())?;
        Ok(Self {
            inner: Inner::Rsa(pair),
            public,
        })
    }

    fn from_ed25519(key: SigningKey) -> Result<Self, CryptoError> {
        let public = PublicKey::from_ed25519(key.verifying_key())?;
        Ok(Self {
            inner: Inner::Ed25519(Box::new(key)),
            public,
        })
    }

    /// Reads a PEM private key as `import-key-pair` accepts it: `RSA PRIVATE KEY` (PKCS#1),
    /// `EC PRIVATE KEY` (SEC1) or `PRIVATE KEY` (PKCS#8 with RSA, ECDSA or Ed25519). Other PEM
    /// types -> [`CryptoError::UnsupportedPemType`]. Validates strength: RSA >= 2048 bits,
    /// ECDSA only on P-256/P-384/P-521.
    pub fn from_pem(pem: &[u8]) -> Result<Self, CryptoError> {
        let block = pem::decode_first(pem)?;
        match block.label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8_der(&block.der),
            "EC PRIVATE KEY" => Self::from_sec1_der(&block.der),
            "RSA PRIVATE KEY" => Self::from_rsa_pkcs1_der(&block.der),
            _ => Err(CryptoError::UnsupportedPemType(block.label.clone())),
        }
    }

    /// Reads a DER PKCS#8 `PrivateKeyInfo` (RSA, ECDSA or Ed25519), validating strength.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        const WHAT: &str = "parsing PKCS#8 private key";
        let info =
            pkcs8::PrivateKeyInfoRef::from_der(der).map_err(|e| CryptoError::malformed(WHAT, e))?;
        match info.algorithm.oid {
            RSA_ENCRYPTION => {
                check_rsa_private(info.private_key.as_bytes())?;
                let pair = RsaKeyPair::from_pkcs8(der).map_err(lc_err(WHAT))?;
                Self::from_rsa_pair(pair)
            }
            ID_EC_PUBLIC_KEY => {
                let curve = Curve::from_parameters(info.algorithm.parameters)?;
                let pair =
                    EcdsaKeyPair::from_pkcs8(curve.signing_alg(), der).map_err(lc_err(WHAT))?;
                Self::from_ec_pair(curve, pair)
            }
            ID_ED25519 => {
                if info.algorithm.parameters.is_some() {
                    return Err(CryptoError::malformed(
                        WHAT,
                        "invalid Ed25519 private key parameters",
                    ));
                }
                let seed = <&OctetStringRef>::from_der(info.private_key.as_bytes())
                    .map_err(|e| CryptoError::malformed(WHAT, e))?;
                let seed = Zeroizing::new(<[u8; 32]>::try_from(seed.as_bytes()).map_err(|_| {
                    CryptoError::malformed(WHAT, "invalid Ed25519 private key length")
                })?);
                let key = SigningKey::from_bytes(&seed);
                if let Some(public) = info.public_key {
                    if public.as_bytes() != Some(key.verifying_key().as_bytes().as_slice()) {
                        return Err(CryptoError::malformed(
                            WHAT,
                            "the Ed25519 public key does not match the private key",
                        ));
                    }
                }
                Self::from_ed25519(key)
            }
            other => Err(CryptoError::UnsupportedKeyAlgorithm(asn1::oid_name(&other))),
        }
    }

    /// Reads a DER SEC1 `ECPrivateKey` (which must name its curve).
    fn from_sec1_der(der: &[u8]) -> Result<Self, CryptoError> {
        const WHAT: &str = "parsing EC private key";
        let key = sec1::EcPrivateKey::from_der(der).map_err(|e| CryptoError::malformed(WHAT, e))?;
        let curve = match key.parameters {
            Some(sec1::EcParameters::NamedCurve(oid)) => Curve::from_oid(&oid)?,
            None => {
                return Err(CryptoError::UnsupportedCurve(
                    "(no named curve in the key)".to_owned(),
                ));
            }
        };
        let pair =
            EcdsaKeyPair::from_private_key_der(curve.signing_alg(), der).map_err(lc_err(WHAT))?;
        Self::from_ec_pair(curve, pair)
    }

    /// Reads a DER PKCS#1 `RSAPrivateKey`.
    fn from_rsa_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        check_rsa_private(der)?;
        let pair = RsaKeyPair::from_der(der).map_err(lc_err("parsing PKCS#1 RSA private key"))?;
        Self::from_rsa_pair(pair)
    }

    /// The key as DER PKCS#8, byte for byte what Go's `x509.MarshalPKCS8PrivateKey` writes.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let internal = |_| CryptoError::Internal("encoding the private key as PKCS#8".to_owned());
        match &self.inner {
            Inner::Ecdsa(pair) => ec_pkcs8(pair, self.public.ec_curve()),
            Inner::Rsa(pair) => {
                let doc: Pkcs8V1Der<'static> = pair.as_der().map_err(internal)?;
                Ok(Zeroizing::new(doc.as_ref().to_vec()))
            }
            Inner::Ed25519(key) => {
                let mut out = Zeroizing::new(Vec::with_capacity(ED25519_PKCS8_PREFIX.len() + 32));
                out.extend_from_slice(&ED25519_PKCS8_PREFIX);
                out.extend_from_slice(key.as_bytes());
                Ok(out)
            }
        }
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        self.public.key_type()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    fn check_scheme(&self, scheme: SignatureScheme) -> Result<(), CryptoError> {
        if scheme.fits(self.key_type()) {
            Ok(())
        } else {
            Err(CryptoError::SchemeMismatch {
                scheme,
                key: self.key_type(),
            })
        }
    }

    /// Signs a precomputed digest. Errors if the scheme does not fit the key
    /// ([`CryptoError::SchemeMismatch`]) or the digest is not the one the scheme signs
    /// ([`CryptoError::DigestMismatch`]; so pure Ed25519 always errors here).
    pub fn sign_digest(
        &self,
        scheme: SignatureScheme,
        digest: &Digest,
    ) -> Result<Vec<u8>, CryptoError> {
        self.check_scheme(scheme)?;
        check_digest(scheme, digest)?;
        match &self.inner {
            Inner::Ecdsa(pair) => pair
                .sign_digest(&to_aws_lc(digest)?)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| CryptoError::Internal("ECDSA signing failed".to_owned())),
            Inner::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign_digest(
                    &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                    &to_aws_lc(digest)?,
                    &mut sig,
                )
                .map_err(|_| CryptoError::Internal("RSA signing failed".to_owned()))?;
                Ok(sig)
            }
            Inner::Ed25519(key) => ed25519::sign_ph(key, digest.as_bytes()),
        }
    }

    /// Signs a whole in-memory message with any fitting scheme.
    pub fn sign_message(
        &self,
        scheme: SignatureScheme,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.check_scheme(scheme)?;
        match (scheme.prehash(), &self.inner) {
            (Some(alg), _) => self.sign_digest(scheme, &hash(alg, message)),
            (None, Inner::Ed25519(key)) => Ok(ed25519::sign(key, message)),
            (None, _) => Err(CryptoError::SchemeMismatch {
                scheme,
                key: self.key_type(),
            }),
        }
    }

    /// Signs a message fed from `source` in constant memory: prehash schemes hash it in one
    /// pass and sign the digest; pure Ed25519 reads it twice. I/O errors ->
    /// [`CryptoError::Io`].
    pub fn sign_stream(
        &self,
        scheme: SignatureScheme,
        source: &mut dyn MessageSource,
    ) -> Result<Vec<u8>, CryptoError> {
        self.check_scheme(scheme)?;
        match (scheme.prehash(), &self.inner) {
            (Some(alg), _) => {
                let mut hasher = Hasher::new(alg);
                source.feed(&mut |chunk| hasher.update(chunk))?;
                self.sign_digest(scheme, &hasher.finish())
            }
            (None, Inner::Ed25519(key)) => ed25519::sign_stream(key, source),
            (None, _) => Err(CryptoError::SchemeMismatch {
                scheme,
                key: self.key_type(),
            }),
        }
    }
}

/// Go's `MarshalPKCS8PrivateKey` for ECDSA: `PrivateKeyInfo { 0, { id-ecPublicKey, curve },
/// ECPrivateKey { 1, d (padded to the curve size), [1] public point } }` -- the inner
/// structure has no curve parameters and always has the public key (aws-lc-rs would leave it
/// out when the key was read without one).
fn ec_pkcs8(pair: &EcdsaKeyPair, curve: Option<Curve>) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let internal = |e: &dyn fmt::Display| {
        CryptoError::Internal(format!("encoding the private key as PKCS#8: {e}"))
    };
    let curve = curve.ok_or_else(|| internal(&"not an ECDSA key"))?;
    let scalar = pair.private_key().as_be_bytes().map_err(|e| internal(&e))?;
    let ec_key = sec1::EcPrivateKey {
        private_key: scalar.as_ref(),
        parameters: None,
        public_key: Some(pair.public_key().as_ref()),
    };
    let mut inner = Zeroizing::new(Vec::new());
    ec_key.encode_to_vec(&mut inner).map_err(|e| internal(&e))?;
    let curve_oid = curve.oid();
    let info = pkcs8::PrivateKeyInfoRef::new(
        spki::AlgorithmIdentifierRef {
            oid: ID_EC_PUBLIC_KEY,
            parameters: Some(AnyRef::from(&curve_oid)),
        },
        OctetStringRef::new(&inner).map_err(|e| internal(&e))?,
    );
    let mut out = Zeroizing::new(Vec::new());
    info.encode_to_vec(&mut out).map_err(|e| internal(&e))?;
    Ok(out)
}

/// Refuses a digest that is not the one `scheme` signs.
pub(crate) fn check_digest(scheme: SignatureScheme, digest: &Digest) -> Result<(), CryptoError> {
    if scheme.prehash() == Some(digest.algorithm()) {
        Ok(())
    } else {
        Err(CryptoError::DigestMismatch {
            scheme,
            digest: digest.algorithm(),
        })
    }
}

/// Checks the modulus size of a DER PKCS#1 `RSAPrivateKey` before aws-lc-rs sees it.
fn check_rsa_private(pkcs1_der: &[u8]) -> Result<(), CryptoError> {
    let key = pkcs1::RsaPrivateKeyRef::from_der(pkcs1_der)
        .map_err(|e| CryptoError::malformed("parsing PKCS#1 RSA private key", e))?;
    asn1::check_rsa_bits(asn1::bit_len(key.modulus.as_bytes()))
}
