//! Bundle parsing and writing tests, with bundles written by hand after what cosign and
//! sigstore-go emit.

use super::*;
use crate::dsse::EnvelopeSignature;

const BODY_B64: &str = "eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJraW5kIjoiaGFzaGVkcmVrb3JkIiwic3BlYyI6eyJkYXRhIjp7Imhhc2giOnsiYWxnb3JpdGhtIjoic2hhMjU2IiwidmFsdWUiOiIyY2YyNGRiYTVmYjBhMzBlMjZlODNiMmFjNWI5ZTI5ZTFiMTYxZTVjMWZhNzQyNWU3MzA0MzM2MjkzOGI5ODI0In19LCJzaWduYXR1cmUiOnsiY29udGVudCI6Ik1FVUNJUT09IiwicHVibGljS2V5Ijp7ImNvbnRlbnQiOiJMUzB0In19fX0=";

/// A v0.3 `sign-blob` bundle: leaf certificate, one Rekor v1 entry with promise and proof.
fn v03_json() -> String {
    [
        r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","#,
        r#""verificationMaterial":{"certificate":{"rawBytes":"MIIBkzCCATmgAwIBAgIU"},"#,
        r#""tlogEntries":[{"logIndex":"25915956","#,
        r#""logId":{"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="},"#,
        r#""kindVersion":{"kind":"hashedrekord","version":"0.0.1"},"#,
        r#""integratedTime":"1712085549","#,
        r#""inclusionPromise":{"signedEntryTimestamp":"MEUCIQDx"},"#,
        r#""inclusionProof":{"logIndex":"25901137","#,
        r#""rootHash":"SBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=","#,
        r#""treeSize":"25901138","#,
        r#""hashes":["MxEu4U7kacPrUv6QMi7IHdQEoAk9Vlptcc53y8gSTjs=","+Zj+Bq+gz75z4ESdwrFpgwnhtXFJYPAnsoWDErFSwnU="],"#,
        r#""checkpoint":{"envelope":"rekor.sigstore.dev - 2605736670972794746\n25901138\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n\n— rekor.sigstore.dev wNI9ajBFAiEA\n"}},"#,
        r#""canonicalizedBody":""#,
        BODY_B64,
        r#""}],"timestampVerificationData":{}},"#,
        r#""messageSignature":{"messageDigest":{"algorithm":"SHA2_256","#,
        r#""digest":"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="},"signature":"MEUCIQ=="}}"#,
    ]
    .concat()
}

/// A v0.1 bundle: certificate chain, DSSE content, SET only, one RFC 3161 timestamp.
const V01_JSON: &str = concat!(
    r#"{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.1","#,
    r#""verificationMaterial":{"x509CertificateChain":{"certificates":[{"rawBytes":"MIIBkzCC"},{"rawBytes":"MIIBeDCC"}]},"#,
    r#""tlogEntries":[{"logIndex":"7","logId":{"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="},"#,
    r#""kindVersion":{"kind":"intoto","version":"0.0.2"},"integratedTime":"1670000000","#,
    r#""inclusionPromise":{"signedEntryTimestamp":"MEQCIA=="},"canonicalizedBody":"e30="}],"#,
    r#""timestampVerificationData":{"rfc3161Timestamps":[{"signedTimestamp":"MIIC"}]}},"#,
    r#""dsseEnvelope":{"payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==","#,
    r#""payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"MEUCIQ=="}]}}"#
);

