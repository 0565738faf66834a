//! Damage, rollback, fork and kill -9: no acknowledged entry is dropped silently and no fork is
//! ever signed or served.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosign_tlog::merkle::{Hash, verify_consistency};
use serde_json::Value;

use crate::support::{self, Server, Signer, frames, random_artifact};
use crate::{check_entry_fast, hash32, log_info, log_key};

/// Starts a server, stores `n` entries, stops it; returns their UUIDs and the last log info.
fn populate(dir: &Path, n: u32) -> (Vec<String>, Value) {
    let server = Server::start(dir);
    let signer = Signer::new();
    let mut uuids = Vec::new();
    for _ in 0..n {
        let (p, _) = signer.hashedrekord(&random_artifact());
        let resp = server.post("/api/v1/log/entries", &p);
        assert_eq!(resp.status(), 201);
        uuids.push(resp.headers()["etag"].to_str().unwrap().to_owned());
    }
    (uuids, log_info(&server))
}

fn stored_head(dir: &Path) -> Value {
    support::stored_head(dir)
}

/// Flips one byte of the entry log, expects the server to refuse naming `offset`, the file
/// and stored head untouched, `check` to fail; then undoes the flip and expects everything back.
fn refuses_damage(dir: &Path, at: usize, offset: usize, uuids: &[String], info: &Value) {
    let log = dir.join("entries.log");
    let good = std::fs::read(&log).unwrap();
    let head = std::fs::read(support::head_file(dir)).unwrap();
    let mut bad = good.clone();
    bad[at] ^= 0x01;
    std::fs::write(&log, &bad).unwrap();

    let err = Server::try_start(dir, &[])
        .err()
        .expect("must refuse to start");
    assert!(
        err.contains(&format!("byte offset {offset}")) && err.contains("entries.log"),
        "{err}"
    );
    assert!(
        err.contains("backup") && err.contains("tlog-server check"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&log).unwrap(),
        bad,
        "the file must be left untouched"
    );
    assert_eq!(std::fs::read(support::head_file(dir)).unwrap(), head);
    let (code, out) = support::check(dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("byte offset {offset}")), "{out}");

    std::fs::write(&log, &good).unwrap();
    let (code, out) = support::check(dir);
    assert_eq!(code, 0, "{out}");
    let server = Server::start(dir);
    let after = log_info(&server);
    assert_eq!(after["treeSize"], info["treeSize"]);
    assert_eq!(after["rootHash"], info["rootHash"]);
    for uuid in uuids {
        let resp = server.get(&format!("/api/v1/log/entries/{uuid}"));
        assert_eq!(resp.status(), 200);
    }
}

#[test]
fn damage_at_the_head_middle_and_tail_is_refused_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (uuids, info) = populate(dir.path(), 30);
    let bytes = std::fs::read(dir.path().join("entries.log")).unwrap();
    let f = frames(&bytes);
    assert_eq!(f.len(), 30);
    // Head: the first record's body; middle: a CRC; tail: the last acknowledged record's body.
    refuses_damage(dir.path(), f[0].body_start + 5, f[0].start, &uuids, &info);
    refuses_damage(dir.path(), f[15].start + 5, f[15].start, &uuids, &info);
    refuses_damage(dir.path(), f[29].end - 3, f[29].start, &uuids, &info);
    // The length word of a middle record (framing, not just the checksum).
    refuses_damage(dir.path(), f[10].start + 2, f[10].start, &uuids, &info);

    // A damaged file header is refused too, the file untouched.
    let log = dir.path().join("entries.log");
    let mut bad = bytes.clone();
    bad[2] ^= 0x01;
    std::fs::write(&log, &bad).unwrap();
    let err = Server::try_start(dir.path(), &[]).err().unwrap();
    assert!(err.contains("not a tlog-server entry log"), "{err}");
    assert_eq!(std::fs::read(&log).unwrap(), bad);
    std::fs::write(&log, &bytes).unwrap();
}

