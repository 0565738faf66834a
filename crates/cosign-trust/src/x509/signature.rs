//! Signatures made by certificate keys: X.509 certificate signatures, CMS signer infos and
//! SCTs. ECDSA (P-256, P-384, P-521), RSA PKCS#1 v1.5 and PSS (2048 to 8192 bits) and Ed25519,
//! verified with aws-lc-rs.

use aws_lc_rs::signature::{self as lc, UnparsedPublicKey, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Decode as _;
use der::asn1::AnyRef;
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

/// `id-Ed25519` (RFC 8410).
const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// A hash function used with a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigHash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl SigHash {
    /// The hash of a digest algorithm OID (SHA-2 only).
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            rfc5912::ID_SHA_256 => Some(Self::Sha256),
            rfc5912::ID_SHA_384 => Some(Self::Sha384),
            rfc5912::ID_SHA_512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// The signature scheme a signature algorithm identifier names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    Ecdsa(SigHash),
    RsaPkcs1(SigHash),
    RsaPss(SigHash),
    Ed25519,
}

/// Reads a signature algorithm identifier. `digest_hint` is the CMS digest algorithm, used when
/// the identifier names only the key type (`rsaEncryption`, `id-ecPublicKey`).
fn scheme(
    alg: &AlgorithmIdentifierRef<'_>,
    digest_hint: Option<SigHash>,
) -> Result<Scheme, String> {
    let hinted = |f: fn(SigHash) -> Scheme| {
        digest_hint
            .map(f)
            .ok_or_else(|| format!("signature algorithm {} needs a digest algorithm", alg.oid))
    };
    Ok(match alg.oid {
        rfc5912::ECDSA_WITH_SHA_256 => Scheme::Ecdsa(SigHash::Sha256),
        rfc5912::ECDSA_WITH_SHA_384 => Scheme::Ecdsa(SigHash::Sha384),
        rfc5912::ECDSA_WITH_SHA_512 => Scheme::Ecdsa(SigHash::Sha512),
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(SigHash::Sha256),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(SigHash::Sha384),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => Scheme::RsaPkcs1(SigHash::Sha512),
        rfc5912::ID_RSASSA_PSS => Scheme::RsaPss(pss_hash(alg.parameters)?),
        ID_ED25519 => Scheme::Ed25519,
        rfc5912::RSA_ENCRYPTION => hinted(Scheme::RsaPkcs1)?,
        rfc5912::ID_EC_PUBLIC_KEY => hinted(Scheme::Ecdsa)?,
        other => return Err(format!("unsupported signature algorithm {other}")),
    })
}

/// The hash of RSASSA-PSS parameters; only MGF1 with the same hash and a salt as long as the
/// hash are accepted (what aws-lc-rs verifies, and what every PSS signer uses).
fn pss_hash(params: Option<AnyRef<'_>>) -> Result<SigHash, String> {
    #[derive(der::Sequence)]
    struct PssParams<'a> {
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        hash: Option<AlgorithmIdentifierRef<'a>>,
        #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
        mgf: Option<AlgorithmIdentifierRef<'a>>,
        #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
        salt_len: Option<u32>,
        #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
        trailer: Option<u32>,
    }
    let params = params.ok_or("RSASSA-PSS without parameters")?;
    let parsed: PssParams<'_> = params
        .decode_as()
        .map_err(|e| format!("RSASSA-PSS parameters: {e}"))?;
    let hash = parsed
        .hash
        .and_then(|h| SigHash::from_oid(&h.oid))
        .ok_or("RSASSA-PSS with SHA-1 or an unknown hash")?;
    let mgf_hash = parsed
        .mgf
        .filter(|m| m.oid == rfc5912::ID_MGF_1)
        .and_then(|m| m.parameters)
        .and_then(|p| p.decode_as::<AlgorithmIdentifierRef<'_>>().ok())
        .and_then(|h| SigHash::from_oid(&h.oid));
    if mgf_hash != Some(hash) {
        return Err("RSASSA-PSS mask generation is not MGF1 with the message hash".into());
    }
    let hash_len = match hash {
        SigHash::Sha256 => 32,
        SigHash::Sha384 => 48,
        SigHash::Sha512 => 64,
    };
    if parsed.salt_len.unwrap_or(20) != hash_len || parsed.trailer.unwrap_or(1) != 1 {
        return Err("RSASSA-PSS salt length differs from the hash length".into());
    }
    Ok(hash)
}

