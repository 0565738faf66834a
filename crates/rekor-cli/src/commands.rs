//! The commands. Each returns the text the Go rekor-cli prints on stdout (its `String()` for
//! `--format default`, `json.Marshal` for `--format json`); informational lines go to stderr
//! as the Go tool's logger writes them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::PublicKey;
use cosign_tlog::checkpoint::verify_note;
use cosign_tlog::merkle::{node_hash, verify_inclusion};
use cosign_tlog::{LogEntry, RekorClient, SearchQuery, TlogError, entry, set};
use serde_json::Value;

use crate::ArtifactArgs;
use crate::input::{is_url, parse_sha, read_small, sha256_of, signature_bytes};
use crate::output::{GoValue, compact, indented, rfc3339};

/// What every command needs.
pub struct Ctx {
    /// The server URL as given (printed back verbatim, like the Go tool).
    pub server: String,
    /// `default`, `json` or `tle`.
    pub format: String,
    /// HTTP timeout.
    pub timeout: Duration,
    /// `--rekor_server_public_key`.
    pub server_key: Option<PathBuf>,
}

impl Ctx {
    fn client(&self) -> Result<RekorClient> {
        let ua = format!(
            "rekor-cli/v{} ({}; {})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        Ok(RekorClient::new(&self.server, self.timeout, &ua)?)
    }

    fn json(&self) -> bool {
        self.format == "json"
    }

    fn tle(&self) -> bool {
        self.format == "tle"
    }

    /// The log's key: `--rekor_server_public_key`, else the server's `/api/v1/log/publicKey`.
    async fn log_key(&self, client: &RekorClient) -> Result<PublicKey> {
        match &self.server_key {
            Some(path) => {
                let pem =
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                PublicKey::from_pem(&pem).context("failed to decode public key of server")
            }
            None => Ok(client
                .public_key(None)
                .await
                .context("retrieving rekor public key")?),
        }
    }

    /// Text output: `String()`; json: `json.Marshal` plus newline; tle: not for this command.
    fn render(&self, text: String, json: &GoValue) -> Result<String> {
        if self.tle() {
            bail!("unable to print transparency log entry");
        }
        Ok(if self.json() {
            format!("{}\n", compact(json))
        } else {
            text
        })
    }
}

/// Rekor's `verify.VerifyLogEntry`: inclusion proof, checkpoint signed by the log key with the
/// proof's root, and SET; plus the body's leaf hash against the UUID. `upload` (like the Go
/// tool) accepts an answer without an inclusion proof; `get` and `verify` require one.
fn verify_log_entry(e: &LogEntry, key: &PublicKey, require_proof: bool) -> Result<()> {
    let leaf = e.leaf_hash();
    if !e.uuid.is_empty() && !e.uuid.to_ascii_lowercase().ends_with(&hex::encode(leaf)) {
        bail!(
            "the entry UUID {} does not match the leaf hash {} of its body",
            e.uuid,
            hex::encode(leaf)
        );
    }
    match &e.inclusion_proof {
        Some(proof) => {
            let index = u64::try_from(proof.log_index).context("negative inclusion proof index")?;
            let size = u64::try_from(proof.tree_size).context("negative tree size")?;
            verify_inclusion(index, size, &leaf, &proof.hashes, &proof.root_hash)?;
            let checkpoint = verify_note(&proof.checkpoint, key)?;
            if checkpoint.root_hash != proof.root_hash || checkpoint.size != size {
                bail!("proof root hash does not match signed tree head");
            }
        }
        None if require_proof => bail!("inclusion proof not provided"),
        None => {}
    }
    let sig = e
        .signed_entry_timestamp
        .as_ref()
        .ok_or_else(|| anyhow!("signature not provided"))?;
    let payload = set::payload(
        &STANDARD.encode(&e.body),
        e.integrated_time,
        &e.log_id,
        e.log_index,
    );
    set::verify(&payload, sig, key)?;
    Ok(())
}

/// The Go type's field name under which `get` prints an entry kind's body.
fn body_key(kind: &str) -> &'static str {
    match kind {
        "hashedrekord" => "HashedRekordObj",
        "rekord" => "RekordObj",
        "dsse" => "DSSEObj",
        "intoto" => "IntotoObj",
        "rpm" => "RPMModel",
        "jar" => "JARModel",
        "alpine" => "AlpineModel",
        "helm" => "HelmObj",
        "cose" => "CoseObj",
        "tuf" => "TufObj",
        "rfc3161" => "Rfc3161Obj",
        _ => "Obj",
    }
}

