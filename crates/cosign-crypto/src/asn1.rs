//! The ASN.1 pieces cosign keys need: OIDs, curves, SPKI encoding, and the certificate walk
//! that finds a certificate's SubjectPublicKeyInfo.

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier};
use der::{Decode as _, Encode as _, Reader as _, SliceReader, Tag, TagNumber};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use crate::{CryptoError, KeyType};

/// `id-ecPublicKey` (RFC 5480).
pub(crate) const ID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `rsaEncryption` (RFC 8017).
pub(crate) const RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// `id-Ed25519` (RFC 8410).
pub(crate) const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// NIST P-256 / secp256r1.
pub(crate) const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// NIST P-384 / secp384r1.
pub(crate) const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// NIST P-521 / secp521r1.
pub(crate) const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const SECP224R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.33");
const SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");

/// The smallest RSA modulus accepted (sigstore's `ValidatePubKey`).
pub(crate) const RSA_MIN_BITS: usize = 2048;
/// The largest RSA modulus accepted (aws-lc-rs signs and verifies up to 8192 bits).
pub(crate) const RSA_MAX_BITS: usize = 8192;

/// One of the three NIST curves cosign accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// The curve for a `namedCurve` OID; other curves are refused with their name.
    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Result<Self, CryptoError> {
        match *oid {
            SECP256R1 => Ok(Self::P256),
            SECP384R1 => Ok(Self::P384),
            SECP521R1 => Ok(Self::P521),
            SECP224R1 => Err(CryptoError::UnsupportedCurve("P-224".to_owned())),
            SECP256K1 => Err(CryptoError::UnsupportedCurve("secp256k1".to_owned())),
            other => Err(CryptoError::UnsupportedCurve(oid_name(&other))),
        }
    }

    /// The curve named by an AlgorithmIdentifier's parameters (must be a `namedCurve` OID).
    pub(crate) fn from_parameters(params: Option<AnyRef<'_>>) -> Result<Self, CryptoError> {
        let params = params.ok_or_else(|| {
            CryptoError::UnsupportedCurve("(no named curve in the key)".to_owned())
        })?;
        let oid = ObjectIdentifier::try_from(params)
            .map_err(|_| CryptoError::UnsupportedCurve("(explicit curve parameters)".to_owned()))?;
        Self::from_oid(&oid)
    }

    pub(crate) fn oid(self) -> ObjectIdentifier {
        match self {
            Self::P256 => SECP256R1,
            Self::P384 => SECP384R1,
            Self::P521 => SECP521R1,
        }
    }

    pub(crate) fn key_type(self) -> KeyType {
        match self {
            Self::P256 => KeyType::EcdsaP256,
            Self::P384 => KeyType::EcdsaP384,
            Self::P521 => KeyType::EcdsaP521,
        }
    }

    /// Length of an uncompressed point (`04 || X || Y`).
    pub(crate) fn point_len(self) -> usize {
        match self {
            Self::P256 => 65,
            Self::P384 => 97,
            Self::P521 => 133,
        }
    }

    pub(crate) fn signing_alg(self) -> &'static aws_lc_rs::signature::EcdsaSigningAlgorithm {
        match self {
            Self::P256 => &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Self::P384 => &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            Self::P521 => &aws_lc_rs::signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }

    pub(crate) fn verification_alg(
        self,
    ) -> &'static aws_lc_rs::signature::EcdsaVerificationAlgorithm {
        match self {
            Self::P256 => &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
            Self::P384 => &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1,
            Self::P521 => &aws_lc_rs::signature::ECDSA_P521_SHA512_ASN1,
        }
    }
}

/// `1.2.3 (name)` when const-oid knows the OID, else the dotted form.
pub(crate) fn oid_name(oid: &ObjectIdentifier) -> String {
    match const_oid::db::DB.by_oid(oid) {
        Some(name) => format!("{oid} ({name})"),
        None => oid.to_string(),
    }
}

/// Bit length of a big-endian unsigned integer.
pub(crate) fn bit_len(be: &[u8]) -> usize {
    let trimmed = match be.iter().position(|&b| b != 0) {
        Some(i) => &be[i..],
        None => return 0,
    };
    let lead_zeros = trimmed.first().map_or(0, |b| b.leading_zeros() as usize);
    trimmed.len() * 8 - lead_zeros
}

