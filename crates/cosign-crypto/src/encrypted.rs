//! The encrypted cosign private key file (`cosign.key`).
//!
//! A PEM block `ENCRYPTED SIGSTORE PRIVATE KEY` (read also: `ENCRYPTED COSIGN PRIVATE KEY`)
//! whose body is go-securesystemslib's JSON: scrypt(password, salt, N, r, p) -> 32-byte key,
//! NaCl secretbox (XSalsa20-Poly1305, tag || ciphertext) over the PKCS#8 DER of the key.
//! The scrypt parameters are checked against the three sets cosign accepts before scrypt runs,
//! so a hostile file cannot make us allocate or compute without bound.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::AeadInPlace as _;
use crypto_secretbox::{KeyInit as _, Nonce, XSalsa20Poly1305};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{CryptoError, PrivateKey, pem};

/// The PEM type cosign writes.
const LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM type older cosign wrote.
const LEGACY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
const KDF_NAME: &str = "scrypt";
const CIPHER_NAME: &str = "nacl/secretbox";
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// The scrypt parameters written: N = 2^16, r = 8, p = 1.
const WRITE_PARAMS: ScryptParams = ScryptParams {
    n: 1 << 16,
    r: 8,
    p: 1,
};

/// The only (log2 N, r, p) sets read: legacy 2^15, standard 2^16, OWASP 2^17.
const ACCEPTED_PARAMS: [(u8, u64, u64); 3] = [(15, 8, 1), (16, 8, 1), (17, 8, 1)];

#[derive(Serialize, Deserialize)]
struct KeyFile {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u64,
    p: u64,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

impl ScryptParams {
    /// log2(N) if (N, r, p) is one of the accepted sets.
    fn accepted_log_n(self) -> Result<u8, CryptoError> {
        ACCEPTED_PARAMS
            .iter()
            .find(|&&(log_n, r, p)| self.n == 1u64 << log_n && self.r == r && self.p == p)
            .map(|&(log_n, _, _)| log_n)
            .ok_or(CryptoError::UnsupportedKdfParams {
                n: self.n,
                r: self.r,
                p: self.p,
            })
    }
}

/// scrypt(password, salt) with parameters that were already bounded.
fn derive_key(
    password: &[u8],
    salt: &[u8],
    params: ScryptParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
    let log_n = params.accepted_log_n()?;
    let internal = |what: &str| CryptoError::Internal(format!("scrypt: {what}"));
    let r = u32::try_from(params.r).map_err(|_| internal("r out of range"))?;
    let p = u32::try_from(params.p).map_err(|_| internal("p out of range"))?;
    let scrypt_params =
        scrypt::Params::new(log_n, r, p).map_err(|_| internal("invalid parameters"))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    scrypt::scrypt(password, salt, &scrypt_params, &mut key[..])
        .map_err(|_| internal("invalid output length"))?;
    Ok(key)
}

fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out)
        .map_err(|_| CryptoError::Internal("random number generator failed".to_owned()))?;
    Ok(out)
}

/// Encrypts `key` with `password` into cosign's key file format (contract 2.1).
///
/// Returns the whole PEM text `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----` ... with 64-char
/// lines and a trailing newline; the body is the compact JSON
/// `{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"..."},"cipher":{"name":"nacl/secretbox","nonce":"..."},"ciphertext":"..."}`
/// in exactly Go's key order, with standard padded base64; the plaintext is the PKCS#8 DER.
/// An empty password is allowed.
pub fn encrypt_private_key(key: &PrivateKey, password: &[u8]) -> Result<String, CryptoError> {
    let plaintext = key.to_pkcs8_der()?;
    let salt: [u8; SALT_LEN] = random()?;
    let nonce: [u8; NONCE_LEN] = random()?;
    let box_key = derive_key(password, &salt, WRITE_PARAMS)?;
    let cipher = XSalsa20Poly1305::new_from_slice(&box_key[..])
        .map_err(|_| CryptoError::Internal("secretbox key length".to_owned()))?;

    // Room for the tag up front so the buffer never reallocates (which would leave an
    // unzeroized copy of the plaintext behind).
    let mut buffer = Zeroizing::new(Vec::with_capacity(plaintext.len() + TAG_LEN));
    buffer.extend_from_slice(&plaintext);
    cipher
        .encrypt_in_place(&Nonce::from(nonce), b"", &mut *buffer)
        .map_err(|_| CryptoError::Internal("secretbox encryption failed".to_owned()))?;

    let file = KeyFile {
        kdf: Kdf {
            name: KDF_NAME.to_owned(),
            params: WRITE_PARAMS,
            salt: STANDARD.encode(salt),
        },
        cipher: Cipher {
            name: CIPHER_NAME.to_owned(),
            nonce: STANDARD.encode(nonce),
        },
        ciphertext: STANDARD.encode(&*buffer),
    };
    let json = serde_json::to_vec(&file)
        .map_err(|e| CryptoError::Internal(format!("encoding the key file JSON: {e}")))?;
    Ok(pem::encode(LABEL, &json))
}

