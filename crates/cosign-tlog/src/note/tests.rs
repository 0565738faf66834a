use super::*;

fn sample(origin: &str) -> Checkpoint {
    Checkpoint {
        origin: origin.to_owned(),
        size: 736,
        root_hash: [7; 32],
        other: Vec::new(),
    }
}

fn keys() -> Vec<PrivateKey> {
    vec![
        PrivateKey::generate(KeyType::Ed25519).unwrap(),
        PrivateKey::generate_ecdsa_p256().unwrap(),
    ]
}

#[test]
fn sign_and_verify_round_trip() {
    for key in keys() {
        let note = sign_checkpoint(&sample("log.example"), "log.example", &key).unwrap();
        let cp = verify_checkpoint(&note, "log.example", &key.public_key()).unwrap();
        assert_eq!(cp, sample("log.example"));
        let parsed = parse_signed_note(&note).unwrap();
        assert_eq!(parsed.signatures.len(), 1);
        assert_eq!(
            parsed.signatures[0].key_hint,
            key_hint("log.example", &key.public_key())
        );
    }
}

#[test]
fn key_ids() {
    let ed = PrivateKey::generate(KeyType::Ed25519).unwrap().public_key();
    // Ed25519 key IDs depend on the name; ECDSA ones are the SPKI hash.
    assert_ne!(key_id("a", &ed), key_id("b", &ed));
    let ec = PrivateKey::generate_ecdsa_p256().unwrap().public_key();
    assert_eq!(key_id("a", &ec), ec.hint());
    assert_eq!(key_id("b", &ec), ec.hint());
    let spki = ed.to_spki_der();
    let mut h = Sha256::new();
    h.update(b"a\n\x01");
    h.update(&spki[spki.len() - 32..]);
    let want: [u8; 32] = h.finalize().into();
    assert_eq!(key_id("a", &ed), want);
}

#[test]
fn hostile_notes_are_refused() {
    let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let public = key.public_key();
    let good = sign_checkpoint(&sample("log.example"), "log.example", &key).unwrap();

    // Another log's checkpoint, correctly signed with the same key under its own name.
    let other = sign_checkpoint(&sample("other.example"), "other.example", &key).unwrap();
    assert!(matches!(
        verify_checkpoint(&other, "log.example", &public),
        Err(TlogError::CheckpointOrigin { .. })
    ));
    // Right origin line, signature line under another name: not the log's signature.
    let renamed = good.replace("\u{2014} log.example ", "\u{2014} other.example ");
    assert!(matches!(
        verify_checkpoint(&renamed, "log.example", &public),
        Err(TlogError::CheckpointSignature { .. })
    ));
    // Wrong key hint: the line is not the log's, so nothing verifies.
    let (body, line) = good.split_once("\n\n").unwrap();
    let b64 = line.trim_end().rsplit_once(' ').unwrap().1;
    let mut blob = STANDARD.decode(b64).unwrap();
    blob[0] ^= 1;
    let bent = format!(
        "{body}\n\n\u{2014} log.example {}\n",
        STANDARD.encode(&blob)
    );
    assert!(matches!(
        verify_checkpoint(&bent, "log.example", &public),
        Err(TlogError::CheckpointSignature { .. })
    ));
    // Right hint, bad signature: the whole note fails.
    let mut blob = STANDARD.decode(b64).unwrap();
    blob[10] ^= 1;
    let bent = format!(
        "{body}\n\n\u{2014} log.example {}\n",
        STANDARD.encode(&blob)
    );
    let err = verify_checkpoint(&bent, "log.example", &public).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
    // Changed text.
    let bent = good.replacen("\n736\n", "\n737\n", 1);
    assert!(verify_checkpoint(&bent, "log.example", &public).is_err());
    // A different key.
    let stranger = PrivateKey::generate(KeyType::Ed25519).unwrap().public_key();
    assert!(verify_checkpoint(&good, "log.example", &stranger).is_err());
    // Malformed notes.
    for bad in [
        String::new(),
        "log.example\n".to_owned(),
        good.trim_end().to_owned(),
        good.replace('\u{2014}', "-"),
        good.replacen("log.example\n", "log.example\n\u{7}", 1),
        format!("{good}\u{2014} witness\n"),
        format!("{good}\u{2014} wit ness AAAAAAAA\n"),
        format!("{good}\u{2014} w AAAA\n"),
        format!("{good}\u{2014} w !!!!\n"),
    ] {
        assert!(
            verify_checkpoint(&bad, "log.example", &public).is_err(),
            "{bad:?}"
        );
    }
    assert!(verify_checkpoint(&good, "bad origin", &public).is_err());
    assert!(sign_checkpoint(&sample("a"), "b", &key).is_err());
}

#[test]
fn witness_lines_are_ignored() {
    let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let good = sign_checkpoint(&sample("log.example"), "log.example", &key).unwrap();
    let mut cosig = vec![1, 2, 3, 4];
    cosig.extend_from_slice(&[0; 8 + 64]);
    let wline = format!("\u{2014} witness.example {}\n", STANDARD.encode(&cosig));
    let before = good.replacen("\n\n", &format!("\n\n{wline}"), 1);
    let after = format!("{good}{wline}");
    for note in [
        before,
        after,
        format!("{good}{}", good.split_once("\n\n").unwrap().1),
    ] {
        verify_checkpoint(&note, "log.example", &key.public_key()).unwrap();
    }
    // A witness line alone is not enough.
    let only = format!("{}\n\n{wline}", good.split_once("\n\n").unwrap().0);
    assert!(verify_checkpoint(&only, "log.example", &key.public_key()).is_err());
}

#[test]
fn origins_and_v1_detection() {
    assert_eq!(
        origin_from_base_url("https://log2025-alpha1.rekor.sigstage.dev").as_deref(),
        Some("log2025-alpha1.rekor.sigstage.dev")
    );
    assert_eq!(
        origin_from_base_url("https://log.example:8443/some/path").as_deref(),
        Some("log.example")
    );
    assert_eq!(origin_from_base_url("not a url"), None);
    assert!(is_rekor_v1_checkpoint(
        "rekor.sigstore.dev - 2605736670972794746\n1\nAAAA\n\n"
    ));
    assert!(!is_rekor_v1_checkpoint("log.example\n1\nAAAA\n\n"));
    assert!(!is_rekor_v1_checkpoint("rekor - 12"));
}
