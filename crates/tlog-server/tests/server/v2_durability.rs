//! The Rekor v2 log under damage, rollback and fork: no acknowledged entry is dropped silently
//! and no fork is ever signed or served (asserted on the stored signed tree head,
//! `DATA/v2/tree-head.slots`, and the published checkpoint, `DATA/v2/tiles/checkpoint`).

use std::path::{Path, PathBuf};

use cosign_crypto::PrivateKey;
use cosign_tlog::merkle::{Hash, leaf_hash};
use serde_json::Value;

use super::support::{self, Server, random_artifact, unb64};
use super::v2::request;

fn v2(data: &Path) -> PathBuf {
    data.join("v2")
}

fn entries(data: &Path) -> PathBuf {
    v2(data).join("entries.log")
}

fn published(data: &Path) -> PathBuf {
    v2(data).join("tiles/checkpoint")
}

/// (size, root) of a checkpoint's text.
fn size_root(note: &str) -> (u64, String) {
    let mut lines = note.lines().skip(1);
    let size = lines.next().unwrap().parse().unwrap();
    (size, lines.next().unwrap().to_owned())
}

/// One frame of the v2 entry log: u32 LE length, u32 LE CRC-32, the body.
#[derive(Debug, Clone, Copy)]
struct Frame {
    start: usize,
    end: usize,
}

fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        out.push(Frame {
            start: pos,
            end: pos + 8 + len,
        });
        pos += 8 + len;
    }
    assert_eq!(pos, bytes.len());
    out
}

/// Starts a server on `data`, logs `n` entries (each acknowledged with 201), stops it with
/// SIGKILL; returns the leaf hashes acknowledged and the last checkpoint returned.
fn populate(data: &Path, n: usize) -> (Vec<Hash>, String) {
    let server = Server::start(data);
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let mut leaves = Vec::new();
    let mut checkpoint = String::new();
    for _ in 0..n {
        let (req, _, _) = request(&key, &random_artifact());
        let resp = server.post("/api/v2/log/entries", &req);
        assert_eq!(resp.status(), 201);
        let e: Value = resp.json().unwrap();
        leaves.push(leaf_hash(&unb64(e["canonicalizedBody"].as_str().unwrap())));
        checkpoint = e["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    // Wait until the static files publish it (at most every 50 ms behind the commits).
    for _ in 0..200 {
        if std::fs::read_to_string(published(data)).is_ok_and(|p| p == checkpoint) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    (leaves, checkpoint)
}

/// Starts a server and checks that it serves exactly the tree of `checkpoint`, with every
/// leaf of `leaves` in its tiles.
fn serves(data: &Path, checkpoint: &str, leaves: &[Hash]) {
    let server = Server::start(data);
    let served = server.get("/checkpoint").text().unwrap();
    assert_eq!(size_root(&served), size_root(checkpoint));
    let tree = super::v2::tree_from_tiles(&v2(data).join("tiles"), leaves.len() as u64);
    for (i, leaf) in leaves.iter().enumerate() {
        assert_eq!(tree.leaf(i as u64).as_ref(), Some(leaf), "entry {i} lost");
    }
}

/// What must never change while the server refuses: the entry log, the stored head, the
/// published checkpoint.
struct Untouched {
    files: Vec<(PathBuf, Vec<u8>)>,
}

impl Untouched {
    fn new(data: &Path) -> Self {
        let files = [
            entries(data),
            support::head_file(&v2(data)),
            published(data),
        ]
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
        Self { files }
    }

    fn assert(&self) {
        for (p, bytes) in &self.files {
            assert_eq!(&std::fs::read(p).unwrap(), bytes, "{} changed", p.display());
        }
    }
}

fn refused(data: &Path) -> String {
    Server::try_start(data, &[])
        .err()
        .expect("the server must refuse to start")
}

#[test]
fn v2_damage_at_the_head_middle_and_tail_is_refused_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (leaves, checkpoint) = populate(&data, 30);
    let log = entries(&data);
    let good = std::fs::read(&log).unwrap();
    let f = frames(&good);
    assert_eq!(f.len(), 30);
    let head = support::stored_head(&v2(&data));
    assert_eq!(head["size"], 30);
    assert_eq!(head["logOffset"], good.len());
    assert_eq!(head["checkpoint"].as_str().unwrap(), checkpoint);

    // The first frame's header, a body byte in the middle, and the last frame: all
    // acknowledged, so none of them may be cut off as a torn tail.
    for (at, frame) in [
        (f[0].start + 1, f[0]),
        (f[15].start + 40, f[15]),
        (f[29].end - 3, f[29]),
    ] {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        std::fs::write(&log, &bad).unwrap();
        let before = Untouched::new(&data);
        let err = refused(&data);
        assert!(
            err.contains(&format!("byte offset {}", frame.start)) && err.contains("entries.log"),
            "{err}"
        );
        assert!(
            err.contains("backup") && err.contains("tlog-server check"),
            "{err}"
        );
        before.assert();
        assert_eq!(support::stored_head(&v2(&data)), head);
        let (code, out) = support::check(&data);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains(&format!("byte offset {}", frame.start)),
            "{out}"
        );
    }
    std::fs::write(&log, &good).unwrap();
    let (code, out) = support::check(&data);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Rekor v2 log") && out.contains("30 intact entries"),
        "{out}"
    );
    serves(&data, &checkpoint, &leaves);
}

