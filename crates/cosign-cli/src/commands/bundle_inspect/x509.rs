//! The certificate fields `bundle inspect` prints, read as Go's `crypto/x509.ParseCertificate`
//! (Go 1.26) reads them: the same acceptance rules and error texts, names printed as
//! `pkix.Name.String()`, signature algorithms named as `x509.SignatureAlgorithm.String()`.
//! Extensions Go only stores (name constraints, CRL distribution points, policies) are not
//! checked here.

use super::der::{
    self, BMP_STRING, BitString, Der, GENERALIZED_TIME, GoTime, IA5_STRING, NUMERIC_STRING,
    OCTET_STRING, Oid, PRINTABLE_STRING, SEQUENCE, SET, T61_STRING, UTC_TIME, UTF8_STRING,
};

/// A certificate as far as `bundle inspect` reads it.
#[derive(Debug)]
pub struct GoCertificate {
    pub signature_algorithm: &'static str,
    pub subject: Name,
    pub issuer: Name,
    pub not_before: GoTime,
    pub not_after: GoTime,
    pub public_key: PublicKey,
    pub email_addresses: Vec<String>,
    pub uris: Vec<String>,
    /// Go's `KeyUsage` bits (bit i set when usage bit i is).
    pub key_usage: u16,
    pub ext_key_usage: Vec<&'static str>,
    pub unknown_ext_key_usage: Vec<String>,
    pub subject_key_id: Vec<u8>,
    pub authority_key_id: Vec<u8>,
    pub extensions: Vec<Extension>,
    pub signature_len: usize,
}

/// One extension as read.
#[derive(Debug)]
pub struct Extension {
    pub id: Oid,
    pub critical: bool,
    pub value: Vec<u8>,
}

/// The subject public key, by what `bundle inspect` prints of it.
#[derive(Debug)]
pub enum PublicKey {
    /// An ECDSA key: the curve's name, and the uncompressed point (None for P-224, which Go's
    /// `crypto/ecdh` does not support).
    Ecdsa {
        curve: &'static str,
        point: Option<Vec<u8>>,
    },
    Ed25519(Vec<u8>),
    /// An RSA key's modulus size in bits.
    Rsa(usize),
    /// DSA, or an algorithm Go does not parse.
    Other,
}

/// A distinguished name: its attributes in order.
#[derive(Debug, Default)]
pub struct Name {
    attributes: Vec<(Oid, String)>,
}

const ATTR: [u32; 3] = [2, 5, 4];

fn attr(n: u32) -> Oid {
    Oid(vec![2, 5, 4, n])
}

impl Name {
    fn values(&self, n: u32) -> impl Iterator<Item = &str> {
        let oid = attr(n);
        self.attributes
            .iter()
            .filter(move |(o, _)| *o == oid)
            .map(|(_, v)| v.as_str())
    }

    /// Go's `Name.CommonName`: the last CN.
    pub fn common_name(&self) -> &str {
        self.values(3).last().unwrap_or_default()
    }

    fn serial_number(&self) -> &str {
        self.values(5).last().unwrap_or_default()
    }

    /// The first O.
    pub fn organization(&self) -> Option<&str> {
        self.values(10).next()
    }

    /// The first C.
    pub fn country(&self) -> Option<&str> {
        self.values(6).next()
    }