/// `{"<Kind>Obj": spec}` as the Go tool prints the decoded body.
fn body_value(body: &[u8]) -> Result<GoValue> {
    let v: Value = serde_json::from_slice(body).context("decoding the entry body")?;
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("the entry body has no kind"))?;
    let spec = v
        .get("spec")
        .cloned()
        .ok_or_else(|| anyhow!("the entry body has no spec"))?;
    Ok(GoValue::Struct(vec![(body_key(kind), GoValue::Json(spec))]))
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `rekor-cli get`.
pub async fn get(ctx: &Ctx, uuid: Option<&str>, log_index: Option<u64>) -> Result<String> {
    if uuid.is_none() && log_index.is_none() {
        bail!("either --uuid or --log-index must be specified");
    }
    let client = ctx.client()?;
    let key = ctx.log_key(&client).await?;
    let e = match log_index {
        Some(index) => client.get_entry_by_index(as_i64(index)).await?,
        None => client.get_entry(uuid.unwrap_or_default()).await?,
    };
    verify_log_entry(&e, &key, true).context("unable to verify entry was added to log")?;
    if ctx.tle() {
        let tle = e.to_bundle_entry()?;
        return Ok(format!("{}\n", serde_json::to_string(&tle)?));
    }
    let body = body_value(&e.body)?;
    let mut text = format!("LogID: {}\n", e.log_id);
    text.push_str(&format!("Index: {}\n", e.log_index));
    text.push_str(&format!("IntegratedTime: {}\n", rfc3339(e.integrated_time)));
    text.push_str(&format!("UUID: {}\n", e.uuid));
    text.push_str(&format!("Body: {}\n", indented(&body)));
    let json = GoValue::Struct(vec![
        ("Attestation", GoValue::Str(String::new())),
        ("AttestationType", GoValue::Str(String::new())),
        ("Body", body),
        ("LogIndex", GoValue::Int(e.log_index)),
        ("IntegratedTime", GoValue::Int(e.integrated_time)),
        ("UUID", GoValue::Str(e.uuid.clone())),
        ("LogID", GoValue::Str(e.log_id.clone())),
    ]);
    ctx.render(text, &json)
}

/// The search flags.
pub struct SearchOptions {
    pub artifact: Option<String>,
    pub sha: Option<String>,
    pub public_key: Option<String>,
    pub pki_format: String,
    pub email: Option<String>,
    pub operator: Option<String>,
}

/// `rekor-cli search`.
pub async fn search(ctx: &Ctx, opts: &SearchOptions) -> Result<String> {
    if opts.artifact.is_none()
        && opts.public_key.is_none()
        && opts.sha.is_none()
        && opts.email.is_none()
    {
        bail!("either 'sha' or 'artifact' or 'public-key' or 'email' must be specified");
    }
    if opts.email.is_some() {
        bail!("searching by email is not supported by this rekor-cli");
    }
    let mut query = SearchQuery {
        operator: opts.operator.clone(),
        ..SearchQuery::default()
    };
    if let Some(sha) = &opts.sha {
        query.hash = Some(parse_sha(sha)?);
    } else if let Some(artifact) = &opts.artifact {
        query.hash = Some(sha256_of(artifact, ctx.timeout).await?);
    }
    if let Some(key) = &opts.public_key {
        if !matches!(
            opts.pki_format.as_str(),
            "pgp" | "minisign" | "x509" | "ssh" | "tuf"
        ) {
            bail!("unknown pki-format {}", opts.pki_format);
        }
        if key.contains(',') {
            bail!("only one public key must be provided");
        }
        let content = read_small(key, "public key", ctx.timeout)
            .await
            .context("error reading public key file")?;
        query.public_key = Some((opts.pki_format.clone(), content));
    }
    let client = ctx.client()?;
    let uuids = match client.search_index(&query).await {
        Ok(u) => u,
        Err(TlogError::Status { status: 501, .. }) => {
            bail!("search index not enabled on {}", ctx.server)
        }
        Err(e) => return Err(e.into()),
    };
    if uuids.is_empty() {
        bail!("no matching entries found");
    }
    if !ctx.json() {
        crate::info("Found matching entries (listed by UUID):");
    }
    let text = format!("{}\n", uuids.join("\n"));
    let json = GoValue::Struct(vec![(
        "UUIDs",
        GoValue::List(uuids.into_iter().map(GoValue::Str).collect()),
    )]);
    ctx.render(text, &json)
}

