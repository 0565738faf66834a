//! The client against the real CNCF distribution registry (Debian `docker-registry` 2.8),
//! started on 127.0.0.1 by the test itself. Its quirks: no referrers API (404 in plain
//! text), no single-POST upload, OCI manifests only with an OCI `Accept`, DELETE by tag is
//! 400, `tags/list` ignores `n`/`last`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cosign_oci::{OciError, Reference, Registry, RegistryOptions, Repository};
use cosign_types::media_types::{
    OCI_EMPTY_CONFIG, OCI_EMPTY_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE,
    SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
};
use cosign_types::oci::{Descriptor, ImageIndex, ImageManifest};
use cosign_types::{Digest, HashAlgorithm};

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

fn sha(data: &[u8]) -> Digest {
    cosign_crypto::hash(HashAlgorithm::Sha256, data)
}

/// A `docker-registry serve` process, killed (by its own handle) on drop.
struct Launched {
    child: Child,
    addr: String,
    dir: tempfile::TempDir,
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Launched {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the registry with `http_extra` appended to its `http:` section (indented by 2).
fn launch(http_extra: &str, prepare: impl Fn(&Path)) -> Launched {
    assert!(
        Path::new(REGISTRY_BIN).exists(),
        "{REGISTRY_BIN} is missing: run scripts/install-test-deps.sh (it installs the Debian \
         package docker-registry, which these tests start on 127.0.0.1)"
    );
    let mut last_log = String::new();
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path());
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let config = format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  cache:\n    blobdescriptor: inmemory\nhttp:\n  addr: {addr}\n{http_extra}",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut launched = Launched { child, addr, dir };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = launched.child.try_wait() {
                break;
            }
            if TcpStream::connect(&launched.addr).is_ok() {
                return launched;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        last_log = launched.log();
    }
    panic!("docker-registry did not start; last log:\n{last_log}");
}

/// `GET /v2/` over plain http answers 200.
fn wait_for_v2(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\nHost: x\r\n\r\n");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            if out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{addr}/v2/ never answered 200");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Counts the requests an operation makes.
async fn counted<T>(reg: &Registry, n: u64, fut: impl std::future::Future<Output = T>) -> T {
    let before = reg.request_count();
    let out = fut.await;
    assert_eq!(reg.request_count() - before, n, "request count");
    out
}