#[test]
fn a_torn_tail_after_the_stored_head_is_cut_and_nothing_acknowledged_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (uuids, info) = populate(dir.path(), 10);
    let log = dir.path().join("entries.log");
    let good = std::fs::read(&log).unwrap();
    // The unacknowledged last group commit, torn: two frames, the first with a zeroed stretch
    // (a page that never reached the disk), the second cut short.
    let mut torn = good.clone();
    let copy = frames(&good);
    torn.extend_from_slice(&good[copy[3].start..copy[3].end]);
    let n = torn.len();
    torn[n - 40..n - 20].fill(0);
    torn.extend_from_slice(&good[copy[4].start..copy[4].end - 20]);
    std::fs::write(&log, &torn).unwrap();
    let (code, out) = support::check(dir.path());
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("torn tail"), "{out}");

    let server = Server::start(dir.path());
    let after = log_info(&server);
    assert_eq!(after["treeSize"], info["treeSize"]);
    assert_eq!(after["rootHash"], info["rootHash"]);
    for uuid in &uuids {
        assert_eq!(
            server.get(&format!("/api/v1/log/entries/{uuid}")).status(),
            200
        );
    }
    drop(server);
    assert_eq!(std::fs::read(&log).unwrap(), good);
}

#[test]
fn a_rollback_or_a_fork_is_refused_and_never_signed() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _) = populate(dir.path(), 10);
    let old = tempfile::tempdir().unwrap();
    for name in [
        "entries.log",
        "log.json",
        "signing-key.pem",
        "tree-head.slots",
    ] {
        std::fs::copy(dir.path().join(name), old.path().join(name)).unwrap();
    }
    let (uuids, info) = populate(dir.path(), 10);
    let head = std::fs::read(support::head_file(dir.path())).unwrap();
    assert_eq!(stored_head(dir.path())["size"], 20);
    let log = dir.path().join("entries.log");
    let newest = std::fs::read(&log).unwrap();

    // Rollback: the older entry log (and log.json) restored over the newer ones.
    std::fs::copy(old.path().join("entries.log"), &log).unwrap();
    std::fs::copy(old.path().join("log.json"), dir.path().join("log.json")).unwrap();
    let err = Server::try_start(dir.path(), &[])
        .err()
        .expect("rollback accepted");
    assert!(err.contains("rolled back"), "{err}");
    assert!(err.contains("byte offset"), "{err}");
    assert_eq!(std::fs::read(support::head_file(dir.path())).unwrap(), head);
    assert_eq!(support::check(dir.path()).0, 1);

    // Fork: the old copy grows 11 other entries and replaces the newer log (11, not 10: with
    // 10 the forked log can be a few bytes shorter, as signatures vary in length, and is then
    // refused as a rollback instead).
    let (_, forked) = populate(old.path(), 11);
    assert_eq!(forked["treeSize"], 21);
    assert_ne!(forked["rootHash"], info["rootHash"]);
    std::fs::copy(old.path().join("entries.log"), &log).unwrap();
    let err = Server::try_start(dir.path(), &[])
        .err()
        .expect("fork accepted");
    assert!(
        err.contains("fork") || err.contains("does not belong"),
        "{err}"
    );
    assert_eq!(std::fs::read(support::head_file(dir.path())).unwrap(), head);
    let (code, out) = support::check(dir.path());
    assert_eq!(code, 1, "{out}");

    // A missing stored head is refused, not recreated.
    std::fs::write(&log, &newest).unwrap();
    std::fs::remove_file(support::head_file(dir.path())).unwrap();
    let err = Server::try_start(dir.path(), &[])
        .err()
        .expect("missing head accepted");
    assert!(err.contains("tree-head.slots is missing"), "{err}");
    std::fs::write(support::head_file(dir.path()), &head).unwrap();

    // Everything restored: the newest tree, unchanged.
    let server = Server::start(dir.path());
    let after = log_info(&server);
    assert_eq!(after["treeSize"], 20);
    assert_eq!(after["rootHash"], info["rootHash"]);
    for uuid in &uuids {
        assert_eq!(
            server.get(&format!("/api/v1/log/entries/{uuid}")).status(),
            200
        );
    }
}