#[test]
fn v2_a_torn_tail_is_cut_and_an_unacknowledged_durable_commit_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (leaves, checkpoint) = populate(&data, 12);
    let log = entries(&data);
    let good = std::fs::read(&log).unwrap();
    let f = frames(&good);

    // A torn last group commit (never acknowledged): a copy of a frame, cut short.
    let mut torn = good.clone();
    torn.extend_from_slice(&good[f[3].start..f[3].end - 20]);
    std::fs::write(&log, &torn).unwrap();
    let (code, out) = support::check(&data);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("torn tail"), "{out}");
    serves(&data, &checkpoint, &leaves);
    assert_eq!(std::fs::read(&log).unwrap(), good);
    assert_eq!(support::stored_head(&v2(&data))["size"], 12);

    // A whole frame after the stored head (its group commit durable, the head not yet
    // stored): kept, and covered by a new stored head before anything is served.
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let (_, digest, sig) = request(&key, &random_artifact());
    let verifier = cosign_tlog::entry::V2Verifier::from_public_key(&key.public_key()).unwrap();
    let extra = &cosign_tlog::entry::hashedrekord_v002(&digest, &sig, &verifier).unwrap();
    let mut more = good.clone();
    more.extend_from_slice(&(extra.len() as u32).to_le_bytes());
    more.extend_from_slice(&crc32(extra).to_le_bytes());
    more.extend_from_slice(extra);
    std::fs::write(&log, &more).unwrap();
    assert_eq!(support::check(&data).0, 0);
    let server = Server::start(&data);
    let (size, _) = size_root(&server.get("/checkpoint").text().unwrap());
    assert_eq!(size, 13);
    let head = support::stored_head(&v2(&data));
    assert_eq!(head["size"], 13);
    assert_eq!(head["logOffset"], more.len());
}

fn crc32(data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(data);
    h.finalize()
}

#[test]
fn v2_a_rollback_or_a_fork_is_refused_and_never_signed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut every, _) = populate(&data, 10);
    let old = std::fs::read(entries(&data)).unwrap();
    let old_head = std::fs::read(support::head_file(&v2(&data))).unwrap();
    let (leaves, _) = populate(&data, 10);
    every.extend(leaves);
    let newest = std::fs::read(entries(&data)).unwrap();
    let head = support::stored_head(&v2(&data));
    assert_eq!(head["size"], 20);
    let checkpoint = head["checkpoint"].as_str().unwrap().to_owned();
    let log = entries(&data);

    // Rollback of the entry log alone: shorter than the stored head.
    std::fs::write(&log, &old).unwrap();
    let before = Untouched::new(&data);
    let err = refused(&data);
    assert!(
        err.contains("rolled back") && err.contains("byte offset"),
        "{err}"
    );
    before.assert();
    assert_eq!(support::stored_head(&v2(&data)), head);
    let (code, out) = support::check(&data);
    assert_eq!(code, 1, "{out}");

    // Rollback of the entry log and the stored head together: the published checkpoint
    // (what was served) still names the newer tree.
    let new_head = std::fs::read(support::head_file(&v2(&data))).unwrap();
    std::fs::write(support::head_file(&v2(&data)), &old_head).unwrap();
    let before = Untouched::new(&data);
    let err = refused(&data);
    assert!(
        err.contains("published checkpoint") && err.contains("rolled back"),
        "{err}"
    );
    before.assert();
    assert_eq!(support::check(&data).0, 1);
    std::fs::write(support::head_file(&v2(&data)), &new_head).unwrap();

    // Fork: one acknowledged entry rewritten (same length, valid CRC): the tree at the stored
    // size has another root.
    let f = frames(&newest);
    let mut forked = newest.clone();
    let body = &mut forked[f[7].start + 8..f[7].end];
    let at = body.windows(8).position(|w| w == b"\"digest\"").unwrap() + 11;
    body[at] = if body[at] == b'A' { b'B' } else { b'A' };
    let crc = crc32(&forked[f[7].start + 8..f[7].end]);
    forked[f[7].start + 4..f[7].start + 8].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&log, &forked).unwrap();
    let before = Untouched::new(&data);
    let err = refused(&data);
    assert!(err.contains("fork"), "{err}");
    before.assert();
    assert_eq!(support::stored_head(&v2(&data)), head);
    let (code, out) = support::check(&data);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("fork"), "{out}");

    // A missing stored head is refused (log.json says the v2 log keeps one), not recreated.
    std::fs::write(&log, &newest).unwrap();
    std::fs::remove_file(support::head_file(&v2(&data))).unwrap();
    let err = refused(&data);
    assert!(err.contains("tree-head.slots is missing"), "{err}");
    assert!(!support::head_file(&v2(&data)).exists());
    assert_eq!(support::check(&data).0, 1);
    std::fs::write(support::head_file(&v2(&data)), &new_head).unwrap();

    // Everything restored: the newest tree, unchanged.
    assert_eq!(support::check(&data).0, 0);
    serves(&data, &checkpoint, &every);
}