#[tokio::test]
async fn real_registry_round_trip() {
    let server = launch("", |_| {});
    wait_for_v2(&server.addr);
    let reg = Registry::new(RegistryOptions::default()).unwrap();
    let repo = Repository::parse(&format!("{}/cosign-oci/test", server.addr)).unwrap();

    // Blobs: the empty config and a payload layer.
    let config_digest = sha(OCI_EMPTY_CONFIG);
    counted(
        &reg,
        2,
        reg.push_blob(&repo, &config_digest, OCI_EMPTY_CONFIG),
    )
    .await
    .unwrap();
    assert_eq!(
        counted(&reg, 1, reg.blob_exists(&repo, &config_digest))
            .await
            .unwrap(),
        Some(2)
    );
    assert_eq!(
        counted(&reg, 1, reg.get_blob(&repo, &config_digest, 2))
            .await
            .unwrap(),
        OCI_EMPTY_CONFIG
    );
    let layer = br#"{"payload":"hello"}"#.to_vec();
    let layer_digest = sha(&layer);
    // Missing: the mount POST opens a session, one PUT; present: the mount answers 201.
    counted(
        &reg,
        2,
        reg.push_blob_if_missing(&repo, &layer_digest, &layer),
    )
    .await
    .unwrap();
    counted(
        &reg,
        1,
        reg.push_blob_if_missing(&repo, &layer_digest, &layer),
    )
    .await
    .unwrap();
    let other = Repository::parse(&format!("{}/cosign-oci/other", server.addr)).unwrap();
    assert!(reg.mount_blob(&other, &layer_digest, &repo).await.unwrap());
    assert_eq!(
        reg.blob_exists(&other, &layer_digest).await.unwrap(),
        Some(layer.len() as u64)
    );
    assert!(
        reg.get_blob(&repo, &sha(b"nope"), 10)
            .await
            .unwrap_err()
            .is_not_found()
    );

    // An OCI manifest, by tag and by digest.
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST_MEDIA_TYPE.into(),
        artifact_type: None,
        config: Descriptor::new(OCI_EMPTY_MEDIA_TYPE, 2, config_digest.clone()),
        layers: vec![Descriptor::new(
            "application/vnd.dev.cosign.simplesigning.v1+json",
            layer.len() as u64,
            layer_digest.clone(),
        )],
        annotations: Default::default(),
        subject: None,
    }
    .to_json();
    let digest = sha(&manifest);
    let v1 = Reference::Tag("v1".into());
    let by_digest = Reference::Digest(digest.clone());
    let put = counted(
        &reg,
        1,
        reg.put_manifest(&repo, &v1, OCI_MANIFEST_MEDIA_TYPE, &manifest),
    )
    .await
    .unwrap();
    assert_eq!(put.digest, digest);
    assert_eq!(put.oci_subject, None);
    let put = counted(
        &reg,
        1,
        reg.put_manifest(&repo, &by_digest, OCI_MANIFEST_MEDIA_TYPE, &manifest),
    )
    .await
    .unwrap();
    assert_eq!(put.digest, digest);

    let head = counted(&reg, 1, reg.head_manifest(&repo, &v1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        head,
        Descriptor::new(
            OCI_MANIFEST_MEDIA_TYPE,
            manifest.len() as u64,
            digest.clone()
        )
    );
    for reference in [&v1, &by_digest] {
        let m = counted(&reg, 1, reg.get_manifest(&repo, reference))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.digest, digest);
        assert_eq!(m.bytes, manifest);
        assert_eq!(m.media_type, OCI_MANIFEST_MEDIA_TYPE);
        assert_eq!(m.image_manifest().unwrap().layers.len(), 1);
    }

    // No referrers API here: the caller falls back to the tag.
    assert!(
        counted(&reg, 1, reg.referrers(&repo, &digest, None))
            .await
            .unwrap()
            .is_none()
    );
    // A referrer with a subject is accepted; distribution sends no OCI-Subject.
    let bundle = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#.to_vec();
    let bundle_digest = sha(&bundle);
    reg.push_blob_if_missing(&repo, &bundle_digest, &bundle)
        .await
        .unwrap();
    let mut config = Descriptor::new(OCI_EMPTY_MEDIA_TYPE, 2, config_digest.clone());
    config.artifact_type = Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE.into());
    let referrer = ImageManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST_MEDIA_TYPE.into(),
        artifact_type: Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE.into()),
        config,
        layers: vec![Descriptor::new(
            SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
            bundle.len() as u64,
            bundle_digest,
        )],
        annotations: Default::default(),
        subject: Some(head.clone()),
    }
    .to_json();
    let referrer_digest = sha(&referrer);
    let put = reg
        .put_manifest(
            &repo,
            &Reference::Digest(referrer_digest.clone()),
            OCI_MANIFEST_MEDIA_TYPE,
            &referrer,
        )
        .await
        .unwrap();
    assert_eq!(put.oci_subject, None);
    // The fallback tag: an index whose entries carry artifactType.
    let mut entry = Descriptor::new(
        OCI_MANIFEST_MEDIA_TYPE,
        referrer.len() as u64,
        referrer_digest.clone(),
    );
    entry.artifact_type = Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE.into());
    let mut index = ImageIndex::empty();
    index.manifests.push(entry.clone());
    let fallback = Reference::Tag(digest.tag_form());
    reg.put_manifest(&repo, &fallback, OCI_INDEX_MEDIA_TYPE, &index.to_json())
        .await
        .unwrap();
    let got = reg.get_manifest(&repo, &fallback).await.unwrap().unwrap();
    assert!(got.is_index());
    assert_eq!(got.image_index().unwrap().manifests, vec![entry]);

    let tags = counted(&reg, 1, reg.list_tags(&repo)).await.unwrap();
    assert_eq!(tags, vec![digest.tag_form(), "v1".to_owned()]);

    // Deletes: by tag is refused with 400, by digest works (202), then 404.
    let e = counted(&reg, 1, reg.delete_manifest(&repo, &v1))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(
        counted(&reg, 1, reg.delete_manifest(&repo, &by_digest))
            .await
            .unwrap()
    );
    assert!(!reg.delete_manifest(&repo, &by_digest).await.unwrap());
    assert!(
        counted(&reg, 1, reg.head_manifest(&repo, &v1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        reg.get_manifest(&repo, &Reference::Tag("missing".into()))
            .await
            .unwrap()
            .is_none()
    );
    let unknown = Repository::parse(&format!("{}/never/pushed", server.addr)).unwrap();
    let e = reg.list_tags(&unknown).await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert!(e.to_string().contains("NAME_UNKNOWN"), "{e}");
}

/// Sign-flow request budget against distribution (new bundle format, no referrers API):
/// subject HEAD, config and bundle blobs (mount probe + PUT when missing), referrer PUT,
/// referrers probe, fallback tag GET + PUT.
#[tokio::test]
async fn real_registry_signing_budget() {
    let server = launch("", |_| {});
    wait_for_v2(&server.addr);
    let reg = Registry::new(RegistryOptions::default()).unwrap();
    let repo = Repository::parse(&format!("{}/budget/app", server.addr)).unwrap();
    let image = ImageManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST_MEDIA_TYPE.into(),
        artifact_type: None,
        config: Descriptor::new(OCI_EMPTY_MEDIA_TYPE, 2, sha(OCI_EMPTY_CONFIG)),
        layers: vec![],
        annotations: Default::default(),
        subject: None,
    }
    .to_json();
    reg.push_blob(&repo, &sha(OCI_EMPTY_CONFIG), OCI_EMPTY_CONFIG)
        .await
        .unwrap();
    let subject = reg
        .put_manifest(
            &repo,
            &Reference::Tag("latest".into()),
            OCI_MANIFEST_MEDIA_TYPE,
            &image,
        )
        .await
        .unwrap()
        .digest;

    let start = reg.request_count();
    let desc = reg
        .head_manifest(&repo, &Reference::Digest(subject.clone()))
        .await
        .unwrap()
        .unwrap();
    reg.push_blob_if_missing(&repo, &sha(OCI_EMPTY_CONFIG), OCI_EMPTY_CONFIG)
        .await
        .unwrap();
    let bundle = b"{\"bundle\":1}".to_vec();
    reg.push_blob_if_missing(&repo, &sha(&bundle), &bundle)
        .await
        .unwrap();
    let referrer = ImageManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST_MEDIA_TYPE.into(),
        artifact_type: Some(SIGSTORE_BUNDLE_V03_MEDIA_TYPE.into()),
        config: Descriptor::new(OCI_EMPTY_MEDIA_TYPE, 2, sha(OCI_EMPTY_CONFIG)),
        layers: vec![Descriptor::new(
            SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
            bundle.len() as u64,
            sha(&bundle),
        )],
        annotations: Default::default(),
        subject: Some(desc),
    }
    .to_json();
    let put = reg
        .put_manifest(
            &repo,
            &Reference::Digest(sha(&referrer)),
            OCI_MANIFEST_MEDIA_TYPE,
            &referrer,
        )
        .await
        .unwrap();
    if put.oci_subject.is_none() {
        assert!(
            reg.referrers(&repo, &subject, None)
                .await
                .unwrap()
                .is_none()
        );
        let tag = Reference::Tag(subject.tag_form());
        assert!(reg.get_manifest(&repo, &tag).await.unwrap().is_none());
        let mut index = ImageIndex::empty();
        index.manifests.push(Descriptor::new(
            OCI_MANIFEST_MEDIA_TYPE,
            referrer.len() as u64,
            sha(&referrer),
        ));
        reg.put_manifest(&repo, &tag, OCI_INDEX_MEDIA_TYPE, &index.to_json())
            .await
            .unwrap();
    }
    // HEAD 1 + config 1 + bundle 2 + PUT 1 + referrers 1 + tag GET 1 + tag PUT 1 = 8.
    assert_eq!(reg.request_count() - start, 8);
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is needed for the TLS test: run scripts/install-test-deps.sh");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for `registry.test` only (not 127.0.0.1) and a client
/// certificate, all P-256.
fn make_pki(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=cosign-oci test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    for (name, cn, ext) in [
        (
            "server",
            "registry.test",
            "subjectAltName=DNS:registry.test\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        ),
        (
            "client",
            "client",
            "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n",
        ),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={cn}"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.crt"),
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
            ],
        );
    }
}