#[test]
fn sets_are_stored_once_and_older_data_directories_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let (uuids, info) = populate(dir.path(), 5);
    let log = dir.path().join("entries.log");
    let bytes = std::fs::read(&log).unwrap();
    let f = frames(&bytes);
    {
        let server = Server::start(dir.path());
        for (i, uuid) in uuids.iter().enumerate() {
            let a: Value = server
                .get(&format!("/api/v1/log/entries/{uuid}"))
                .json()
                .unwrap();
            let set = a[uuid]["verification"]["signedEntryTimestamp"]
                .as_str()
                .unwrap()
                .to_owned();
            // What is served is what was stored when the entry was appended.
            assert_eq!(f[i].set.as_deref(), Some(set.as_bytes()));
        }
    }

    // An older directory: TLOGWAL1 frames without SETs, no stored head, no treeHead flag.
    let mut v1 = b"TLOGWAL1".to_vec();
    for fr in &f {
        let body = &bytes[fr.body_start..fr.end];
        let time = &bytes[fr.start + 8..fr.start + 16];
        let crc = crc32fast_like(time, body);
        v1.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v1.extend_from_slice(&crc.to_le_bytes());
        v1.extend_from_slice(time);
        v1.extend_from_slice(body);
    }
    std::fs::write(&log, &v1).unwrap();
    std::fs::remove_file(support::head_file(dir.path())).unwrap();
    let meta: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("log.json")).unwrap()).unwrap();
    let legacy = serde_json::json!({"treeID": meta["treeID"], "created": meta["created"]});
    std::fs::write(dir.path().join("log.json"), legacy.to_string()).unwrap();

    let server = Server::start(dir.path());
    let after = log_info(&server);
    assert_eq!(after["rootHash"], info["rootHash"]);
    let key = log_key(&server);
    let tree_id = after["treeID"].as_str().unwrap().to_owned();
    for uuid in &uuids {
        let got: Value = server
            .get(&format!("/api/v1/log/entries/{uuid}"))
            .json()
            .unwrap();
        check_entry_fast(&got, &key, &tree_id, uuid);
    }
    assert_eq!(stored_head(dir.path())["size"], 5);
    let meta: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("log.json")).unwrap()).unwrap();
    assert_eq!(meta["treeHead"], true);
    assert_eq!(&std::fs::read(&log).unwrap()[..8], b"TLOGWAL2");
    drop(server);
    assert_eq!(support::check(dir.path()).0, 0);
}

#[test]
fn a_tree_head_json_from_the_previous_server_migrates_to_the_slots() {
    let dir = tempfile::tempdir().unwrap();
    let (uuids, info) = populate(dir.path(), 3);
    let legacy = dir.path().join("tree-head.json");
    let head = stored_head(dir.path());
    std::fs::write(&legacy, serde_json::to_vec_pretty(&head).unwrap()).unwrap();
    std::fs::remove_file(support::head_file(dir.path())).unwrap();
    let (code, out) = support::check(dir.path());
    assert_eq!(code, 0, "{out}");

    let server = Server::start(dir.path());
    let after = log_info(&server);
    assert_eq!(after["treeSize"], info["treeSize"]);
    assert_eq!(after["rootHash"], info["rootHash"]);
    let (p, _) = Signer::new().hashedrekord(&random_artifact());
    assert_eq!(server.post("/api/v1/log/entries", &p).status(), 201);
    assert_eq!(stored_head(dir.path())["size"], 4);
    assert!(!legacy.exists());
    for uuid in &uuids {
        assert_eq!(
            server.get(&format!("/api/v1/log/entries/{uuid}")).status(),
            200
        );
    }
    drop(server);
    assert_eq!(support::check(dir.path()).0, 0);
}

/// CRC-32 (IEEE) of `time || body`, as a TLOGWAL1 frame has it.
fn crc32fast_like(time: &[u8], body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(time);
    h.update(body);
    h.finalize()
}

