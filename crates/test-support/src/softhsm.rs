//! Throw-away PKCS#11 tokens ([`SoftHsmToken`]): SoftHSM2 2.6 with a temporary
//! `SOFTHSM2_CONF` and token directory, keys made with OpenSC's `pkcs11-tool`.
//!
//! SoftHSM is a library, so nothing runs in the background: every process that uses the token
//! (the `cosign` binary under test too) must see [`SoftHsmToken::env`] (`SOFTHSM2_CONF`).
//! SoftHSM gives each token a random slot ID; the URIs here name the token by label and slot.
//! Both tools come from `scripts/install-test-deps.sh` (Debian `softhsm2` and `opensc`).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// Where Debian puts the SoftHSM2 module.
pub const SOFTHSM_MODULES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
];

/// A key type `pkcs11-tool --keypairgen` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKeyType {
    /// ECDSA P-256 (`EC:prime256v1`).
    EcP256,
    /// ECDSA P-384 (`EC:secp384r1`).
    EcP384,
    /// RSA 2048 (`rsa:2048`).
    Rsa2048,
}

impl TokenKeyType {
    fn pkcs11_tool_name(self) -> &'static str {
        match self {
            Self::EcP256 => "EC:prime256v1",
            Self::EcP384 => "EC:secp384r1",
            Self::Rsa2048 => "rsa:2048",
        }
    }

    /// The digest `openssl dgst` must use to check this key's cosign signatures.
    pub fn openssl_digest(self) -> &'static str {
        match self {
            Self::EcP256 | Self::Rsa2048 => "-sha256",
            Self::EcP384 => "-sha384",
        }
    }
}

/// A key made on a [`SoftHsmToken`].
#[derive(Clone, Debug)]
pub struct TokenKey {
    /// `CKA_LABEL`.
    pub label: String,
    /// `CKA_ID` as hex (`01`).
    pub id_hex: String,
    /// The key type.
    pub key_type: TokenKeyType,
    /// The public key, PEM (read back from the token).
    pub public_key_pem: String,
}

/// An initialised SoftHSM token in a temp directory, removed on drop.
pub struct SoftHsmToken {
    /// The token label.
    pub label: String,
    /// The user PIN.
    pub pin: String,
    /// The security officer PIN.
    pub so_pin: String,
    /// The slot SoftHSM assigned (random).
    pub slot_id: u64,
    /// The module to load.
    pub module: PathBuf,
    /// The `SOFTHSM2_CONF` file.
    pub conf: PathBuf,
    /// The first key (made by [`SoftHsmToken::new`]).
    pub key: TokenKey,
    dir: TempDir,
}

/// The module path, or a failure telling how to install SoftHSM.
pub fn softhsm_module() -> PathBuf {
    let missing = |what: &str| -> ! {
        panic!("{what} not installed: run scripts/install-test-deps.sh (apt: softhsm2 opensc)")
    };
    if which("softhsm2-util").is_none() {
        missing("softhsm2 (softhsm2-util)");
    }
    if which("pkcs11-tool").is_none() {
        missing("opensc (pkcs11-tool)");
    }
    match SOFTHSM_MODULES.iter().map(Path::new).find(|p| p.exists()) {
        Some(p) => p.to_owned(),
        None => missing("libsofthsm2.so"),
    }
}

