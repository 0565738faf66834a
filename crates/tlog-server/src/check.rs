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

/// Checks `dir` with `key` (the log's public key).
pub fn check(dir: &DataDir, key: &PublicKey) -> Result<Report> {
    let mut r = Report::default();
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
            return Ok(r);
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
            return Ok(r);
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
