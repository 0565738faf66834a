//! The signing config a signer uses by default: the verified TUF target of the repository,
//! never another instance's copy when that target is missing, tampered with or malformed; the
//! embedded copy only when there is no repository at all.

use cosign_trust::TrustError;
use cosign_trust::signing_config::{
    SIGNING_CONFIG_TARGET, SigningConfig, SigningConfigSource, embedded_json,
};
use cosign_trust::tuf::{Instance, TufClient};

use super::client;
use crate::repo::{MIRROR, MemFetcher, Repo, sha256_hex};

fn staging() -> Vec<u8> {
    embedded_json(Instance::Staging).to_vec()
}

fn default_of(repo: &Repo) -> Result<(SigningConfig, SigningConfigSource), TrustError> {
    let (mut c, _) = client(repo, None);
    SigningConfig::tuf_or_embedded(Some(&mut c), Instance::PublicGood)
}

#[test]
fn the_repository_target_is_the_default() {
    let mut repo = Repo::new();
    repo.targets
        .insert(SIGNING_CONFIG_TARGET.to_owned(), staging());
    repo.publish();
    let (config, source) = default_of(&repo).unwrap();
    assert_eq!(config, SigningConfig::embedded(Instance::Staging).unwrap());
    assert_eq!(
        source,
        SigningConfigSource::Tuf {
            mirror: MIRROR.to_owned()
        }
    );
    // No repository: the embedded copy of the instance asked for.
    let (config, source) =
        SigningConfig::tuf_or_embedded::<MemFetcher>(None, Instance::PublicGood).unwrap();
    assert_eq!(source, SigningConfigSource::Embedded(Instance::PublicGood));
    assert_eq!(
        config,
        SigningConfig::embedded(Instance::PublicGood).unwrap()
    );
}

#[test]
fn a_missing_tampered_or_malformed_target_is_an_error() {
    let mut repo = Repo::new();
    repo.publish();
    assert!(matches!(
        default_of(&repo),
        Err(TrustError::TargetNotFound { .. })
    ));

    let body = staging();
    repo.targets
        .insert(SIGNING_CONFIG_TARGET.to_owned(), body.clone());
    repo.publish();
    let served = format!("targets/{}.{SIGNING_CONFIG_TARGET}", sha256_hex(&body));
    let mut evil = body.clone();
    let at = evil.len() - 10;
    evil[at] ^= 0x20;
    repo.set_file(&served, evil);
    assert!(matches!(
        default_of(&repo),
        Err(TrustError::HashMismatch { .. } | TrustError::LengthMismatch { .. })
    ));

    // Signed by the repository but not a v0.2 signing config.
    let v01 = br#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.1+json"}"#;
    repo.targets
        .insert(SIGNING_CONFIG_TARGET.to_owned(), v01.to_vec());
    repo.bump_all();
    let err = default_of(&repo).unwrap_err();
    assert!(matches!(err, TrustError::BadSigningConfig { .. }), "{err}");
}

#[test]
fn from_tuf_reads_any_signing_config_target() {
    let mut repo = Repo::new();
    let v2 = cosign_trust::signing_config::embedded_rekor_v2_json(Instance::PublicGood).unwrap();
    repo.targets.insert(
        cosign_trust::signing_config::SIGNING_CONFIG_REKOR_V2_TARGET.to_owned(),
        v2.to_vec(),
    );
    repo.publish();
    let (mut c, _): (TufClient<MemFetcher>, _) = client(&repo, None);
    let config = SigningConfig::from_tuf(
        &mut c,
        cosign_trust::signing_config::SIGNING_CONFIG_REKOR_V2_TARGET,
    )
    .unwrap();
    assert_eq!(config.rekor_tlog_urls[0].major_api_version, 2);
}