    /// Go's `pkix.Name.String()`: other attributes first (so printed last), then C, ST, L,
    /// STREET, POSTALCODE, O, OU (each type's values in one multi-valued RDN), CN, SERIALNUMBER;
    /// printed in reverse, RFC 2253 style.
    pub fn go_string(&self) -> String {
        let mut rdns: Vec<Vec<(Oid, &str)>> = Vec::new();
        for (oid, value) in &self.attributes {
            let standard = oid.0.len() == 4
                && oid.0.starts_with(&ATTR)
                && matches!(oid.0[3], 3 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 17);
            if !standard {
                rdns.push(vec![(oid.clone(), value.as_str())]);
            }
        }
        for n in [6, 8, 7, 9, 17, 10, 11] {
            let values: Vec<(Oid, &str)> = self.values(n).map(|v| (attr(n), v)).collect();
            if !values.is_empty() {
                rdns.push(values);
            }
        }
        for (n, value) in [(3, self.common_name()), (5, self.serial_number())] {
            if !value.is_empty() {
                rdns.push(vec![(attr(n), value)]);
            }
        }
        let mut out = String::new();
        for (i, rdn) in rdns.iter().rev().enumerate() {
            if i > 0 {
                out.push(',');
            }
            for (j, (oid, value)) in rdn.iter().enumerate() {
                if j > 0 {
                    out.push('+');
                }
                match type_name(oid) {
                    Some(name) => {
                        out.push_str(name);
                        out.push('=');
                        out.push_str(&escape(value));
                    }
                    None => {
                        out.push_str(&format!("{oid}=#{}", hex::encode(marshal_string(value))));
                    }
                }
            }
        }
        out
    }
}

fn type_name(oid: &Oid) -> Option<&'static str> {
    if oid.0.len() != 4 || !oid.0.starts_with(&ATTR) {
        return None;
    }
    Some(match oid.0[3] {
        6 => "C",
        10 => "O",
        11 => "OU",
        3 => "CN",
        5 => "SERIALNUMBER",
        7 => "L",
        8 => "ST",
        9 => "STREET",
        17 => "POSTALCODE",
        _ => return None,
    })
}

/// `RDNSequence.String()`'s escaping of a value.
fn escape(value: &str) -> String {
    let mut out = String::new();
    let last = value.len().saturating_sub(1);
    for (k, c) in value.char_indices() {
        let needs = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => k == 0 || k == last,
            '#' => k == 0,
            _ => false,
        };
        if needs {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Go's `asn1.Marshal` of a string: a PrintableString when every character allows it (without
/// `*` and `&`), else a UTF8String.
fn marshal_string(value: &str) -> Vec<u8> {
    let printable = value.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || (b'\''..=b')').contains(&b)
            || (b'+'..=b'/').contains(&b)
            || matches!(b, b' ' | b':' | b'=' | b'?')
    });
    let tag = if printable {
        PRINTABLE_STRING
    } else {
        UTF8_STRING
    };
    let body = value.as_bytes();
    let mut out = vec![tag];
    if body.len() < 128 {
        out.push(body.len() as u8);
    } else {
        let len = body.len().to_be_bytes();
        let skip = len.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (len.len() - skip) as u8);
        out.extend_from_slice(len.get(skip..).unwrap_or_default());
    }
    out.extend_from_slice(body);
    out
}

/// The characters `crypto/x509` accepts in a PrintableString (`*` and `&` included).
fn x509_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || (b'\''..=b')').contains(&b)
        || (b'+'..=b'/').contains(&b)
        || matches!(b, b' ' | b':' | b'=' | b'?' | b'*' | b'&')
}

/// `parseASN1String`.
fn asn1_string(tag: u8, value: &[u8]) -> Result<String, String> {
    match tag {
        T61_STRING => Ok(value.iter().map(|&b| char::from(b)).collect()),
        PRINTABLE_STRING => {
            if value.iter().all(|&b| x509_printable(b)) {
                Ok(String::from_utf8_lossy(value).into_owned())
            } else {
                Err("invalid PrintableString".into())
            }
        }
        UTF8_STRING => std::str::from_utf8(value)
            .map(str::to_owned)
            .map_err(|_| "invalid UTF-8 string".into()),
        BMP_STRING => {
            if value.len() % 2 != 0 {
                return Err("invalid BMPString".into());
            }
            let value = match value {
                [rest @ .., 0, 0] => rest,
                v => v,
            };
            let mut units = Vec::new();
            for pair in value.chunks(2) {
                let point = match pair {
                    [a, b] => u16::from_be_bytes([*a, *b]),
                    _ => return Err("invalid BMPString".into()),
                };
                if point == 0xfffe
                    || point == 0xffff
                    || (0xfdd0..=0xfdef).contains(&point)
                    || (0xd800..=0xdfff).contains(&point)
                {
                    return Err("invalid BMPString".into());
                }
                units.push(point);
            }
            Ok(String::from_utf16_lossy(&units))
        }
        IA5_STRING => {
            if value.is_ascii() {
                Ok(String::from_utf8_lossy(value).into_owned())
            } else {
                Err("invalid IA5String".into())
            }
        }
        NUMERIC_STRING => {
            if value.iter().all(|&b| b.is_ascii_digit() || b == b' ') {
                Ok(String::from_utf8_lossy(value).into_owned())
            } else {
                Err("invalid NumericString".into())
            }
        }
        other => Err(format!("unsupported string type: {other}")),
    }
}