fn which(bin: &str) -> Option<PathBuf> {
    ["/usr/bin", "/usr/local/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(bin))
        .find(|p| p.exists())
}

fn check(out: &Output, what: &str) {
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl SoftHsmToken {
    /// A token `cosign-test` (PIN `1234`, SO PIN `5678`) with one key `cosign-key`, id `01`.
    pub fn new(key_type: TokenKeyType) -> Self {
        Self::with_label("cosign-test", key_type)
    }

    /// A token with this label (PIN `1234`) and one key `cosign-key`, id `01`.
    pub fn with_label(label: &str, key_type: TokenKeyType) -> Self {
        let module = softhsm_module();
        let dir = tempfile::Builder::new()
            .prefix("softhsm.")
            .tempdir()
            .expect("temp dir");
        let tokens = dir.path().join("tokens");
        fs::create_dir(&tokens).expect("token dir");
        let conf = dir.path().join("softhsm2.conf");
        fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\nslots.mechanisms = ALL\nlibrary.reset_on_fork = false\n",
                tokens.display()
            ),
        )
        .expect("write softhsm2.conf");
        let pin = "1234".to_owned();
        let so_pin = "5678".to_owned();
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args(["--init-token", "--free", "--label", label, "--pin", &pin])
            .args(["--so-pin", &so_pin])
            .output()
            .expect("run softhsm2-util");
        check(&out, "softhsm2-util --init-token");
        let text = String::from_utf8_lossy(&out.stdout);
        let slot_id = text
            .split("reassigned to slot ")
            .nth(1)
            .and_then(|rest| {
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no slot in softhsm2-util output: {text}"));
        let mut token = Self {
            label: label.to_owned(),
            pin,
            so_pin,
            slot_id,
            module,
            conf,
            key: TokenKey {
                label: String::new(),
                id_hex: String::new(),
                key_type,
                public_key_pem: String::new(),
            },
            dir,
        };
        token.key = token.add_key("cosign-key", "01", key_type);
        token
    }

    /// The environment every process using the token needs: `SOFTHSM2_CONF`.
    pub fn env(&self) -> Vec<(&'static str, OsString)> {
        vec![("SOFTHSM2_CONF", self.conf.clone().into_os_string())]
    }

    /// The temp directory (scratch space for the test too).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn pkcs11_tool(&self) -> Command {
        let mut cmd = Command::new("pkcs11-tool");
        cmd.env("SOFTHSM2_CONF", &self.conf)
            .arg("--module")
            .arg(&self.module)
            .args(["--token-label", &self.label]);
        cmd
    }

    /// Makes another key pair on the token and returns it with its public key.
    pub fn add_key(&self, label: &str, id_hex: &str, key_type: TokenKeyType) -> TokenKey {
        let out = self
            .pkcs11_tool()
            .args(["--login", "--pin", &self.pin, "--keypairgen"])
            .args(["--key-type", key_type.pkcs11_tool_name()])
            .args(["--label", label, "--id", id_hex])
            .output()
            .expect("run pkcs11-tool");
        check(&out, "pkcs11-tool --keypairgen");
        let der = self.dir.path().join(format!("pub-{id_hex}.der"));
        let out = self
            .pkcs11_tool()
            .args(["--read-object", "--type", "pubkey", "--id", id_hex])
            .arg("-o")
            .arg(&der)
            .output()
            .expect("run pkcs11-tool");
        if !out.status.success() {
            // OpenSC 0.23 cannot export P-384 public keys ("cannot create EVP_PKEY"): build the
            // SubjectPublicKeyInfo from the EC_PARAMS and EC_POINT that --list-objects prints.
            let spki = self.ec_spki_from_listing(id_hex).unwrap_or_else(|| {
                check(&out, "pkcs11-tool --read-object");
                unreachable!()
            });
            fs::write(&der, spki).expect("write public key");
        }
        let out = Command::new("openssl")
            .args(["pkey", "-pubin", "-inform", "DER", "-in"])
            .arg(&der)
            .output()
            .expect("run openssl");
        check(&out, "openssl pkey");
        TokenKey {
            label: label.to_owned(),
            id_hex: id_hex.to_owned(),
            key_type,
            public_key_pem: String::from_utf8(out.stdout).expect("PEM"),
        }
    }

    /// The DER SubjectPublicKeyInfo of EC public key `id_hex`, from `pkcs11-tool -O` output.
    fn ec_spki_from_listing(&self, id_hex: &str) -> Option<Vec<u8>> {
        let out = self
            .pkcs11_tool()
            .args(["--list-objects", "--type", "pubkey"])
            .output()
            .expect("run pkcs11-tool");
        let text = String::from_utf8_lossy(&out.stdout);
        let block = text.split("Public Key Object;").find(|b| {
            b.lines()
                .any(|l| l.trim() == format!("ID:         {id_hex}"))
        })?;
        let field = |name: &str| -> Option<Vec<u8>> {
            let line = block.lines().find(|l| l.trim_start().starts_with(name))?;
            hex::decode(line.trim_start()[name.len()..].trim()).ok()
        };
        let params = field("EC_PARAMS:")?;
        let wrapped = field("EC_POINT:")?;
        // EC_POINT is a DER OCTET STRING around the uncompressed point.
        let point = match wrapped.get(1) {
            Some(&l) if l < 0x80 => wrapped.get(2..)?,
            Some(&0x81) => wrapped.get(3..)?,
            _ => return None,
        };
        let tlv = |tag: u8, content: &[u8]| -> Vec<u8> {
            let mut v = vec![tag];
            if content.len() < 0x80 {
                v.push(content.len() as u8);
            } else {
                v.extend([0x81, content.len() as u8]);
            }
            v.extend_from_slice(content);
            v
        };
        let mut alg = vec![0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
        alg.extend(params);
        let mut bits = vec![0u8];
        bits.extend_from_slice(point);
        let mut body = tlv(0x30, &alg);
        body.extend(tlv(0x03, &bits));
        Some(tlv(0x30, &body))
    }

    /// Writes a DER certificate onto the token with this id and label.
    pub fn import_certificate(&self, cert_der: &[u8], id_hex: &str, label: &str) {
        let path = self.dir.path().join(format!("cert-{id_hex}.der"));
        fs::write(&path, cert_der).expect("write certificate");
        let out = self
            .pkcs11_tool()
            .args(["--login", "--pin", &self.pin, "--write-object"])
            .arg(&path)
            .args(["--type", "cert", "--id", id_hex, "--label", label])
            .output()
            .expect("run pkcs11-tool");
        check(&out, "pkcs11-tool --write-object --type cert");
    }

    /// A certificate for `key` (its public key, `CN=<label>`), signed by a throw-away CA made
    /// with openssl. Returns `(certificate DER, certificate PEM)`.
    pub fn certificate_for(&self, key: &TokenKey) -> (Vec<u8>, String) {
        let d = self.dir.path();
        let pub_pem = d.join(format!("pub-{}.pem", key.id_hex));
        fs::write(&pub_pem, &key.public_key_pem).expect("write public key");
        let ca_key = d.join("ca.key");
        let ca_pem = d.join("ca.pem");
        if !ca_pem.exists() {
            run_openssl(&[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "3650",
                "-subj",
                "/CN=softhsm test CA",
                "-keyout",
                path_str(&ca_key),
                "-out",
                path_str(&ca_pem),
            ]);
        }
        let csr = d.join(format!("cert-{}.csr", key.id_hex));
        run_openssl(&[
            "req",
            "-new",
            "-key",
            path_str(&ca_key),
            "-subj",
            &format!("/CN={}", key.label),
            "-out",
            path_str(&csr),
        ]);
        let cert_pem = d.join(format!("cert-{}.pem", key.id_hex));
        run_openssl(&[
            "x509",
            "-req",
            "-in",
            path_str(&csr),
            "-CA",
            path_str(&ca_pem),
            "-CAkey",
            path_str(&ca_key),
            "-CAcreateserial",
            "-days",
            "3650",
            "-force_pubkey",
            path_str(&pub_pem),
            "-out",
            path_str(&cert_pem),
        ]);
        let cert_der = d.join(format!("cert-{}.crt.der", key.id_hex));
        run_openssl(&[
            "x509",
            "-in",
            path_str(&cert_pem),
            "-outform",
            "DER",
            "-out",
            path_str(&cert_der),
        ]);
        (
            fs::read(&cert_der).expect("read certificate"),
            fs::read_to_string(&cert_pem).expect("read certificate"),
        )
    }

    /// A self-signed certificate of an unrelated key (for the mismatch case), DER.
    pub fn unrelated_certificate(&self) -> Vec<u8> {
        let d = self.dir.path();
        let key = d.join("other.key");
        let der = d.join("other.der");
        run_openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            "/CN=someone else",
            "-keyout",
            path_str(&key),
            "-outform",
            "DER",
            "-out",
            path_str(&der),
        ]);
        fs::read(&der).expect("read certificate")
    }

    /// `pkcs11:token=..;slot-id=..;id=%..;object=..?module-path=..` for a key (no PIN).
    pub fn uri_without_pin_for(&self, key: &TokenKey) -> String {
        let id: String = key
            .id_hex
            .as_bytes()
            .chunks(2)
            .map(|c| format!("%{}", String::from_utf8_lossy(c)))
            .collect();
        format!(
            "pkcs11:token={};slot-id={};id={id};object={}?module-path={}",
            self.label,
            self.slot_id,
            key.label,
            self.module.display()
        )
    }

    /// The first key's URI without the PIN.
    pub fn uri_without_pin(&self) -> String {
        self.uri_without_pin_for(&self.key)
    }

    /// The first key's URI with `&pin-value=<PIN>`.
    pub fn uri(&self) -> String {
        format!("{}&pin-value={}", self.uri_without_pin(), self.pin)
    }

    /// Writes the first key's public key PEM to a file in the token dir and returns its path.
    pub fn public_key_file(&self) -> PathBuf {
        let p = self.dir.path().join("cosign-token.pub");
        fs::write(&p, &self.key.public_key_pem).expect("write public key");
        p
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

fn run_openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    check(
        &out,
        &format!("openssl {}", args.first().copied().unwrap_or("")),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_a_token_with_keys_and_a_certificate() {
        let token = SoftHsmToken::new(TokenKeyType::EcP256);
        assert!(token.slot_id > 0);
        assert!(
            token
                .key
                .public_key_pem
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        assert!(
            token
                .uri()
                .contains(";id=%01;object=cosign-key?module-path=")
        );
        let rsa = token.add_key("rsa-key", "02", TokenKeyType::Rsa2048);
        assert!(rsa.public_key_pem.len() > token.key.public_key_pem.len());
        let (der, pem) = token.certificate_for(&token.key);
        assert!(pem.contains("BEGIN CERTIFICATE"));
        token.import_certificate(&der, "01", "cosign-key");
    }
}