/// The curve OIDs of `id-ecPublicKey` parameters.
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

fn ecdsa_alg(
    curve: &ObjectIdentifier,
    hash: SigHash,
) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match (*curve, hash) {
        (SECP256R1, SigHash::Sha256) => &lc::ECDSA_P256_SHA256_ASN1,
        (SECP256R1, SigHash::Sha384) => &lc::ECDSA_P256_SHA384_ASN1,
        (SECP256R1, SigHash::Sha512) => &lc::ECDSA_P256_SHA512_ASN1,
        (SECP384R1, SigHash::Sha256) => &lc::ECDSA_P384_SHA256_ASN1,
        (SECP384R1, SigHash::Sha384) => &lc::ECDSA_P384_SHA384_ASN1,
        (SECP384R1, SigHash::Sha512) => &lc::ECDSA_P384_SHA512_ASN1,
        (SECP521R1, SigHash::Sha256) => &lc::ECDSA_P521_SHA256_ASN1,
        (SECP521R1, SigHash::Sha384) => &lc::ECDSA_P521_SHA384_ASN1,
        (SECP521R1, SigHash::Sha512) => &lc::ECDSA_P521_SHA512_ASN1,
        _ => return None,
    })
}

/// Verifies `signature` over `message` with the key of `spki_der` (a SubjectPublicKeyInfo) under
/// the signature algorithm `alg`. Returns why it does not verify.
pub fn verify_signature(
    spki_der: &[u8],
    alg: &AlgorithmIdentifierRef<'_>,
    digest_hint: Option<SigHash>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let scheme = scheme(alg, digest_hint)?;
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|e| format!("reading the signer's public key: {e}"))?;
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or("the signer's public key has unused bits")?;
    let key_oid = spki.algorithm.oid;
    let lc_alg: &'static dyn VerificationAlgorithm = match scheme {
        Scheme::Ecdsa(hash) if key_oid == rfc5912::ID_EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .ok_or("ECDSA key without a named curve")?;
            ecdsa_alg(&curve, hash).ok_or_else(|| format!("unsupported ECDSA curve {curve}"))?
        }
        Scheme::RsaPkcs1(hash) if key_oid == rfc5912::RSA_ENCRYPTION => match hash {
            SigHash::Sha256 => &lc::RSA_PKCS1_2048_8192_SHA256,
            SigHash::Sha384 => &lc::RSA_PKCS1_2048_8192_SHA384,
            SigHash::Sha512 => &lc::RSA_PKCS1_2048_8192_SHA512,
        },
        Scheme::RsaPss(hash)
            if key_oid == rfc5912::RSA_ENCRYPTION || key_oid == rfc5912::ID_RSASSA_PSS =>
        {
            match hash {
                SigHash::Sha256 => &lc::RSA_PSS_2048_8192_SHA256,
                SigHash::Sha384 => &lc::RSA_PSS_2048_8192_SHA384,
                SigHash::Sha512 => &lc::RSA_PSS_2048_8192_SHA512,
            }
        }
        Scheme::Ed25519 if key_oid == ID_ED25519 => &lc::ED25519,
        _ => {
            return Err(format!(
                "signature algorithm {} does not fit a {} key",
                alg.oid, key_oid
            ));
        }
    };
    UnparsedPublicKey::new(lc_alg, key)
        .verify(message, signature)
        .map_err(|_| "invalid signature".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_algorithms_are_refused() {
        let alg = AlgorithmIdentifierRef {
            oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5"),
            parameters: None,
        };
        assert!(scheme(&alg, None).is_err());
        let rsa = AlgorithmIdentifierRef {
            oid: rfc5912::RSA_ENCRYPTION,
            parameters: None,
        };
        assert!(scheme(&rsa, None).is_err());
        assert_eq!(
            scheme(&rsa, Some(SigHash::Sha384)),
            Ok(Scheme::RsaPkcs1(SigHash::Sha384))
        );
        assert!(verify_signature(b"junk", &rsa, Some(SigHash::Sha256), b"m", b"s").is_err());
    }
}
