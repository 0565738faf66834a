//! Interoperability with openssl, both ways, for every key type (the seed document's
//! "sign with another tool" workflow).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::common::Scratch;

/// (openssl key generation args, dgst algorithm or None for Ed25519)
const KINDS: &[(&[&str], Option<&str>)] = &[
    (
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "o.key",
        ],
        Some("-sha256"),
    ),
    (
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "o.key",
        ],
        Some("-sha384"),
    ),
    (
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-521",
            "-out",
            "o.key",
        ],
        Some("-sha512"),
    ),
    (&["genrsa", "-out", "o.key", "3072"], Some("-sha256")),
    (&["genpkey", "-algorithm", "ed25519", "-out", "o.key"], None),
];

#[test]
fn openssl_signatures_verify_with_cosign() {
    for (keygen, dgst) in KINDS {
        let s = Scratch::new();
        s.tool("openssl", keygen);
        s.tool(
            "openssl",
            &["pkey", "-in", "o.key", "-pubout", "-out", "o.pub"],
        );
        s.write("payload.json", "{\"critical\":{}}\n");
        match dgst {
            Some(d) => s.tool(
                "openssl",
                &[
                    "dgst",
                    d,
                    "-sign",
                    "o.key",
                    "-out",
                    "payload.sig",
                    "payload.json",
                ],
            ),
            None => s.tool(
                "openssl",
                &[
                    "pkeyutl",
                    "-sign",
                    "-rawin",
                    "-inkey",
                    "o.key",
                    "-in",
                    "payload.json",
                    "-out",
                    "payload.sig",
                ],
            ),
        };
        // `base64` wraps at 76 columns, as in the seed: cosign must accept the line breaks.
        let run = s.sh("base64 payload.sig > payloadbase64.sig", &[]);
        assert_eq!(run.code, 0);
        s.run(
            &[
                "verify-blob",
                "--key",
                "o.pub",
                "--signature",
                "payloadbase64.sig",
                "--insecure-ignore-tlog",
                "payload.json",
            ],
            &[],
            None,
        )
        .ok();
        s.write("tampered.json", "{\"critical\":{}} \n");
        s.run(
            &[
                "verify-blob",
                "--key",
                "o.pub",
                "--signature",
                "payloadbase64.sig",
                "--insecure-ignore-tlog",
                "tampered.json",
            ],
            &[],
            None,
        )
        .fails();
    }
}

#[test]
fn cosign_signatures_verify_with_openssl() {
    for (keygen, dgst) in KINDS {
        let s = Scratch::new();
        s.tool("openssl", keygen);
        s.run(
            &["import-key-pair", "--key", "o.key", "-o", "c"],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .ok();
        s.write("blob", "some bytes to sign\n");
        let sig = s
            .run(
                &["sign-blob", "--key", "c.key", "--tlog-upload=false", "blob"],
                &[("COSIGN_PASSWORD", "pw")],
                None,
            )
            .ok()
            .stdout_text();
        std::fs::write(s.path("sig.bin"), STANDARD.decode(sig.trim()).unwrap()).unwrap();
        let out = match dgst {
            Some(d) => s.tool(
                "openssl",
                &[
                    "dgst",
                    d,
                    "-verify",
                    "c.pub",
                    "-signature",
                    "sig.bin",
                    "blob",
                ],
            ),
            None => s.tool(
                "openssl",
                &[
                    "pkeyutl", "-verify", "-pubin", "-inkey", "c.pub", "-rawin", "-in", "blob",
                    "-sigfile", "sig.bin",
                ],
            ),
        };
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains("Verified OK") || text.contains("Signature Verified Successfully"),
            "{text}"
        );
    }
}