#[test]
fn parses_v03_with_tlog_entry() {
    let bundle = Bundle::from_json(v03_json().as_bytes()).unwrap();
    assert_eq!(bundle.media_type, BUNDLE_V03_MEDIA_TYPE);
    assert_eq!(bundle.version(), Some((0, 3)));
    let VerificationMaterialContent::Certificate(cert) = &bundle.verification_material.content
    else {
        panic!("expected a certificate");
    };
    assert_eq!(cert.raw_bytes[..3], [0x30, 0x82, 0x01]);
    let entry = &bundle.verification_material.tlog_entries[0];
    assert_eq!(entry.log_index, 25_915_956);
    assert_eq!(entry.integrated_time, 1_712_085_549);
    assert_eq!(entry.log_id.key_id.len(), 32);
    assert_eq!(entry.kind_version.kind, "hashedrekord");
    assert_eq!(entry.kind_version.version, "0.0.1");
    assert!(entry.inclusion_promise.is_some());
    let proof = entry.inclusion_proof.as_ref().unwrap();
    assert_eq!(proof.log_index, 25_901_137);
    assert_eq!(proof.tree_size, 25_901_138);
    assert_eq!(proof.hashes.len(), 2);
    assert_eq!(proof.root_hash.len(), 32);
    assert!(
        proof
            .checkpoint
            .envelope
            .starts_with("rekor.sigstore.dev - 2605736670972794746\n")
    );
    assert!(
        proof
            .checkpoint
            .envelope
            .contains("\u{2014} rekor.sigstore.dev")
    );
    assert!(
        entry
            .canonicalized_body
            .starts_with(br#"{"apiVersion":"0.0.1""#)
    );
    assert_eq!(
        bundle.verification_material.timestamp_verification_data,
        Some(TimestampVerificationData::default())
    );
    let BundleContent::MessageSignature(sig) = &bundle.content else {
        panic!("expected a message signature");
    };
    let digest = sig.message_digest.as_ref().unwrap();
    assert_eq!(digest.hash_algorithm(), Some(HashAlgorithm::Sha256));
    assert_eq!(digest.digest.len(), 32);
    assert_eq!(sig.signature, [0x30, 0x45, 0x02, 0x21]);
}

#[test]
fn writes_v03_byte_exact() {
    let bundle = Bundle::from_json(v03_json().as_bytes()).unwrap();
    assert_eq!(String::from_utf8(bundle.to_json()).unwrap(), v03_json());
}

#[test]
fn parses_and_writes_v01_with_chain() {
    let bundle = Bundle::from_json(V01_JSON.as_bytes()).unwrap();
    assert_eq!(bundle.version(), Some((0, 1)));
    let VerificationMaterialContent::X509CertificateChain(chain) =
        &bundle.verification_material.content
    else {
        panic!("expected a chain");
    };
    assert_eq!(chain.certificates.len(), 2);
    let entry = &bundle.verification_material.tlog_entries[0];
    assert_eq!(entry.log_index, 7);
    assert!(entry.inclusion_proof.is_none());
    assert_eq!(entry.canonicalized_body, b"{}");
    let tsa = bundle
        .verification_material
        .timestamp_verification_data
        .as_ref()
        .unwrap();
    assert_eq!(
        tsa.rfc3161_timestamps[0].signed_timestamp,
        [0x30, 0x82, 0x02]
    );
    let BundleContent::DsseEnvelope(env) = &bundle.content else {
        panic!("expected DSSE");
    };
    assert_eq!(env.payload_type, crate::IN_TOTO_PAYLOAD_TYPE);
    assert_eq!(
        env.signatures,
        [EnvelopeSignature {
            keyid: String::new(),
            sig: vec![0x30, 0x45, 0x02, 0x21]
        }]
    );
    assert_eq!(String::from_utf8(bundle.to_json()).unwrap(), V01_JSON);
}

#[test]
fn accepts_protojson_variants() {
    // Proto field names, int64 as numbers, URL-safe and unpadded base64, nulls, unknown
    // fields, enum by number, whitespace.
    let text = r#"{
      "media_type": "application/vnd.dev.sigstore.bundle+json;version=0.2",
      "verification_material": {
        "public_key": {"hint": "abc"},
        "tlog_entries": [{"log_index": 3, "log_id": {"key_id": "-__-AQ"}, "integrated_time": "0",
                          "inclusion_proof": {"log_index": 1, "tree_size": 2, "hashes": null,
                                              "checkpoint": null, "root_hash": null},
                          "canonicalized_body": "e30", "futureField": [1, 2]}],
        "timestamp_verification_data": null,
        "somethingNew": {}
      },
      "message_signature": {"message_digest": {"algorithm": 3, "digest": "AAEC"}, "signature": "AQID"},
      "dsseEnvelope": null
    }"#;
    let bundle = Bundle::from_json(text.as_bytes()).unwrap();
    assert_eq!(bundle.version(), Some((0, 2)));
    assert_eq!(
        bundle.verification_material.content,
        VerificationMaterialContent::PublicKey(PublicKeyIdentifier {
            hint: "abc".to_owned()
        })
    );
    let entry = &bundle.verification_material.tlog_entries[0];
    assert_eq!(entry.log_index, 3);
    assert_eq!(entry.log_id.key_id, [0xfb, 0xff, 0xfe, 0x01]);
    assert_eq!(entry.canonicalized_body, b"{}");
    assert_eq!(entry.inclusion_proof.as_ref().unwrap().tree_size, 2);
    assert!(
        bundle
            .verification_material
            .timestamp_verification_data
            .is_none()
    );
    let BundleContent::MessageSignature(sig) = &bundle.content else {
        panic!("expected a message signature");
    };
    assert_eq!(sig.message_digest.as_ref().unwrap().algorithm, "SHA2_512");
    // Written back: defaults left out, proto order, camelCase, standard base64.
    assert_eq!(
        String::from_utf8(bundle.to_json()).unwrap(),
        concat!(
            r#"{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.2","#,
            r#""verificationMaterial":{"publicKey":{"hint":"abc"},"tlogEntries":[{"logIndex":"3","#,
            r#""logId":{"keyId":"+//+AQ=="},"inclusionProof":{"logIndex":"1","treeSize":"2"},"#,
            r#""canonicalizedBody":"e30="}]},"messageSignature":{"messageDigest":"#,
            r#"{"algorithm":"SHA2_512","digest":"AAEC"},"signature":"AQID"}}"#
        )
    );
}