/// `type(:version)?` of the supported kinds.
fn parse_type(text: &str) -> Result<&'static str> {
    let (kind, version) = match text.split_once(':') {
        Some((k, v)) => (k, Some(v)),
        None => (text, None),
    };
    let (name, supported) = match kind {
        "hashedrekord" => ("hashedrekord", "0.0.1"),
        "dsse" => ("dsse", "0.0.1"),
        "intoto" => ("intoto", "0.0.2"),
        "rekord" | "rpm" | "jar" | "alpine" | "helm" | "cose" | "tuf" | "rfc3161" => {
            bail!(
                "type {kind} is not supported by this rekor-cli (supported: hashedrekord, dsse, intoto)"
            )
        }
        other => bail!("unknown type {other}"),
    };
    if let Some(v) = version {
        if v != supported {
            bail!("type {name} does not support version {v}");
        }
    }
    Ok(name)
}

/// The proposed entry described by the artifact flags.
async fn proposed_entry(ctx: &Ctx, a: &ArtifactArgs) -> Result<Value> {
    if let Some(path) = &a.entry {
        let data = read_small(path, "entry", ctx.timeout)
            .await
            .context("error processing entry file")?;
        return serde_json::from_slice(&data).context("error parsing entry file");
    }
    if a.artifact.is_none() && a.artifact_hash.is_none() {
        bail!("either 'entry' or 'artifact' or 'artifact-hash' must be specified");
    }
    let kind = parse_type(&a.kind)?;
    if a.pki_format != "x509" {
        bail!(
            "pki-format {} is not supported by this rekor-cli (only x509)",
            a.pki_format
        );
    }
    let mut keys = Vec::new();
    for path in &a.public_key {
        keys.push(
            read_small(path, "public key", ctx.timeout)
                .await
                .context("error reading public key file")?,
        );
    }
    match kind {
        "hashedrekord" => {
            let digest = match (&a.artifact_hash, &a.artifact) {
                (Some(h), _) => parse_sha(h)?,
                (None, Some(artifact)) => sha256_of(artifact, ctx.timeout).await?,
                (None, None) => bail!("an artifact or its hash must be provided"),
            };
            let sig_path = a
                .signature
                .as_ref()
                .ok_or_else(|| anyhow!("a detached signature must be provided"))?;
            let sig = signature_bytes(
                read_small(sig_path, "signature", ctx.timeout)
                    .await
                    .context("error reading signature file")?,
            );
            let [key] = keys.as_slice() else {
                bail!("only one public key must be provided to verify detached signature");
            };
            Ok(entry::hashedrekord(&digest, &sig, key))
        }
        _ => {
            let path = a
                .artifact
                .as_ref()
                .ok_or_else(|| anyhow!("path to artifact file must be specified"))?;
            if is_url(path) {
                bail!("{kind} envelopes cannot be fetched over HTTP(S)");
            }
            let envelope = read_small(path, "envelope", ctx.timeout).await?;
            if keys.is_empty() {
                bail!("a public key must be provided");
            }
            if kind == "dsse" {
                let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
                Ok(entry::dsse(&envelope, &refs))
            } else {
                let [key] = keys.as_slice() else {
                    bail!("only one public key must be provided");
                };
                Ok(entry::intoto(&envelope, key))
            }
        }
    }
}

/// `rekor-cli upload`.
pub async fn upload(ctx: &Ctx, a: &ArtifactArgs) -> Result<String> {
    let proposed = proposed_entry(ctx, a).await?;
    let client = ctx.client()?;
    let (already, location, index) = match client.create_entry(&proposed).await {
        Ok(e) => {
            let key = ctx.log_key(&client).await?;
            verify_log_entry(&e, &key, false).context("unable to verify entry was added to log")?;
            (
                false,
                format!("/api/v1/log/entries/{}", e.uuid),
                e.log_index,
            )
        }
        Err(TlogError::AlreadyExists { uuid }) => (true, format!("/api/v1/log/entries/{uuid}"), 0),
        Err(e) => return Err(e.into()),
    };
    let text = if already {
        format!(
            "Entry already exists; available at: {}{location}\n",
            ctx.server
        )
    } else {
        format!(
            "Created entry at index {index}, available at: {}{location}\n",
            ctx.server
        )
    };
    let json = GoValue::Struct(vec![
        ("AlreadyExists", GoValue::Bool(already)),
        ("Location", GoValue::Str(location)),
        ("Index", GoValue::Int(index)),
    ]);
    ctx.render(text, &json)
}