#[test]
fn kill_9_under_16_clients_keeps_every_ack_and_every_served_head_consistent() {
    let _heavy = support::heavy();
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let url = server.url.clone();
    let acked: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    // Every (size, root) a client was shown: GET /api/v1/log and the 201 answers' proofs.
    let heads: Arc<Mutex<BTreeSet<(u64, String)>>> = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let client = || {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    };
    let mut threads: Vec<_> = (0..16)
        .map(|_| {
            let (acked, heads, stop, url) = (
                Arc::clone(&acked),
                Arc::clone(&heads),
                Arc::clone(&stop),
                url.clone(),
            );
            let client = client();
            std::thread::spawn(move || {
                let signer = Signer::new();
                while !stop.load(Ordering::Relaxed) {
                    let (p, _) = signer.hashedrekord(&random_artifact());
                    let Ok(resp) = client
                        .post(format!("{url}/api/v1/log/entries"))
                        .json(&p)
                        .send()
                    else {
                        continue;
                    };
                    if resp.status() != 201 {
                        continue;
                    }
                    let uuid = resp.headers()["etag"].to_str().unwrap().to_owned();
                    if let Ok(body) = resp.json::<Value>() {
                        let proof = &body[&uuid]["verification"]["inclusionProof"];
                        let size = proof["treeSize"].as_u64().unwrap();
                        let root = proof["rootHash"].as_str().unwrap().to_owned();
                        heads.lock().unwrap().insert((size, root));
                        acked.lock().unwrap().push(uuid);
                    }
                }
            })
        })
        .collect();
    {
        let (heads, stop, url) = (Arc::clone(&heads), Arc::clone(&stop), url.clone());
        let client = client();
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(info) = client
                    .get(format!("{url}/api/v1/log"))
                    .send()
                    .and_then(|r| r.json::<Value>())
                {
                    let size = info["treeSize"].as_u64().unwrap();
                    let root = info["rootHash"].as_str().unwrap().to_owned();
                    heads.lock().unwrap().insert((size, root));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }));
    }
    let start = Instant::now();
    while acked.lock().unwrap().len() < 400 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let heads = heads.lock().unwrap().clone();
    assert!(
        acked.len() >= 400,
        "load too slow: {} acknowledged",
        acked.len()
    );

    let server = Server::start(dir.path());
    let key = log_key(&server);
    let info = log_info(&server);
    let tree_id = info["treeID"].as_str().unwrap().to_owned();
    let final_size = info["treeSize"].as_u64().unwrap();
    let final_root = hash32(info["rootHash"].as_str().unwrap());
    assert!(final_size >= acked.len() as u64);
    for uuid in &acked {
        let resp = server.get(&format!("/api/v1/log/entries/{uuid}"));
        assert_eq!(resp.status(), 200, "acknowledged entry {uuid} lost");
        check_entry_fast(&resp.json().unwrap(), &key, &tree_id, uuid);
    }
    // Every head ever served is a prefix of the final tree.
    let mut checked = 0;
    for (size, root) in &heads {
        if *size == 0 {
            continue;
        }
        let proof: Value = server
            .get(&format!(
                "/api/v1/log/proof?firstSize={size}&lastSize={final_size}"
            ))
            .json()
            .unwrap();
        let hashes: Vec<Hash> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hash32(h.as_str().unwrap()))
            .collect();
        verify_consistency(*size, final_size, &hashes, &hash32(root), &final_root)
            .unwrap_or_else(|e| panic!("head {size}/{root} is not a prefix: {e}"));
        checked += 1;
    }
    assert!(checked > 10, "only {checked} heads seen");
    assert!(stored_head(dir.path())["size"].as_u64().unwrap() >= heads.last().unwrap().0);
    eprintln!(
        "kill -9: {} acknowledged, all present; {checked} served heads consistent with the \
         final tree of {final_size}",
        acked.len()
    );
    drop(server);
    assert!(matches!(support::check(dir.path()).0, 0 | 3));
}
