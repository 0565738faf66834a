//! Key references: `KeyRef::parse` and every provider's URI check (no I/O).

use cosign_kms::{KeyRef, KmsProvider, check_uri};

#[test]
fn kms_uris_parse_to_their_provider() {
    for (text, provider) in [
        ("awskms:///alias/cosign", KmsProvider::Aws),
        (
            "awskms://localhost:4566/1234abcd-12ab-34cd-56ef-1234567890ab",
            KmsProvider::Aws,
        ),
        (
            "awskms:///arn:aws:kms:eu-west-1:111122223333:alias/x",
            KmsProvider::Aws,
        ),
        ("hashivault://cosign", KmsProvider::Vault),
        ("openbao://cosign.key-1", KmsProvider::Vault),
        (
            "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k",
            KmsProvider::Gcp,
        ),
        (
            "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/versions/2",
            KmsProvider::Gcp,
        ),
        ("azurekms://vault.vault.azure.net/key", KmsProvider::Azure),
        ("azurekms://127.0.0.1:8443/key/0123abcd", KmsProvider::Azure),
    ] {
        let parsed = KeyRef::parse(text).unwrap();
        assert_eq!(
            parsed,
            KeyRef::Kms {
                provider,
                uri: text.to_owned()
            }
        );
        assert_eq!(parsed.to_string(), text);
        check_uri(provider, text).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

#[test]
fn malformed_kms_uris_are_refused_naming_provider_and_uri() {
    for (text, provider, name) in [
        ("awskms:///alias/", KmsProvider::Aws, "AWS KMS"),
        ("awskms:///not-a-key", KmsProvider::Aws, "AWS KMS"),
        (
            "awskms:///arn:aws:s3:us-east-1:111122223333:key/x",
            KmsProvider::Aws,
            "AWS KMS",
        ),
        (
            "hashivault://a/b",
            KmsProvider::Vault,
            "HashiCorp Vault transit",
        ),
        ("openbao://-x", KmsProvider::Vault, "OpenBao transit"),
        (
            "gcpkms://projects/p/locations/l",
            KmsProvider::Gcp,
            "Google Cloud KMS",
        ),
        (
            "gcpkms://projects/../locations/l/keyRings/r/cryptoKeys/k",
            KmsProvider::Gcp,
            "Google Cloud KMS",
        ),
        (
            "azurekms://vault/k/v/x",
            KmsProvider::Azure,
            "Azure Key Vault",
        ),
        (
            "azurekms://vault/k_x",
            KmsProvider::Azure,
            "Azure Key Vault",
        ),
    ] {
        // KeyRef::parse only sorts by scheme; the provider's check reads the rest.
        assert!(
            matches!(KeyRef::parse(text), Ok(KeyRef::Kms { .. })),
            "{text}"
        );
        let e = check_uri(provider, text).unwrap_err();
        crate::assert_err(&e, name, text, "malformed key URI", &[]);
    }
    // A KMS scheme with nothing after it is refused by the parser already.
    assert!(KeyRef::parse("gcpkms://").is_err());
    assert!(KeyRef::parse("hashivault://").is_err());
    assert_eq!(
        KeyRef::parse("foo://bar").unwrap_err().to_string(),
        "loading URL: unrecognized scheme: foo://"
    );
}

#[test]
fn pkcs11_uris_keep_their_pin_out_of_display_and_debug() {
    let text = "pkcs11:token=t;id=%01;object=k?module-path=/x.so&pin-value=s3cret";
    let KeyRef::Pkcs11(uri) = KeyRef::parse(text).unwrap() else {
        panic!("not a pkcs11 reference");
    };
    assert_eq!(uri.token.as_deref(), Some("t"));
    assert_eq!(uri.id.as_deref(), Some(&[1u8][..]));
    assert_eq!(uri.object.as_deref(), Some("k"));
    assert!(uri.pin().is_some());
    let shown = format!("{uri} {uri:?} {:?}", KeyRef::Pkcs11(uri.clone()));
    assert!(!shown.contains("s3cret"), "{shown}");
}
