//! The DER of RFC 3161: the `TimeStampReq` sent, and the parts of a `TimeStampResp` the client
//! checks itself (status, message imprint, nonce). The CMS signature and the signer's chain are
//! cosign-trust's (`TimestampToken`).

/// SHA-256 (2.16.840.1.101.3.4.2.1), content octets.
const SHA256_OID: [u8; 9] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
/// id-signedData (1.2.840.113549.1.7.2), content octets.
const SIGNED_DATA_OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4), content octets.
const TST_INFO_OID: [u8; 11] = [
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];

const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
const UTF8_STRING: u8 = 0x0c;
const GENERALIZED_TIME: u8 = 0x18;
const SEQUENCE: u8 = 0x30;
const BOOLEAN: u8 = 0x01;
const CTX0: u8 = 0xa0;

/// One DER element: tag, contents, and the whole encoding.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    value: &'a [u8],
}

/// Reads one element at the start of `input`; returns it and the rest.
fn next(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER")?;
    if tag & 0x1f == 0x1f {
        return Err("multi-byte DER tag".into());
    }
    let (&first, mut rest) = rest.split_first().ok_or("truncated DER length")?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err("bad DER length".into());
        }
        let (bytes, after) = rest.split_at(n);
        rest = after;
        let len = bytes.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b));
        if len < 0x80 || bytes[0] == 0 {
            return Err("non-minimal DER length".into());
        }
        len
    };
    if rest.len() < len {
        return Err("truncated DER value".into());
    }
    let (value, after) = rest.split_at(len);
    Ok((Tlv { tag, value }, after))
}

/// Exactly one element, no trailing bytes.
fn single(input: &[u8]) -> Result<Tlv<'_>, String> {
    let (tlv, rest) = next(input)?;
    if !rest.is_empty() {
        return Err("trailing data after the DER element".into());
    }
    Ok(tlv)
}

/// The elements inside a constructed element's contents.
fn elements(mut value: &[u8]) -> Result<Vec<Tlv<'_>>, String> {
    let mut out = Vec::new();
    while !value.is_empty() {
        if out.len() == 64 {
            return Err("too many DER elements".into());
        }
        let (tlv, rest) = next(value)?;
        out.push(tlv);
        value = rest;
    }
    Ok(out)
}

fn expect<'a>(t: Option<&Tlv<'a>>, tag: u8, what: &str) -> Result<Tlv<'a>, String> {
    match t {
        Some(t) if t.tag == tag => Ok(*t),
        Some(t) => Err(format!("{what}: unexpected tag 0x{:02x}", t.tag)),
        None => Err(format!("{what}: missing")),
    }
}

/// A DER element of `tag` around `value`.
fn encode(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(value);
    out
}

/// The contents octets of a non-negative DER INTEGER of the big-endian `magnitude`.
pub(crate) fn integer_contents(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = magnitude.iter().copied().skip_while(|&b| b == 0).collect();
    match trimmed.first() {
        None => vec![0],
        Some(&b) if b & 0x80 != 0 => [&[0u8][..], &trimmed].concat(),
        Some(_) => trimmed,
    }
}

/// `TimeStampReq { version 1, messageImprint { sha256 (NULL parameters, as Go), digest },
/// nonce, certReq }` (no policy, no extensions).
pub(crate) fn time_stamp_req(sha256_digest: &[u8], nonce: &[u8], cert_req: bool) -> Vec<u8> {
    let alg = encode(
        SEQUENCE,
        &[encode(OID, &SHA256_OID), encode(NULL, &[])].concat(),
    );
    let imprint = encode(
        SEQUENCE,
        &[alg, encode(OCTET_STRING, sha256_digest)].concat(),
    );
    let mut body = [encode(INTEGER, &[1]), imprint].concat();
    body.extend(encode(INTEGER, &integer_contents(nonce)));
    if cert_req {
        body.extend(encode(BOOLEAN, &[0xff]));
    }
    encode(SEQUENCE, &body)
}