/// `rekor-cli verify`.
pub async fn verify(
    ctx: &Ctx,
    a: &ArtifactArgs,
    uuid: Option<&str>,
    log_index: Option<u64>,
) -> Result<String> {
    let client = ctx.client()?;
    let found = if let Some(uuid) = uuid {
        client.retrieve_by(&[uuid.to_owned()], &[]).await?
    } else if let Some(index) = log_index {
        client.retrieve_by(&[], &[as_i64(index)]).await?
    } else {
        let proposed = proposed_entry(ctx, a).await?;
        client.retrieve_entries(&[proposed]).await?
    };
    let e = match found.as_slice() {
        [] => bail!("entry in log cannot be located"),
        [e] => e,
        _ => bail!("multiple entries returned; this should not happen"),
    };
    if let Some(uuid) = uuid {
        let tail = |s: &str| s[s.len().saturating_sub(64)..].to_ascii_lowercase();
        let tree_differs = uuid.len() == 80
            && e.uuid.len() == 80
            && !uuid[..16].eq_ignore_ascii_case(&e.uuid[..16]);
        if tail(uuid) != tail(&e.uuid) || tree_differs {
            bail!(
                "unexpected entry returned from rekor server: expected {uuid}, got {}",
                e.uuid
            );
        }
    }
    let key = ctx.log_key(&client).await?;
    verify_log_entry(e, &key, true).context("validating entry")?;
    let proof = e
        .inclusion_proof
        .as_ref()
        .ok_or_else(|| anyhow!("inclusion proof not provided"))?;
    let root = hex::encode(proof.root_hash);
    let hashes: Vec<String> = proof.hashes.iter().map(hex::encode).collect();
    let mut text = format!("Current Root Hash: {root}\n");
    text.push_str(&format!("Entry Hash: {}\n", e.uuid));
    text.push_str(&format!("Entry Index: {}\n", e.log_index));
    text.push_str(&format!("Current Tree Size: {}\n", proof.tree_size));
    if proof.checkpoint.is_empty() {
        text.push('\n');
    } else {
        text.push_str(&format!("Checkpoint:\n{}\n\n", proof.checkpoint));
    }
    text.push_str("Inclusion Proof:\n");
    text.push_str(&proof_steps(
        e.log_index,
        proof.tree_size,
        &e.uuid,
        &proof.hashes,
    ));
    let json = GoValue::Struct(vec![
        ("RootHash", GoValue::Str(root)),
        ("EntryUUID", GoValue::Str(e.uuid.clone())),
        ("Index", GoValue::Int(e.log_index)),
        ("Size", GoValue::Int(proof.tree_size)),
        (
            "Hashes",
            GoValue::List(hashes.into_iter().map(GoValue::Str).collect()),
        ),
        ("Checkpoint", GoValue::Str(proof.checkpoint.clone())),
    ]);
    ctx.render(text, &json)
}

/// The hash steps the Go tool prints after "Inclusion Proof:", computed as it does (starting
/// from the hex of the printed entry ID, and with the entry's global index).
fn proof_steps(index: i64, size: i64, uuid: &str, hashes: &[[u8; 32]]) -> String {
    let mut out = String::new();
    let inner = 64 - ((index ^ size.wrapping_sub(1)) as u64).leading_zeros() as usize;
    let mut result: Vec<u8> = hex::decode(uuid).unwrap_or_default();
    for (i, h) in hashes.iter().enumerate() {
        let (left, right) = if i < inner && (index >> i) & 1 == 0 {
            (result.clone(), h.to_vec())
        } else {
            (h.to_vec(), result.clone())
        };
        let next = node_hash_any(&left, &right);
        out.push_str(&format!(
            "SHA256(0x01 | {} | {}) =\n\t{}\n\n",
            hex::encode(&left),
            hex::encode(&right),
            hex::encode(next)
        ));
        result = next.to_vec();
    }
    out
}

/// `SHA256(0x01 || left || right)` for inputs of any length (the printout may start from a
/// 40-byte entry ID).
fn node_hash_any(left: &[u8], right: &[u8]) -> [u8; 32] {
    match (<[u8; 32]>::try_from(left), <[u8; 32]>::try_from(right)) {
        (Ok(l), Ok(r)) => node_hash(&l, &r),
        _ => {
            let mut data = vec![1u8];
            data.extend_from_slice(left);
            data.extend_from_slice(right);
            let d = cosign_crypto::hash(cosign_types::HashAlgorithm::Sha256, &data);
            let mut out = [0u8; 32];
            out.copy_from_slice(d.as_bytes());
            out
        }
    }
}