/// `parseName` (the whole encoding, SEQUENCE included).
fn parse_name(raw: &[u8]) -> Result<Name, String> {
    let mut outer = Der(raw);
    let mut seq = Der(outer.read(SEQUENCE).ok_or("x509: invalid RDNSequence")?);
    let mut name = Name::default();
    while !seq.is_empty() {
        let mut set = Der(seq.read(SET).ok_or("x509: invalid RDNSequence")?);
        while !set.is_empty() {
            let mut atv = Der(set
                .read(SEQUENCE)
                .ok_or("x509: invalid RDNSequence: invalid attribute")?);
            let oid = atv
                .read_oid()
                .ok_or("x509: invalid RDNSequence: invalid attribute type")?;
            let (tag, value, _) = atv
                .read_any()
                .ok_or("x509: invalid RDNSequence: invalid attribute value")?;
            let value = asn1_string(tag, value)
                .map_err(|e| format!("x509: invalid RDNSequence: invalid attribute value: {e}"))?;
            name.attributes.push((oid, value));
        }
    }
    Ok(name)
}

/// An AlgorithmIdentifier's OID and the whole encoding of its parameters (empty when absent).
fn parse_ai(contents: &[u8]) -> Result<(Oid, &[u8]), String> {
    let mut d = Der(contents);
    let oid = d.read_oid().ok_or("x509: malformed OID")?;
    if d.is_empty() {
        return Ok((oid, &[]));
    }
    let (_, _, params) = d.read_any().ok_or("x509: malformed parameters")?;
    Ok((oid, params))
}

const RSA_PSS: [u32; 7] = [1, 2, 840, 113549, 1, 1, 10];
const NULL: [u8; 2] = [0x05, 0x00];

/// `getSignatureAlgorithmFromAI` and `SignatureAlgorithm.String()`; "0" when unknown.
fn signature_algorithm(oid: &Oid, params: &[u8]) -> &'static str {
    const TABLE: &[(&[u32], &str)] = &[
        (&[1, 2, 840, 113549, 1, 1, 4], "MD5-RSA"),
        (&[1, 2, 840, 113549, 1, 1, 5], "SHA1-RSA"),
        (&[1, 3, 14, 3, 2, 29], "SHA1-RSA"),
        (&[1, 2, 840, 113549, 1, 1, 11], "SHA256-RSA"),
        (&[1, 2, 840, 113549, 1, 1, 12], "SHA384-RSA"),
        (&[1, 2, 840, 113549, 1, 1, 13], "SHA512-RSA"),
        (&[1, 2, 840, 10040, 4, 3], "DSA-SHA1"),
        (&[2, 16, 840, 1, 101, 3, 4, 3, 2], "DSA-SHA256"),
        (&[1, 2, 840, 10045, 4, 1], "ECDSA-SHA1"),
        (&[1, 2, 840, 10045, 4, 3, 2], "ECDSA-SHA256"),
        (&[1, 2, 840, 10045, 4, 3, 3], "ECDSA-SHA384"),
        (&[1, 2, 840, 10045, 4, 3, 4], "ECDSA-SHA512"),
        (&[1, 3, 101, 112], "Ed25519"),
    ];
    if oid.is(&[1, 3, 101, 112]) && !params.is_empty() {
        return "0";
    }
    if oid.is(&RSA_PSS) {
        return pss_algorithm(params).unwrap_or("0");
    }
    TABLE
        .iter()
        .find(|(arcs, _)| oid.is(arcs))
        .map_or("0", |(_, name)| name)
}