/// Refuses RSA moduli outside `RSA_MIN_BITS..=RSA_MAX_BITS`.
pub(crate) fn check_rsa_bits(bits: usize) -> Result<(), CryptoError> {
    if bits < RSA_MIN_BITS {
        return Err(CryptoError::KeyTooWeak(format!(
            "rsa key size too small: {bits} bits (minimum {RSA_MIN_BITS})"
        )));
    }
    if bits > RSA_MAX_BITS {
        return Err(CryptoError::UnsupportedKeyAlgorithm(format!(
            "RSA with a {bits}-bit modulus (maximum {RSA_MAX_BITS} bits)"
        )));
    }
    Ok(())
}

/// DER SubjectPublicKeyInfo for `algorithm` (with `parameters`) and the key bits.
pub(crate) fn encode_spki(
    algorithm: ObjectIdentifier,
    parameters: Option<AnyRef<'_>>,
    key: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let spki = SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef {
            oid: algorithm,
            parameters,
        },
        subject_public_key: BitStringRef::from_bytes(key)
            .map_err(|e| CryptoError::Internal(format!("encoding public key: {e}")))?,
    };
    spki.to_der()
        .map_err(|e| CryptoError::Internal(format!("encoding public key: {e}")))
}

/// The SubjectPublicKeyInfo TLV inside a DER X.509 certificate.
///
/// Walks `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serial,
/// signature, issuer, validity, subject, subjectPublicKeyInfo, ... }, signatureAlgorithm,
/// signatureValue }` without interpreting the other fields.
pub(crate) fn certificate_spki(der: &[u8]) -> Result<&[u8], CryptoError> {
    let bad = |e: der::Error| CryptoError::malformed("parsing certificate", e);
    let mut reader = SliceReader::new(der).map_err(bad)?;
    let spki = reader
        .sequence(|cert| {
            let spki = cert.sequence(|tbs| {
                let version_tag = Tag::ContextSpecific {
                    constructed: true,
                    number: TagNumber(0),
                };
                if Tag::peek(tbs)? == version_tag {
                    tbs.tlv_bytes()?;
                }
                // serialNumber, signature, issuer, validity, subject
                for _ in 0..5 {
                    tbs.tlv_bytes()?;
                }
                let spki = tbs.tlv_bytes()?;
                while !tbs.is_finished() {
                    tbs.tlv_bytes()?;
                }
                Ok::<_, der::Error>(spki)
            })?;
            cert.tlv_bytes()?; // signatureAlgorithm
            cert.tlv_bytes()?; // signatureValue
            Ok::<_, der::Error>(spki)
        })
        .map_err(bad)?;
    reader.finish().map_err(bad)?;
    // Make sure what we hand out is a SubjectPublicKeyInfo at all.
    SubjectPublicKeyInfoRef::from_der(spki).map_err(bad)?;
    Ok(spki)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_len(&[]), 0);
        assert_eq!(bit_len(&[0, 0]), 0);
        assert_eq!(bit_len(&[1]), 1);
        assert_eq!(bit_len(&[0, 0x80, 0]), 16);
        assert_eq!(bit_len(&[0x7f, 0xff]), 15);
    }

    #[test]
    fn rsa_bounds() {
        assert!(matches!(
            check_rsa_bits(1024),
            Err(CryptoError::KeyTooWeak(m)) if m == "rsa key size too small: 1024 bits (minimum 2048)"
        ));
        assert!(check_rsa_bits(2048).is_ok());
        assert!(check_rsa_bits(8192).is_ok());
        assert!(check_rsa_bits(8193).is_err());
    }

    #[test]
    fn curves() {
        assert_eq!(Curve::from_oid(&SECP384R1).unwrap(), Curve::P384);
        assert!(matches!(
            Curve::from_oid(&SECP256K1),
            Err(CryptoError::UnsupportedCurve(n)) if n == "secp256k1"
        ));
        assert!(matches!(
            Curve::from_parameters(None),
            Err(CryptoError::UnsupportedCurve(_))
        ));
    }

    #[test]
    fn certificate_walk_refuses_garbage() {
        for bad in [&b""[..], b"\x30\x00", b"\x30\x03\x02\x01\x01", b"\x04\x00"] {
            assert!(certificate_spki(bad).is_err());
        }
    }
}