fn error_chain(e: &OciError) -> String {
    let mut out = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(s) = cur {
        out.push_str(" / ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[tokio::test]
async fn real_registry_tls_server_name_and_client_certs() {
    let pki_dir = tempfile::tempdir().unwrap();
    let pki: PathBuf = pki_dir.path().to_owned();
    make_pki(&pki);
    let p = |f: &str| pki.join(f).display().to_string();
    let extra = format!(
        "  tls:\n    certificate: {}\n    key: {}\n    clientcas:\n      - {}\n",
        p("server.crt"),
        p("server.key"),
        p("ca.crt")
    );
    let server = launch(&extra, |_| {});
    let read = |f: &str| std::fs::read(pki.join(f)).unwrap();
    let base = RegistryOptions {
        ca_certs_pem: Some(read("ca.crt")),
        client_cert_pem: Some(read("client.crt")),
        client_key_pem: Some(read("client.key")),
        max_attempts: 2,
        ..RegistryOptions::default()
    };
    let repo = Repository::parse(&format!("{}/tls/app", server.addr)).unwrap();
    let data = b"over tls".to_vec();
    let d = sha(&data);

    // The certificate names registry.test: with --registry-server-name it verifies.
    let reg = Registry::new(RegistryOptions {
        server_name: Some("registry.test".into()),
        ..base.clone()
    })
    .unwrap();
    reg.push_blob(&repo, &d, &data).await.unwrap();
    assert_eq!(reg.get_blob(&repo, &d, 100).await.unwrap(), data);

    // Without it the name does not match; the client must not fall back to http.
    let reg = Registry::new(base.clone()).unwrap();
    let e = reg.blob_exists(&repo, &d).await.unwrap_err();
    assert!(matches!(e, OciError::Transport { .. }), "{e:?}");
    let chain = error_chain(&e);
    assert!(chain.contains("certificate"), "{chain}");

    // An unknown CA fails too.
    let reg = Registry::new(RegistryOptions {
        ca_certs_pem: None,
        server_name: Some("registry.test".into()),
        ..base.clone()
    })
    .unwrap();
    let e = reg.blob_exists(&repo, &d).await.unwrap_err();
    assert!(matches!(e, OciError::Transport { .. }), "{e:?}");

    // --allow-insecure-registry skips verification.
    let reg = Registry::new(RegistryOptions {
        ca_certs_pem: None,
        allow_insecure: true,
        ..base.clone()
    })
    .unwrap();
    assert_eq!(
        reg.blob_exists(&repo, &d).await.unwrap(),
        Some(data.len() as u64)
    );

    // No client certificate: the registry refuses the connection.
    let reg = Registry::new(RegistryOptions {
        client_cert_pem: None,
        client_key_pem: None,
        server_name: Some("registry.test".into()),
        ..base
    })
    .unwrap();
    let e = reg.blob_exists(&repo, &d).await.unwrap_err();
    assert!(matches!(e, OciError::Transport { .. }), "{e:?}");
    drop(server);
}