/// RSA-PSS: only MGF1 with the message hash, salt of the hash length and the default trailer.
fn pss_algorithm(params: &[u8]) -> Option<&'static str> {
    // Go's asn1.Unmarshal of pssParameters: [0] hash, [1] MGF, [2] salt length, optional [3]
    // trailer field (default 1); each EXPLICIT.
    let mut outer = Der(params);
    let mut seq = Der(outer.read(SEQUENCE)?);
    let hash_ai = Der(seq.read(0xa0)?).read(SEQUENCE)?;
    let mgf_ai = Der(seq.read(0xa1)?).read(SEQUENCE)?;
    let salt = Der(seq.read(0xa2)?).read_i64()?;
    let trailer = match seq.read_optional(0xa3)? {
        Some(t) => Der(t).read_i64()?,
        None => 1,
    };
    let (hash, hash_params) = parse_ai(hash_ai).ok()?;
    let (mgf, mgf_params) = parse_ai(mgf_ai).ok()?;
    let mgf_hash_ai = Der(mgf_params).read(SEQUENCE)?;
    let (mgf_hash, mgf_hash_params) = parse_ai(mgf_hash_ai).ok()?;
    let null_or_absent = |p: &[u8]| p.is_empty() || p == NULL;
    if !null_or_absent(hash_params)
        || !mgf.is(&[1, 2, 840, 113549, 1, 1, 8])
        || mgf_hash != hash
        || !null_or_absent(mgf_hash_params)
        || trailer != 1
    {
        return None;
    }
    match (hash.0.as_slice(), salt) {
        ([2, 16, 840, 1, 101, 3, 4, 2, 1], 32) => Some("SHA256-RSAPSS"),
        ([2, 16, 840, 1, 101, 3, 4, 2, 2], 48) => Some("SHA384-RSAPSS"),
        ([2, 16, 840, 1, 101, 3, 4, 2, 3], 64) => Some("SHA512-RSAPSS"),
        _ => None,
    }
}

fn parse_time(d: &mut Der<'_>) -> Result<GoTime, String> {
    if d.peek_tag(UTC_TIME) {
        d.read(UTC_TIME)
            .and_then(der::utc_time)
            .ok_or_else(|| "x509: malformed UTCTime".to_owned())
    } else if d.peek_tag(GENERALIZED_TIME) {
        d.read(GENERALIZED_TIME)
            .and_then(der::generalized_time)
            .ok_or_else(|| "x509: malformed GeneralizedTime".to_owned())
    } else {
        Err("x509: unsupported time format".into())
    }
}

