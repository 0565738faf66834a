//! `tlog-server check`: verifies a data directory offline, changing nothing. Every frame's
//! framing and checksum, every body (parses as a log entry, leaf hash unique), every stored SET
//! (verifies with the log key), and the tree against the stored signed tree head (size, root,
//! signature).
//!
//! Exit status: [`CLEAN`] all good; [`TORN_TAIL`] all good except a torn tail after the last
//! acknowledged entry (the server cuts it on its next start, losing nothing acknowledged);
//! [`DAMAGED`] damage, rollback or fork: the server refuses to start.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine;
use cosign_crypto::PublicKey;

use crate::datadir::DataDir;
use crate::tlog::{self, Tree};
use crate::wal::{self, OpenError};

/// Exit status: the log is intact.
pub const CLEAN: u8 = 0;
/// Exit status: damage, rollback or fork; the server will refuse to start.
pub const DAMAGED: u8 = 1;
/// Exit status: intact but for a torn, unacknowledged tail the server will cut.
pub const TORN_TAIL: u8 = 3;

/// What the check found.
#[derive(Debug, Default)]
pub struct Report {
    /// One line per finding, in order.
    pub lines: Vec<String>,
    /// Problems that make the server refuse to start.
    pub problems: usize,
    /// Whether there is a torn tail the server will cut.
    pub torn_tail: bool,
}

impl Report {
    fn info(&mut self, line: String) {
        self.lines.push(line);
    }

    fn problem(&mut self, line: String) {
        self.problems += 1;
        self.lines.push(format!("PROBLEM: {line}"));
    }

    /// The exit status.
    pub fn status(&self) -> u8 {
        if self.problems > 0 {
            DAMAGED
        } else if self.torn_tail {
            TORN_TAIL
        } else {
            CLEAN
        }
    }
}

/// Checks `dir` with `key` (the v1 log's public key): the v1 log, then the Rekor v2 log in
/// `DIR/v2` (see [`check_v2`]).
pub fn check(dir: &DataDir, key: &PublicKey) -> Result<Report> {
    let mut r = Report::default();
    r.info("Rekor v1 log:".to_owned());
    check_v1(&mut r, dir, key)?;
    let head_required = dir.existing_identity()?.is_some_and(|id| id.v2_tree_head);
    check_v2(&mut r, &crate::v2::dir_of(dir.path()), head_required)?;
    r.info(match r.status() {
        CLEAN => "OK: the log is intact".to_owned(),
        TORN_TAIL => "OK: intact but for a torn unacknowledged tail (exit status 3)".to_owned(),
        _ => format!(
            "FAILED: {} problem(s); tlog-server refuses to start on this directory",
            r.problems
        ),
    });
    Ok(r)
}