#[test]
fn key_bundle_without_tlog_omits_empty_fields() {
    let bundle = Bundle {
        media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
        verification_material: VerificationMaterial {
            content: VerificationMaterialContent::PublicKey(PublicKeyIdentifier::default()),
            tlog_entries: Vec::new(),
            timestamp_verification_data: None,
        },
        content: BundleContent::DsseEnvelope(crate::Envelope {
            payload_type: crate::IN_TOTO_PAYLOAD_TYPE.to_owned(),
            payload: b"{}".to_vec(),
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: vec![1],
            }],
        }),
    };
    let json = String::from_utf8(bundle.to_json()).unwrap();
    assert_eq!(
        json,
        concat!(
            r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","#,
            r#""verificationMaterial":{"publicKey":{}},"#,
            r#""dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","#,
            r#""signatures":[{"sig":"AQ=="}]}}"#
        )
    );
    assert_eq!(Bundle::from_json(json.as_bytes()).unwrap(), bundle);
    let via_serde: Bundle = serde_json::from_str(&json).unwrap();
    assert_eq!(via_serde, bundle);
}

fn with_entries(count: usize) -> String {
    let entry = r#"{"logIndex":"1","canonicalizedBody":"e30="}"#;
    let entries = vec![entry; count].join(",");
    format!(
        r#"{{"mediaType":"{BUNDLE_V03_MEDIA_TYPE}","verificationMaterial":{{"publicKey":{{}},"tlogEntries":[{entries}]}},"messageSignature":{{"signature":"AQ=="}}}}"#
    )
}

fn with_timestamps(count: usize) -> String {
    let ts = r#"{"signedTimestamp":"AQ=="}"#;
    let list = vec![ts; count].join(",");
    format!(
        r#"{{"mediaType":"{BUNDLE_V03_MEDIA_TYPE}","verificationMaterial":{{"publicKey":{{}},"timestampVerificationData":{{"rfc3161Timestamps":[{list}]}}}},"messageSignature":{{"signature":"AQ=="}}}}"#
    )
}

#[test]
fn enforces_limits() {
    assert_eq!(
        Bundle::from_json(with_entries(32).as_bytes())
            .unwrap()
            .verification_material
            .tlog_entries
            .len(),
        32
    );
    let err = Bundle::from_json(with_entries(33).as_bytes()).unwrap_err();
    assert!(matches!(
        err,
        TypesError::TooMany {
            count: 33,
            max: 32,
            ..
        }
    ));
    assert_eq!(err.to_string(), "too many tlog entries: 33 > 32");
    assert!(Bundle::from_json(with_timestamps(32).as_bytes()).is_ok());
    let err = Bundle::from_json(with_timestamps(33).as_bytes()).unwrap_err();
    assert_eq!(err.to_string(), "too many rfc3161 timestamps: 33 > 32");
}