/// `parsePublicKey` for the algorithms Go knows; the whole SPKI is used to check EC points.
fn parse_public_key(
    alg: &Oid,
    params: &[u8],
    key: &BitString<'_>,
    spki: &[u8],
) -> Result<PublicKey, String> {
    let data = key.right_align();
    if alg.is(&[1, 2, 840, 113549, 1, 1, 1]) {
        if params != NULL {
            return Err("x509: RSA key missing NULL parameters".into());
        }
        let mut outer = Der(&data);
        let mut seq = Der(outer.read(SEQUENCE).ok_or("x509: invalid RSA public key")?);
        let n = seq.read_integer().ok_or("x509: invalid RSA modulus")?;
        let e = seq.read_i64().ok_or("x509: invalid RSA public exponent")?;
        if n.first().is_none_or(|b| b & 0x80 != 0) || n.iter().all(|&b| b == 0) {
            return Err("x509: RSA modulus is not a positive number".into());
        }
        if e <= 0 {
            return Err("x509: RSA public exponent is not a positive number".into());
        }
        return Ok(PublicKey::Rsa(der::bit_len(n)));
    }
    if alg.is(&[1, 2, 840, 10045, 2, 1]) {
        let curve_oid = Der(params)
            .read_oid()
            .ok_or("x509: invalid ECDSA parameters")?;
        let (curve, size, fips) = match curve_oid.0.as_slice() {
            [1, 3, 132, 0, 33] => ("P-224", 28, "P224"),
            [1, 2, 840, 10045, 3, 1, 7] => ("P-256", 32, "P256"),
            [1, 3, 132, 0, 34] => ("P-384", 48, "P384"),
            [1, 3, 132, 0, 35] => ("P-521", 66, "P521"),
            _ => return Err("x509: unsupported elliptic curve".into()),
        };
        if data.first() != Some(&4) {
            return Err("ecdsa: invalid uncompressed public key".into());
        }
        if data.len() != 1 + 2 * size {
            return Err(format!("invalid {fips} point encoding"));
        }
        if curve == "P-224" {
            return Ok(PublicKey::Ecdsa { curve, point: None });
        }
        cosign_crypto::PublicKey::from_spki_der(spki)
            .map_err(|_| format!("{fips} point not on curve"))?;
        return Ok(PublicKey::Ecdsa {
            curve,
            point: Some(data),
        });
    }
    if alg.is(&[1, 3, 101, 112]) {
        if !params.is_empty() {
            return Err("x509: Ed25519 key encoded with illegal parameters".into());
        }
        if data.len() != 32 {
            return Err("x509: wrong Ed25519 public key size".into());
        }
        return Ok(PublicKey::Ed25519(data));
    }
    if alg.is(&[1, 2, 840, 10040, 4, 1]) {
        let y = Der(&data)
            .read_integer()
            .ok_or("x509: invalid DSA public key")?;
        let bad_params = || "x509: invalid DSA parameters".to_owned();
        let mut outer = Der(params);
        let mut seq = Der(outer.read(SEQUENCE).ok_or_else(bad_params)?);
        let mut parts = vec![y];
        for _ in 0..3 {
            parts.push(seq.read_integer().ok_or_else(bad_params)?);
        }
        if parts
            .iter()
            .any(|p| p.first().is_none_or(|b| b & 0x80 != 0) || p.iter().all(|&b| b == 0))
        {
            return Err("x509: zero or negative DSA parameter".into());
        }
        return Ok(PublicKey::Other);
    }
    Ok(PublicKey::Other)
}

/// `parseExtension`.
fn parse_extension(contents: &[u8]) -> Result<Extension, String> {
    let mut d = Der(contents);
    let id = d.read_oid().ok_or("x509: malformed extension OID field")?;
    let mut critical = false;
    if d.peek_tag(der::BOOLEAN) {
        critical = d
            .read_boolean()
            .ok_or("x509: malformed extension critical field")?;
    }
    let value = d
        .read(OCTET_STRING)
        .ok_or("x509: malformed extension value field")?
        .to_vec();
    Ok(Extension {
        id,
        critical,
        value,
    })
}

/// What `bundle inspect` names of Go's `ExtKeyUsage` values; the Microsoft and Netscape usages
/// Go knows are left out (it prints neither a name nor the OID for them).
fn ext_key_usage(oid: &Oid) -> Option<Option<&'static str>> {
    let name = match oid.0.as_slice() {
        [2, 5, 29, 37, 0] => "Any",
        [1, 3, 6, 1, 5, 5, 7, 3, n] => match n {
            1 => "Server Auth",
            2 => "Client Auth",
            3 => "Code Signing",
            4 => "Email Protection",
            5 => "IPSEC End System",
            6 => "IPSEC Tunnel",
            7 => "IPSEC User",
            8 => "Time Stamping",
            9 => "OCSP Signing",
            _ => return None,
        },
        [1, 3, 6, 1, 4, 1, 311, 10, 3, 3]
        | [2, 16, 840, 1, 113730, 4, 1]
        | [1, 3, 6, 1, 4, 1, 311, 2, 1, 22]
        | [1, 3, 6, 1, 4, 1, 311, 61, 1, 1] => return Some(None),
        _ => return None,
    };
    Some(Some(name))
}

/// A SAN URI as `crypto/x509` takes it: parsed by Go's `net/url` and printed back as
/// `URL.String()` gives it; its host must be a valid domain.
fn parse_uri(text: &str) -> Result<String, String> {
    let quoted = super::json::go_quote_bytes(text.as_bytes());
    let url =
        super::url::parse(text).map_err(|e| format!("x509: cannot parse URI {quoted}: {e}"))?;
    if !super::url::domain_name_valid(&url.host) {
        return Err(format!("x509: cannot parse URI {quoted}: invalid domain"));
    }
    Ok(url.string())
}