fn check_v1(r: &mut Report, dir: &DataDir, key: &PublicKey) -> Result<()> {
    let log_id = hex::encode(key.hint());
    let path = dir.entries_path();
    let head = match dir.load_head() {
        Ok(h) => h,
        Err(e) => {
            r.problem(format!("{e:#}"));
            None
        }
    };
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && head.is_none() => {
            r.info(format!(
                "{}: no entry log yet (an empty log)",
                path.display()
            ));
            return Ok(());
        }
        Err(e) => return Err(e).with_context(|| format!("opening {}", path.display())),
    };

    let mut tree = Tree::new();
    let mut leaves: HashMap<tlog::Hash, u64> = HashMap::new();
    let mut ends = Vec::new();
    let (mut bad_bodies, mut bad_sets, mut legacy, mut dups) = (0u64, 0u64, 0u64, 0u64);
    let mut first_bad: Vec<String> = Vec::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    let scan = wal::scan(&file, |rec| {
        let index = tree.size();
        let leaf = tlog::leaf_hash(rec.body);
        tree.push(leaf);
        ends.push(rec.end);
        if leaves.insert(leaf, index).is_some() {
            dups += 1;
        }
        if cosign_tlog::entry::Body::parse(rec.body).is_err() {
            bad_bodies += 1;
            if first_bad.len() < 5 {
                first_bad.push(format!("entry {index}: the body is not a log entry"));
            }
        }
        match rec.set {
            None => legacy += 1,
            Some(set) => {
                let payload = cosign_tlog::set::payload(
                    &b64.encode(rec.body),
                    rec.integrated_time,
                    &log_id,
                    i64::try_from(index).unwrap_or(i64::MAX),
                );
                let ok = b64
                    .decode(set)
                    .ok()
                    .is_some_and(|sig| cosign_tlog::set::verify(&payload, &sig, key).is_ok());
                if !ok {
                    bad_sets += 1;
                    if first_bad.len() < 5 {
                        first_bad.push(format!("entry {index}: the stored SET does not verify"));
                    }
                }
            }
        }
    });
    let scan = match scan {
        Ok(s) => s,
        Err(OpenError::Foreign) => {
            r.problem(format!("{} is not a tlog-server entry log", path.display()));
            return Ok(());
        }
        Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
    };
    r.info(format!(
        "{}: {} intact entries in {} of {} bytes{}",
        path.display(),
        scan.records,
        scan.intact_len,
        scan.file_len,
        if scan.v1 {
            " (TLOGWAL1: relabelled on the next start)"
        } else {
            ""
        }
    ));
    for line in first_bad {
        r.problem(line);
    }
    if bad_bodies > 0 || bad_sets > 0 {
        r.problem(format!(
            "{bad_bodies} bodies that are not log entries, {bad_sets} SETs that do not verify"
        ));
    }
    if dups > 0 {
        r.problem(format!(
            "{dups} entries repeat an earlier entry's leaf hash"
        ));
    }
    if legacy > 0 {
        r.info(format!(
            "{legacy} entries from before SETs were stored (signed on first read)"
        ));
    }

    let ack_end = head.as_ref().map_or(scan.file_len, |h| h.log_offset);
    if let Some(d) = &scan.damage {
        if d.offset >= ack_end && head.is_some() {
            r.torn_tail = true;
            r.info(format!(
                "torn tail at byte offset {} ({}): {} bytes after the last acknowledged entry; \
                 the server cuts them on its next start (nothing acknowledged is lost)",
                d.offset,
                d.reason,
                scan.file_len - d.offset
            ));
        } else {
            r.problem(format!(
                "damaged record at byte offset {} ({}) inside the acknowledged log (which ends \
                 at byte offset {ack_end}); {} bytes from there on are unreadable. Restore the \
                 data directory from a backup",
                d.offset,
                d.reason,
                scan.file_len - d.offset
            ));
        }
    }

    match &head {
        None => r.info(format!(
            "{}: no stored signed tree head (a new directory, or one from an older \
             tlog-server: the next start stores one)",
            dir.head_path().display()
        )),
        Some(h) => {
            r.info(format!(
                "stored signed tree head: size {}, root {}, entry log offset {}",
                h.size, h.root_hash, h.log_offset
            ));
            if let Err(e) = h.verify(key) {
                r.problem(format!("{e:#}"));
            }
            let boundary = if h.size == 0 {
                wal::MAGIC.len() as u64
            } else {
                usize::try_from(h.size - 1)
                    .ok()
                    .and_then(|i| ends.get(i))
                    .copied()
                    .unwrap_or(0)
            };
            if tree.size() < h.size {
                r.problem(format!(
                    "only {} intact entries but the stored signed tree head has {}: entries \
                     were lost (damage, truncation or a rollback to an older entry log)",
                    tree.size(),
                    h.size
                ));
            } else if boundary != h.log_offset {
                r.problem(format!(
                    "entry {} ends at byte offset {boundary}, not at the stored head's {}: \
                     the entry log was replaced",
                    h.size, h.log_offset
                ));
            } else {
                match (tree.root_at(h.size), h.root()) {
                    (Ok(root), Ok(want)) if root == want => r.info(format!(
                        "the tree of the first {} entries matches the stored signed tree head",
                        h.size
                    )),
                    (Ok(root), _) => r.problem(format!(
                        "the tree of the first {} entries has root {}, not the stored signed \
                         tree head's {}: a fork",
                        h.size,
                        hex::encode(root),
                        h.root_hash
                    )),
                    (Err(e), _) => r.problem(format!("computing the root: {e}")),
                }
            }
        }
    }
    Ok(())
}