/// What the client reads from a `TimeStampResp`.
pub(crate) struct Granted {
    /// Whether the message imprint is SHA-256 of exactly `digest` (checked by the caller).
    pub imprint_sha256: Option<Vec<u8>>,
    /// The nonce's INTEGER contents, if any.
    pub nonce: Option<Vec<u8>>,
}

/// RFC 3161 `PKIStatus` names.
fn status_name(code: &[u8]) -> String {
    match code {
        [0] => "granted".into(),
        [1] => "granted with modifications".into(),
        [2] => "rejection".into(),
        [3] => "waiting".into(),
        [4] => "revocation warning".into(),
        [5] => "revocation notification".into(),
        other => format!("unknown status 0x{}", hex::encode(other)),
    }
}

/// RFC 3161 `PKIFailureInfo` bit names.
const FAILURES: [(usize, &str); 8] = [
    (0, "unrecognized or unsupported algorithm"),
    (2, "transaction not permitted or supported"),
    (5, "the data submitted has the wrong format"),
    (14, "the TSA's time source is not available"),
    (15, "the requested TSA policy is not supported"),
    (16, "the requested extension is not supported"),
    (17, "the additional information requested is not available"),
    (25, "the request cannot be handled due to system failure"),
];

fn failure_info(bits: &[u8]) -> Vec<&'static str> {
    let Some((_, bytes)) = bits.split_first() else {
        return Vec::new();
    };
    FAILURES
        .iter()
        .filter(|(bit, _)| {
            bytes
                .get(bit / 8)
                .is_some_and(|b| b & (0x80 >> (bit % 8)) != 0)
        })
        .map(|(_, name)| *name)
        .collect()
}

/// Why a `TimeStampResp` was not granted.
pub(crate) enum StatusError {
    /// The status is not granted (0): its name, texts and failure reasons.
    Refused(String),
    /// The status cannot be read.
    Malformed(String),
}

/// Reads the `PKIStatusInfo` of a `TimeStampResp`: `Ok(true)` when granted, `Ok(false)` when
/// the input is not a response (a bare token). Any status but granted (0) is refused, as Go's
/// `timestamp.ParseResponse` does (so grantedWithMods too).
pub(crate) fn check_status(resp: &[u8]) -> Result<bool, StatusError> {
    let malformed = StatusError::Malformed;
    let outer = single(resp).map_err(malformed)?;
    let parts = elements(
        expect(Some(&outer), SEQUENCE, "TimeStampResp")
            .map_err(malformed)?
            .value,
    )
    .map_err(malformed)?;
    let Some(status) = parts.first().filter(|t| t.tag == SEQUENCE) else {
        return Ok(false);
    };
    let status = elements(status.value).map_err(malformed)?;
    let code = expect(status.first(), INTEGER, "PKIStatus").map_err(malformed)?;
    if code.value == [0] {
        return Ok(true);
    }
    let mut detail = format!(
        "the timestamp authority did not grant the request: {}",
        status_name(code.value)
    );
    for part in &status[1..] {
        match part.tag {
            SEQUENCE => {
                let texts: Vec<String> = elements(part.value)
                    .map_err(malformed)?
                    .iter()
                    .filter(|t| t.tag == UTF8_STRING)
                    .map(|t| String::from_utf8_lossy(t.value).into_owned())
                    .collect();
                if !texts.is_empty() {
                    detail.push_str(&format!(": {}", texts.join(", ")));
                }
            }
            BIT_STRING => {
                let failures = failure_info(part.value);
                if !failures.is_empty() {
                    detail.push_str(&format!(" ({})", failures.join(", ")));
                }
            }
            _ => {}
        }
    }
    Err(StatusError::Refused(detail))
}