impl GoCertificate {
    /// Parses a DER certificate as Go's `x509.ParseCertificate` does; the error is Go's text.
    pub fn parse(der: &[u8]) -> Result<Self, String> {
        let malformed = || "x509: malformed certificate".to_owned();
        let mut input = Der(der);
        let whole = input.read_element(SEQUENCE).ok_or_else(malformed)?;
        let mut cert = Der(Der(whole).read(SEQUENCE).ok_or_else(malformed)?);
        let tbs_whole = cert
            .read_element(SEQUENCE)
            .ok_or("x509: malformed tbs certificate")?;
        let mut tbs = Der(Der(tbs_whole)
            .read(SEQUENCE)
            .ok_or("x509: malformed tbs certificate")?);

        let version = match tbs.read_optional(0xa0).ok_or("x509: malformed version")? {
            Some(v) => {
                let mut v = Der(v);
                let n = v.read_i64().ok_or("x509: malformed version")?;
                if !v.is_empty() {
                    return Err("x509: malformed version".into());
                }
                n
            }
            None => 0,
        };
        if version < 0 {
            return Err("x509: malformed version".into());
        }
        let version = version + 1;
        if version > 3 {
            return Err("x509: invalid version".into());
        }
        let serial = tbs.read_integer().ok_or("x509: malformed serial number")?;
        if serial.first().is_some_and(|b| b & 0x80 != 0) {
            return Err("x509: negative serial number".into());
        }
        let sig_ai = tbs
            .read(SEQUENCE)
            .ok_or("x509: malformed signature algorithm identifier")?;
        let outer_ai = cert
            .read(SEQUENCE)
            .ok_or("x509: malformed algorithm identifier")?;
        if outer_ai != sig_ai {
            return Err("x509: inner and outer signature algorithm identifiers don't match".into());
        }
        let (sig_oid, sig_params) = parse_ai(sig_ai)?;
        let signature_algorithm = signature_algorithm(&sig_oid, sig_params);

        let issuer = tbs.read_element(SEQUENCE).ok_or("x509: malformed issuer")?;
        let issuer = parse_name(issuer)?;
        let mut validity = Der(tbs.read(SEQUENCE).ok_or("x509: malformed validity")?);
        let not_before = parse_time(&mut validity)?;
        let not_after = parse_time(&mut validity)?;
        let subject = tbs.read_element(SEQUENCE).ok_or("x509: malformed issuer")?;
        let subject = parse_name(subject)?;

        let spki_whole = tbs.read_element(SEQUENCE).ok_or("x509: malformed spki")?;
        let mut spki = Der(Der(spki_whole)
            .read(SEQUENCE)
            .ok_or("x509: malformed spki")?);
        let pk_ai = spki
            .read(SEQUENCE)
            .ok_or("x509: malformed public key algorithm identifier")?;
        let (pk_oid, pk_params) = parse_ai(pk_ai)?;
        let key = spki
            .read_bit_string()
            .ok_or("x509: malformed subjectPublicKey")?;
        let public_key = parse_public_key(&pk_oid, pk_params, &key, spki_whole)?;

        let mut out = Self {
            signature_algorithm,
            subject,
            issuer,
            not_before,
            not_after,
            public_key,
            email_addresses: Vec::new(),
            uris: Vec::new(),
            key_usage: 0,
            ext_key_usage: Vec::new(),
            unknown_ext_key_usage: Vec::new(),
            subject_key_id: Vec::new(),
            authority_key_id: Vec::new(),
            extensions: Vec::new(),
            signature_len: 0,
        };
        if version > 1 {
            for (tag, what) in [(0x81, "issuerUniqueID"), (0x82, "subjectUniqueID")] {
                tbs.read_optional(tag)
                    .ok_or_else(|| format!("x509: malformed {what}"))?;
            }
            if version == 3 {
                if let Some(exts) = tbs
                    .read_optional(0xa3)
                    .ok_or("x509: malformed extensions")?
                {
                    let mut outer = Der(exts);
                    let mut list = Der(outer.read(SEQUENCE).ok_or("x509: malformed extensions")?);
                    while !list.is_empty() {
                        let ext = list.read(SEQUENCE).ok_or("x509: malformed extension")?;
                        let ext = parse_extension(ext)?;
                        if out.extensions.iter().any(|e| e.id == ext.id) {
                            return Err(format!(
                                "x509: certificate contains duplicate extension with OID {:?}",
                                ext.id.to_string()
                            ));
                        }
                        out.extensions.push(ext);
                    }
                    out.process_extensions()?;
                }
            }
        }
        let signature = cert.read_bit_string().ok_or("x509: malformed signature")?;
        out.signature_len = signature.bytes.len();
        if !input.is_empty() {
            return Err("x509: trailing data".into());
        }
        Ok(out)
    }