/// Checks the Rekor v2 log in `v2_dir` (`DATA/v2`), changing nothing: the stored signed tree
/// head (`tree-head.slots`: signature, and the entry log holds its tree: no rollback, no
/// fork), every frame of `entries.log` (damage in the acknowledged part is a problem, a torn
/// tail after it is not), every body (an entry, leaf hash unique), the published checkpoint
/// (`tiles/checkpoint`, a second witness: its tree must be a prefix of the log's) and every
/// tile (derived data: a missing or different one is rewritten on the next start).
/// `head_required`: `log.json` says the directory has kept a v2 head before.
pub fn check_v2(r: &mut Report, v2_dir: &Path, head_required: bool) -> Result<()> {
    use crate::v2::{log as v2log, store, tiles};
    r.info(format!("Rekor v2 log ({}):", v2_dir.display()));
    let key_path = v2_dir.join(crate::v2::KEY_FILE);
    let key = match std::fs::read(&key_path) {
        Ok(pem) => cosign_crypto::PrivateKey::from_pem(&pem)
            .with_context(|| format!("reading the v2 log key {}", key_path.display()))?
            .public_key(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            r.info(format!(
                "{}: no v2 log key yet (the v2 log was never started)",
                key_path.display()
            ));
            return Ok(());
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", key_path.display())),
    };
    let path = v2_dir.join(v2log::ENTRIES_FILE);
    let head_path = v2_dir.join(crate::head::HEAD_FILE);
    let head = match crate::head::load(v2_dir) {
        Ok(h) => h,
        Err(e) => {
            r.problem(format!("{e:#}"));
            return Ok(());
        }
    };
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    match &head {
        None if head_required && !data.is_empty() => r.problem(format!(
            "{} is missing but {} holds entries and log.json says the v2 log keeps a stored \
             head: without it a rollback or fork cannot be detected",
            head_path.display(),
            path.display()
        )),
        None => r.info(format!(
            "{}: no stored signed tree head (a new v2 log, or one from an older tlog-server: \
             the next start stores one)",
            head_path.display()
        )),
        Some(h) => {
            r.info(format!(
                "stored signed tree head: size {}, root {}, entry log offset {}",
                h.size, h.root_hash, h.log_offset
            ));
            if let Err(e) = v2log::verify_head(h, &key) {
                r.problem(format!(
                    "{}: the stored signed tree head does not verify with the v2 log key: {e:#}",
                    head_path.display()
                ));
            }
        }
    }
    let ack_end = head
        .as_ref()
        .map_or(0, |h| usize::try_from(h.log_offset).unwrap_or(usize::MAX));
    let covered = head.as_ref().map_or_else(String::new, |h| {
        format!(
            "the stored signed tree head {} covers {} entries, up to byte offset {}",
            head_path.display(),
            h.size,
            h.log_offset
        )
    });
    let acked = store::Acked {
        end: ack_end as u64,
        covered_by: &covered,
    };
    let scan = match store::scan(&data, ack_end) {
        Ok(s) => s,
        Err(d) => {
            r.problem(d.message(&path, acked));
            return Ok(());
        }
    };
    r.info(format!(
        "{}: {} intact entries in {} of {} bytes",
        path.display(),
        scan.entries.len(),
        scan.intact_len,
        data.len()
    ));
    if scan.intact_len < data.len() {
        r.torn_tail = true;
        r.info(format!(
            "torn tail at byte offset {}: {} bytes after the last acknowledged entry; the \
             server cuts them on its next start (nothing acknowledged is lost)",
            scan.intact_len,
            data.len() - scan.intact_len
        ));
    }
    let mut tree = cosign_tlog::merkle::MerkleTree::new();
    let mut subtrees = tiles::Subtrees::default();
    let mut leaves: HashMap<tlog::Hash, u64> = HashMap::new();
    let (mut bad_bodies, mut dups) = (0u64, 0u64);
    for (i, body) in scan.entries.iter().enumerate() {
        let leaf = tlog::leaf_hash(body);
        tree.push(leaf);
        subtrees.push(leaf);
        if leaves.insert(leaf, i as u64).is_some() {
            dups += 1;
        }
        if !is_v2_entry(body) {
            bad_bodies += 1;
            if bad_bodies <= 5 {
                r.problem(format!("entry {i}: the body is not a Rekor v2 log entry"));
            }
        }
    }
    if dups > 0 {
        r.problem(format!(
            "{dups} entries repeat an earlier entry's leaf hash"
        ));
    }
    let size = tree.size();
    if let Some(h) = &head {
        if scan.size_at_ack != Some(h.size) {
            r.problem(format!(
                "{}: {} entries end at byte offset {}, but the stored signed tree head says {}: \
                 the entry log does not belong to it (replaced or rolled back)",
                path.display(),
                scan.size_at_ack
                    .map_or_else(|| "no".to_owned(), |n| n.to_string()),
                h.log_offset,
                h.size
            ));
        } else {
            match (tree.root_at(h.size), h.root()) {
                (Ok(root), Ok(want)) if root == want => r.info(format!(
                    "the tree of the first {} entries matches the stored signed tree head",
                    h.size
                )),
                (Ok(root), _) => r.problem(format!(
                    "the tree of the first {} entries has root {}, not the stored signed tree \
                     head's {}: a fork",
                    h.size,
                    hex::encode(root),
                    h.root_hash
                )),
                (Err(e), _) => r.problem(format!("computing the root: {e}")),
            }
        }
    }
    let tiles_dir = v2_dir.join("tiles");
    let published = tiles_dir.join("checkpoint");
    match std::fs::read_to_string(&published) {
        Err(_) => r.info(format!(
            "{}: no published checkpoint (written on the next start)",
            published.display()
        )),
        Ok(text) => match v2log::verify_note(&text, &key) {
            Err(_) => r.info(format!(
                "{}: the published checkpoint does not verify (rewritten on the next start)",
                published.display()
            )),
            Ok(cp) if cp.size > size => r.problem(format!(
                "{}: the published checkpoint covers {} entries but {} holds {}: entries were \
                 lost (truncation or a rollback)",
                published.display(),
                cp.size,
                path.display(),
                size
            )),
            Ok(cp) => match tree.root_at(cp.size) {
                Ok(root) if root == cp.root_hash => r.info(format!(
                    "the published checkpoint (size {}) is a prefix of the log",
                    cp.size
                )),
                _ => r.problem(format!(
                    "{}: the published checkpoint (size {}) has root {}, not the log's: a fork",
                    published.display(),
                    cp.size,
                    hex::encode(cp.root_hash)
                )),
            },
        },
    }
    let mut stale = 0usize;
    for (b, w) in tiles::grown_entry_bundles(0, size) {
        let start = usize::try_from(b * tiles::TILE_WIDTH)?;
        let end = start + usize::try_from(w)?;
        let want = tiles::entry_bundle(scan.entries[start..end].iter().copied());
        if std::fs::read(tiles_dir.join(tiles::entry_bundle_path(b, w))).ok() != Some(want) {
            stale += 1;
        }
    }
    for (l, t, w) in tiles::grown_hash_tiles(0, size) {
        let want = subtrees.hash_tile(l, t, w);
        if std::fs::read(tiles_dir.join(tiles::hash_tile_path(l, t, w))).ok() != Some(want) {
            stale += 1;
        }
    }
    if stale > 0 {
        r.info(format!(
            "{stale} tiles missing or different from the entry log (derived data: rewritten \
             on the next start)"
        ));
    } else {
        r.info(format!(
            "every tile of the {size} entries matches the entry log"
        ));
    }
    Ok(())
}

/// Whether `body` is a Rekor v2 entry (hashedrekord or dsse 0.0.2).
fn is_v2_entry(body: &[u8]) -> bool {
    cosign_tlog::entry::Body::parse(body).is_ok_and(|b| b.is_rekor_v2())
}