/// `rekor-cli loginfo` (the consistency check against stored state is not done).
pub async fn loginfo(ctx: &Ctx) -> Result<String> {
    let client = ctx.client()?;
    let info = client.log_info().await?;
    let key = ctx.log_key(&client).await?;
    let verify_tree = |sth: &str, root: &[u8; 32], size: u64| -> Result<()> {
        let checkpoint =
            verify_note(sth, &key).map_err(|_| anyhow!("signature on tree head did not verify"))?;
        if &checkpoint.root_hash != root || checkpoint.size != size {
            bail!("the signed tree head does not match the log info");
        }
        crate::info("No previous log state stored, unable to prove consistency");
        Ok(())
    };
    if !info.inactive_shards.is_empty() {
        crate::info("Validating inactive shards...");
        for shard in &info.inactive_shards {
            verify_tree(&shard.signed_tree_head, &shard.root_hash, shard.tree_size)
                .with_context(|| format!("verifying inactive shard with ID {}", shard.tree_id))?;
        }
        crate::info("Successfully validated inactive shards");
    }
    verify_tree(&info.signed_tree_head, &info.root_hash, info.tree_size)?;
    let total: u64 = info
        .inactive_shards
        .iter()
        .fold(info.tree_size, |acc, s| acc.saturating_add(s.tree_size));
    let root = hex::encode(info.root_hash);
    let text = format!(
        "Verification Successful!\nActive Tree Size:       {}\nTotal Tree Size:        {}\nRoot Hash:              {}\nTreeID:                 {}\n",
        info.tree_size, total, root, info.tree_id
    );
    let json = GoValue::Struct(vec![
        ("ActiveTreeSize", GoValue::Int(as_i64(info.tree_size))),
        ("TotalTreeSize", GoValue::Int(as_i64(total))),
        ("RootHash", GoValue::Str(root)),
        ("TreeID", GoValue::Str(info.tree_id.clone())),
    ]);
    ctx.render(text, &json)
}

/// `rekor-cli logproof`.
pub async fn logproof(
    ctx: &Ctx,
    first: u64,
    last: Option<u64>,
    tree_id: Option<&str>,
) -> Result<String> {
    if first == 0 {
        bail!("first-size must be > 0");
    }
    let Some(last) = last else {
        bail!("last-size must be specified");
    };
    if last == 0 {
        bail!("last-size must be > 0");
    }
    if first > last {
        bail!("last-size must be >= to first-size");
    }
    let client = ctx.client()?;
    let proof = client.consistency_proof(first, last, tree_id).await?;
    let root = hex::encode(proof.root_hash);
    let hashes: Vec<String> = proof.hashes.iter().map(hex::encode).collect();
    let text = format!(
        "Current Root Hash: {root}\nHashes: [{}]\n",
        hashes.join(",")
    );
    let json = GoValue::Struct(vec![
        ("RootHash", GoValue::Str(root)),
        (
            "Hashes",
            GoValue::List(hashes.into_iter().map(GoValue::Str).collect()),
        ),
    ]);
    ctx.render(text, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        assert_eq!(parse_type("hashedrekord").unwrap(), "hashedrekord");
        assert_eq!(parse_type("hashedrekord:0.0.1").unwrap(), "hashedrekord");
        assert_eq!(parse_type("intoto:0.0.2").unwrap(), "intoto");
        assert!(parse_type("intoto:0.0.1").is_err());
        assert!(parse_type("rekord").is_err());
        assert!(parse_type("nope").is_err());
    }

    #[test]
    fn proof_steps_reach_the_root() {
        use cosign_tlog::merkle::{MerkleTree, leaf_hash};
        let mut tree = MerkleTree::new();
        for i in 0..11u8 {
            tree.push(leaf_hash(&[i]));
        }
        let proof = tree.inclusion_proof(6, 11).unwrap();
        let uuid = hex::encode(tree.leaf(6).unwrap());
        let steps = proof_steps(6, 11, &uuid, &proof);
        assert!(steps.ends_with(&format!("\t{}\n\n", hex::encode(tree.root()))));
        assert_eq!(steps.matches("SHA256(0x01 | ").count(), proof.len());
    }

    #[test]
    fn body_keys() {
        let v = body_value(br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"b":1,"a":2}}"#)
            .unwrap();
        assert_eq!(compact(&v), r#"{"HashedRekordObj":{"a":2,"b":1}}"#);
        assert!(body_value(b"{}").is_err());
    }
}