    /// `processExtensions`, for the extensions whose errors fail Go's parse and whose values
    /// `bundle inspect` prints.
    fn process_extensions(&mut self) -> Result<(), String> {
        let mut emails = Vec::new();
        let mut uris = Vec::new();
        let (mut ku, mut eku, mut unknown_eku) = (0u16, Vec::new(), Vec::new());
        let (mut ski, mut aki) = (Vec::new(), Vec::new());
        for e in &self.extensions {
            let value = e.value.as_slice();
            match e.id.0.as_slice() {
                [2, 5, 29, 15] => {
                    let bits = Der(value)
                        .read_bit_string()
                        .ok_or("x509: invalid key usage")?;
                    ku = (0..9)
                        .filter(|&i| bits.at(i))
                        .fold(0, |acc, i| acc | (1 << i));
                }
                [2, 5, 29, 19] => basic_constraints(value)?,
                [2, 5, 29, 17] => san(value, &mut emails, &mut uris)?,
                [2, 5, 29, 35] => {
                    if e.critical {
                        return Err(
                            "x509: authority key identifier incorrectly marked critical".into()
                        );
                    }
                    let mut outer = Der(value);
                    let mut seq = Der(outer
                        .read(SEQUENCE)
                        .ok_or("x509: invalid authority key identifier")?);
                    aki = match seq
                        .read_optional(0x80)
                        .ok_or("x509: invalid authority key identifier")?
                    {
                        Some(id) => id.to_vec(),
                        None => Vec::new(),
                    };
                }
                [2, 5, 29, 37] => {
                    let mut outer = Der(value);
                    let mut seq = Der(outer
                        .read(SEQUENCE)
                        .ok_or("x509: invalid extended key usages")?);
                    while !seq.is_empty() {
                        let oid = seq.read_oid().ok_or("x509: invalid extended key usages")?;
                        match ext_key_usage(&oid) {
                            Some(Some(name)) => eku.push(name),
                            Some(None) => {}
                            None => unknown_eku.push(oid.to_string()),
                        }
                    }
                }
                [2, 5, 29, 14] => {
                    if e.critical {
                        return Err(
                            "x509: subject key identifier incorrectly marked critical".into()
                        );
                    }
                    ski = Der(value)
                        .read(OCTET_STRING)
                        .ok_or("x509: invalid subject key identifier")?
                        .to_vec();
                }
                [1, 3, 6, 1, 5, 5, 7, 1, 1] => authority_info_access(value, e.critical)?,
                _ => {}
            }
        }
        self.email_addresses = emails;
        self.uris = uris;
        self.key_usage = ku;
        self.ext_key_usage = eku;
        self.unknown_ext_key_usage = unknown_eku;
        self.subject_key_id = ski;
        self.authority_key_id = aki;
        Ok(())
    }
}