#[test]
fn refuses_malformed() {
    let material = r#""verificationMaterial":{"publicKey":{}}"#;
    let sig = r#""messageSignature":{"signature":"AQ=="}"#;
    let env = r#""dsseEnvelope":{"payload":"e30="}"#;
    let cases = [
        String::new(),
        "[]".to_owned(),
        "null".to_owned(),
        "{}".to_owned(),
        format!("{{{sig}}}"),
        format!("{{{material}}}"),
        format!("{{{material},{sig},{env}}}"),
        r#"{"verificationMaterial":{},"messageSignature":{}}"#.to_owned(),
        r#"{"verificationMaterial":{"publicKey":{},"certificate":{}},"messageSignature":{}}"#
            .to_owned(),
        format!(r#"{{{material},"messageSignature":{{"signature":"***"}}}}"#),
        format!(r#"{{{material},"messageSignature":{{"signature":5}}}}"#),
        format!(r#"{{{material},"messageSignature":{{"messageDigest":{{"algorithm":99}}}}}}"#),
        format!(
            r#"{{"verificationMaterial":{{"publicKey":{{}},"tlogEntries":[{{"logIndex":"x"}}]}},{sig}}}"#
        ),
        format!(
            r#"{{"verificationMaterial":{{"publicKey":{{}},"tlogEntries":[{{"logIndex":1.5}}]}},{sig}}}"#
        ),
        format!(
            r#"{{"verificationMaterial":{{"publicKey":{{}},"tlogEntries":[{{"logIndex":"99999999999999999999"}}]}},{sig}}}"#
        ),
        format!(r#"{{"verificationMaterial":{{"publicKey":{{}},"tlogEntries":{{}}}},{sig}}}"#),
        format!(r#"{{"mediaType":"a","media_type":"b",{material},{sig}}}"#),
        format!(r#"{{"mediaType":7,{material},{sig}}}"#),
        format!(r#"{{{material},{sig}"#),
    ];
    for case in cases {
        assert!(Bundle::from_json(case.as_bytes()).is_err(), "{case}");
    }
}

#[test]
fn oneof_errors_are_structured() {
    let err = Bundle::from_json(br#"{"verificationMaterial":{"publicKey":{}}}"#).unwrap_err();
    assert!(matches!(err, TypesError::OneOf { found: 0, .. }), "{err}");
    let err = Bundle::from_json(
        br#"{"verificationMaterial":{"publicKey":{},"certificate":{}},"messageSignature":{}}"#,
    )
    .unwrap_err();
    assert!(matches!(err, TypesError::OneOf { found: 2, .. }), "{err}");
    let err = Bundle::from_json(br#"{"messageSignature":{}}"#).unwrap_err();
    assert!(
        matches!(
            err,
            TypesError::MissingField {
                field: "verificationMaterial",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn media_type_versions() {
    let cases = [
        (
            "application/vnd.dev.sigstore.bundle.v0.3+json",
            Some((0, 3)),
        ),
        (
            "application/vnd.dev.sigstore.bundle+json;version=0.1",
            Some((0, 1)),
        ),
        (
            "application/vnd.dev.sigstore.bundle+json;version=0.2",
            Some((0, 2)),
        ),
        (
            "application/vnd.dev.sigstore.bundle+json;version=0.3",
            Some((0, 3)),
        ),
        (
            "application/vnd.dev.sigstore.bundle.v0.4+json",
            Some((0, 4)),
        ),
        (
            "application/vnd.dev.sigstore.bundle.v0.3.1+json",
            Some((0, 3)),
        ),
        ("application/vnd.dev.sigstore.bundle.v1+json", Some((1, 0))),
        ("application/vnd.dev.sigstore.bundle+json;version=0.4", None),
        ("application/vnd.dev.sigstore.bundle.v0.03+json", None),
        ("application/vnd.dev.sigstore.bundle.v0.3.1.2+json", None),
        ("application/vnd.dev.sigstore.bundle.v0.3", None),
        ("application/vnd.dev.sigstore.bundle.0.3+json", None),
        ("application/vnd.dev.sigstore.bundle.v+json", None),
        ("application/vnd.dev.sigstore.bundle.v0.+json", None),
        ("application/vnd.dev.sigstore.bundle.v0.3-rc1+json", None),
        ("", None),
    ];
    for (media_type, expected) in cases {
        assert_eq!(bundle_version(media_type), expected, "{media_type}");
    }
}

/// Every truncation and many byte flips of real-looking documents must give `Ok` or `Err`,
/// never a panic.
#[test]
fn mutated_inputs_never_panic() {
    let docs = [
        v03_json().into_bytes(),
        V01_JSON.as_bytes().to_vec(),
        crate::Envelope::default().to_json(),
        crate::simple_signing_payload(
            "r.io/x",
            &"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
                .parse()
                .unwrap(),
            None,
        ),
        br#"{"base64Signature":"c2ln","cert":"LS0t","rekorBundle":{"SignedEntryTimestamp":"MEQCIA==","Payload":{"body":"e30=","integratedTime":1,"logIndex":2,"logID":"ab"}}}"#.to_vec(),
    ];
    let parse_all = |bytes: &[u8]| {
        let _ = Bundle::from_json(bytes);
        let _ = crate::Envelope::from_json(bytes);
        let _ = crate::SimpleSigning::from_json(bytes);
        let _ = crate::LocalSignedPayload::from_json(bytes);
        let _ = crate::RekorBundle::from_json(bytes);
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            let _ = crate::to_canonical_json(&value);
        }
    };
    for doc in &docs {
        for cut in 0..doc.len() {
            parse_all(&doc[..cut]);
        }
        for i in 0..doc.len() {
            for replacement in [b'"', b'{', b']', b'0', b'-', b'\\', 0xff] {
                let mut mutated = doc.clone();
                mutated[i] = replacement;
                parse_all(&mutated);
            }
        }
    }
}