/// Reads the message imprint and nonce of a `TimeStampResp` (whose status the caller checked
/// with [`check_status`]).
pub(crate) fn read_granted(resp: &[u8]) -> Result<Granted, String> {
    let outer = single(resp)?;
    let parts = elements(outer.value)?;
    let token = expect(parts.get(1), SEQUENCE, "timeStampToken")?;
    if parts.len() > 2 {
        return Err("trailing data in the TimeStampResp".into());
    }
    let token = elements(token.value)?;
    if expect(token.first(), OID, "content type")?.value != SIGNED_DATA_OID {
        return Err("the token is not CMS SignedData".into());
    }
    let signed_data = single(expect(token.get(1), CTX0, "content")?.value)?;
    let signed_data = elements(expect(Some(&signed_data), SEQUENCE, "SignedData")?.value)?;
    let encap = elements(expect(signed_data.get(2), SEQUENCE, "encapContentInfo")?.value)?;
    if expect(encap.first(), OID, "eContentType")?.value != TST_INFO_OID {
        return Err("the signed content is not a TSTInfo".into());
    }
    let econtent = single(expect(encap.get(1), CTX0, "eContent")?.value)?;
    let tst_info = single(expect(Some(&econtent), OCTET_STRING, "eContent")?.value)?;
    let fields = elements(expect(Some(&tst_info), SEQUENCE, "TSTInfo")?.value)?;
    let imprint = elements(expect(fields.get(2), SEQUENCE, "messageImprint")?.value)?;
    let alg = elements(expect(imprint.first(), SEQUENCE, "hashAlgorithm")?.value)?;
    let alg_oid = expect(alg.first(), OID, "hashAlgorithm")?;
    let hashed = expect(imprint.get(1), OCTET_STRING, "hashedMessage")?;
    expect(fields.get(4), GENERALIZED_TIME, "genTime")?;
    // After genTime: accuracy (SEQUENCE), ordering (BOOLEAN), nonce (INTEGER), tsa [0],
    // extensions [1]; the nonce is the only INTEGER.
    let nonce = fields
        .iter()
        .skip(5)
        .find(|t| t.tag == INTEGER)
        .map(|t| t.value.to_vec());
    Ok(Granted {
        imprint_sha256: (alg_oid.value == SHA256_OID).then(|| hashed.value.to_vec()),
        nonce,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_encoding() {
        let req = time_stamp_req(&[0xab; 32], &[0x00, 0x80, 0x01], true);
        // SEQUENCE { INTEGER 1, SEQUENCE { SEQUENCE { OID sha256, NULL }, OCTET STRING(32) },
        //            INTEGER 0x008001, BOOLEAN TRUE }
        let mut want = vec![
            0x30, 0x3e, 0x02, 0x01, 0x01, 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09,
        ];
        want.extend_from_slice(&SHA256_OID);
        want.extend_from_slice(&[0x05, 0x00, 0x04, 0x20]);
        want.extend_from_slice(&[0xab; 32]);
        want.extend_from_slice(&[0x02, 0x03, 0x00, 0x80, 0x01, 0x01, 0x01, 0xff]);
        assert_eq!(req, want);
        assert_eq!(integer_contents(&[0, 0, 0x7f]), [0x7f]);
        assert_eq!(integer_contents(&[]), [0]);
        assert_eq!(encode(0x04, &[0u8; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn refused_statuses_are_worded() {
        // SEQUENCE { SEQUENCE { INTEGER 2, SEQUENCE { UTF8String "no" }, BIT STRING bit 0 } }
        let resp = [
            0x30, 0x0f, 0x30, 0x0d, 0x02, 0x01, 0x02, 0x30, 0x04, 0x0c, 0x02, b'n', b'o', 0x03,
            0x02, 0x07, 0x80,
        ];
        let e = match check_status(&resp[..]) {
            Err(StatusError::Refused(e)) => e,
            _ => String::new(),
        };
        assert!(e.contains("rejection: no"), "{e}");
        assert!(e.contains("unrecognized or unsupported algorithm"), "{e}");
        assert!(read_granted(b"\x30\x00").is_err());
        assert!(matches!(check_status(b"\x30\x03\x06\x01\x00"), Ok(false)));
        assert!(matches!(
            check_status(b"junk"),
            Err(StatusError::Malformed(_))
        ));
        assert!(read_granted(b"junk").is_err());
    }
}