fn basic_constraints(value: &[u8]) -> Result<(), String> {
    let bad = || "x509: invalid basic constraints".to_owned();
    let mut outer = Der(value);
    let mut seq = Der(outer.read(SEQUENCE).ok_or_else(bad)?);
    if seq.peek_tag(der::BOOLEAN) {
        seq.read_boolean().ok_or_else(bad)?;
    }
    if seq.peek_tag(der::INTEGER) {
        let n = seq.read_integer().ok_or_else(bad)?;
        // An unsigned int no larger than Go's MaxInt.
        if n.first().is_some_and(|b| b & 0x80 != 0)
            || n.iter().skip_while(|&&b| b == 0).count() > 8
            || (n.iter().skip_while(|&&b| b == 0).count() == 8
                && n.iter().find(|&&b| b != 0).is_some_and(|b| b & 0x80 != 0))
        {
            return Err(bad());
        }
    }
    Ok(())
}

fn san(value: &[u8], emails: &mut Vec<String>, uris: &mut Vec<String>) -> Result<(), String> {
    let mut outer = Der(value);
    let mut seq = Der(outer
        .read(SEQUENCE)
        .ok_or("x509: invalid subject alternative names")?);
    while !seq.is_empty() {
        let (tag, data, _) = seq
            .read_any()
            .ok_or("x509: invalid subject alternative name")?;
        match tag ^ 0x80 {
            1 => {
                if !data.is_ascii() {
                    return Err("x509: SAN rfc822Name is malformed".into());
                }
                emails.push(String::from_utf8_lossy(data).into_owned());
            }
            2 if !data.is_ascii() => return Err("x509: SAN dNSName is malformed".into()),
            6 => {
                if !data.is_ascii() {
                    return Err("x509: SAN uniformResourceIdentifier is malformed".into());
                }
                uris.push(parse_uri(&String::from_utf8_lossy(data))?);
            }
            7 if data.len() != 4 && data.len() != 16 => {
                return Err(format!(
                    "x509: cannot parse IP address of length {}",
                    data.len()
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn authority_info_access(value: &[u8], critical: bool) -> Result<(), String> {
    if critical {
        return Err("x509: authority info access incorrectly marked critical".into());
    }
    let bad = || "x509: invalid authority info access".to_owned();
    let mut outer = Der(value);
    let mut seq = Der(outer.read(SEQUENCE).ok_or_else(bad)?);
    while !seq.is_empty() {
        let mut aia = Der(seq.read(SEQUENCE).ok_or_else(bad)?);
        aia.read_oid().ok_or_else(bad)?;
        if aia.peek_tag(0x86) {
            aia.read(0x86).ok_or_else(bad)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(attrs: &[(&[u32], &str)]) -> Name {
        Name {
            attributes: attrs
                .iter()
                .map(|(o, v)| (Oid(o.to_vec()), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn names_print_as_go_does() {
        let n = name(&[
            (&[2, 5, 4, 6], "US"),
            (&[2, 5, 4, 10], "sigstore.dev"),
            (&[2, 5, 4, 3], "sigstore-intermediate"),
        ]);
        assert_eq!(
            n.go_string(),
            "CN=sigstore-intermediate,O=sigstore.dev,C=US"
        );
        let n = name(&[
            (&[2, 5, 4, 3], "first"),
            (&[1, 2, 840, 113549, 1, 9, 1], "a@b.c"),
            (&[2, 5, 4, 10], "o1"),
            (&[2, 5, 4, 10], "o2"),
            (&[2, 5, 4, 3], " last,"),
            (&[2, 5, 4, 5], "123"),
        ]);
        assert_eq!(
            n.go_string(),
            "SERIALNUMBER=123,CN=\\ last\\,,O=o1+O=o2,1.2.840.113549.1.9.1=#0c056140622e63"
        );
        assert_eq!(n.common_name(), " last,");
        assert_eq!(n.organization(), Some("o1"));
        assert_eq!(Name::default().go_string(), "");
    }

    #[test]
    fn uris_as_go_prints_them() {
        assert_eq!(parse_uri("HTTPS://x/y#").unwrap(), "https://x/y");
        assert_eq!(
            parse_uri("a\nb").unwrap_err(),
            "x509: cannot parse URI \"a\\nb\": parse \"a\\nb\": net/url: invalid control character in URL"
        );
        assert_eq!(
            parse_uri("https://a..b/").unwrap_err(),
            "x509: cannot parse URI \"https://a..b/\": invalid domain"
        );
    }
}