fn decode_b64(field: &str, text: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut out = Zeroizing::new(Vec::with_capacity(text.len() / 4 * 3 + 3));
    STANDARD
        .decode_vec(text, &mut out)
        .map_err(|e| CryptoError::MalformedKeyFile(format!("{field} is not valid base64: {e}")))?;
    Ok(out)
}

/// Decrypts a cosign key file (`ENCRYPTED SIGSTORE PRIVATE KEY` or the older
/// `ENCRYPTED COSIGN PRIVATE KEY`).
///
/// Refuses, before running scrypt, any KDF other than `scrypt` with (N, r, p) one of
/// (32768, 8, 1), (65536, 8, 1), (131072, 8, 1), any cipher other than `nacl/secretbox`, a
/// salt that is not 32 bytes and a nonce that is not 24 bytes. A wrong password gives
/// [`CryptoError::DecryptionFailed`].
pub fn decrypt_private_key(pem: &[u8], password: &[u8]) -> Result<PrivateKey, CryptoError> {
    let block = pem::decode_first(pem)?;
    if block.label != LABEL && block.label != LEGACY_LABEL {
        return Err(CryptoError::UnsupportedPemType(block.label.clone()));
    }
    let file: KeyFile = serde_json::from_slice(&block.der)
        .map_err(|e| CryptoError::MalformedKeyFile(format!("parsing the key file JSON: {e}")))?;

    // The same order of checks as go-securesystemslib, then the sizes, all before scrypt.
    if file.kdf.name != KDF_NAME {
        return Err(CryptoError::UnsupportedKdf(file.kdf.name));
    }
    if file.cipher.name != CIPHER_NAME {
        return Err(CryptoError::UnsupportedCipher(file.cipher.name));
    }
    file.kdf.params.accepted_log_n()?;
    let salt = decode_b64("salt", &file.kdf.salt)?;
    if salt.len() != SALT_LEN {
        return Err(CryptoError::MalformedKeyFile(format!(
            "salt is {} bytes (expected {SALT_LEN})",
            salt.len()
        )));
    }
    let nonce = <[u8; NONCE_LEN]>::try_from(&decode_b64("nonce", &file.cipher.nonce)?[..])
        .map_err(|_| CryptoError::MalformedKeyFile(format!("nonce is not {NONCE_LEN} bytes")))?;
    let mut buffer = decode_b64("ciphertext", &file.ciphertext)?;
    if buffer.len() < TAG_LEN {
        return Err(CryptoError::MalformedKeyFile(format!(
            "ciphertext is {} bytes, shorter than the {TAG_LEN}-byte tag",
            buffer.len()
        )));
    }

    let box_key = derive_key(password, &salt, file.kdf.params)?;
    let cipher = XSalsa20Poly1305::new_from_slice(&box_key[..])
        .map_err(|_| CryptoError::Internal("secretbox key length".to_owned()))?;
    cipher
        .decrypt_in_place(&Nonce::from(nonce), b"", &mut *buffer)
        .map_err(|_| CryptoError::DecryptionFailed)?;
    PrivateKey::from_pkcs8_der(&buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_parameter_sets() {
        for n in [32768, 65536, 131072] {
            assert!(ScryptParams { n, r: 8, p: 1 }.accepted_log_n().is_ok());
        }
        for (n, r, p) in [
            (1 << 20, 8, 1),
            (1 << 40, 8, 1),
            (65536, 16, 1),
            (65536, 8, 2),
            (65535, 8, 1),
            (0, 0, 0),
            (u64::MAX, u64::MAX, u64::MAX),
        ] {
            assert!(matches!(
                ScryptParams { n, r, p }.accepted_log_n(),
                Err(CryptoError::UnsupportedKdfParams { .. })
            ));
        }
    }

    #[test]
    fn json_layout_is_gos() {
        let file = KeyFile {
            kdf: Kdf {
                name: KDF_NAME.to_owned(),
                params: WRITE_PARAMS,
                salt: "c2FsdA==".to_owned(),
            },
            cipher: Cipher {
                name: CIPHER_NAME.to_owned(),
                nonce: "bm9uY2U=".to_owned(),
            },
            ciphertext: "Y3Q=".to_owned(),
        };
        assert_eq!(
            serde_json::to_string(&file).unwrap(),
            r#"{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"c2FsdA=="},"cipher":{"name":"nacl/secretbox","nonce":"bm9uY2U="},"ciphertext":"Y3Q="}"#
        );
    }
}
