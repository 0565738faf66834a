//! Slow and hostile clients: timeouts, body limits, and a slow-body flood during which fresh
//! clients are still answered within a second.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{self, Server, Signer, random_artifact};

fn host_port(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

/// Reads until EOF, error or `limit`; returns what arrived and when the read ended.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
}

#[test]
fn slow_headers_slow_bodies_idle_and_oversized_requests_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        &["--header-timeout", "1", "--body-timeout", "1"],
    );
    let addr = host_port(&server);

    // Headers that never finish.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /api/v1/log HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let (_, took) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(took < Duration::from_secs(4), "slow headers held {took:?}");

    // A body that never finishes: 408, connection closed.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(
        b"POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"apiVersion\"",
    )
    .unwrap();
    let (got, took) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(took < Duration::from_secs(4), "slow body held {took:?}");

    // An idle keep-alive connection is closed.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /api/v1/log HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (got, took) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(
        took < Duration::from_secs(4),
        "idle connection held {took:?}"
    );

    // Oversized bodies: 413 whether declared or streamed.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
        .unwrap();
    let (got, _) = read_until_closed(&mut s, Duration::from_secs(5));
    assert!(got.starts_with("HTTP/1.1 413"), "{got}");
    let resp = server
        .client()
        .post(format!("{}/api/v1/log/entries", server.url))
        .body(reqwest::blocking::Body::new(std::io::Cursor::new(vec![
            b' ';
            (1 << 20) + 10
        ])))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 413);

    // The server still works.
    let (p, _) = Signer::new().hashedrekord(&random_artifact());
    assert_eq!(server.post("/api/v1/log/entries", &p).status(), 201);
}

#[test]
fn a_slow_body_flood_does_not_starve_fresh_clients() {
    let _heavy = support::heavy();
    const CAP: &str = "64";
    const FLOOD_THREADS: usize = 8;
    const MAX_FLOOD_CONNECTIONS: usize = 400;
    let dir = tempfile::tempdir().unwrap();
    // Long timeouts: only the connection limit's eviction can keep the server available.
    let server = Server::start_with(
        dir.path(),
        &[
            "--max-connections",
            CAP,
            "--body-timeout",
            "60",
            "--header-timeout",
            "60",
        ],
    );
    let addr = host_port(&server);
    let stop = Arc::new(AtomicBool::new(false));
    let opened = Arc::new(AtomicUsize::new(0));
    let flood: Vec<_> = (0..FLOOD_THREADS)
        .map(|_| {
            let (stop, opened, addr) = (Arc::clone(&stop), Arc::clone(&opened), addr.clone());
            std::thread::spawn(move || {
                // Each thread keeps up to 40 connections dribbling one body byte at a time,
                // reconnecting when the server closes one, within the overall budget.
                let mut conns: Vec<TcpStream> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    while conns.len() < 40
                        && opened.fetch_add(1, Ordering::Relaxed) < MAX_FLOOD_CONNECTIONS
                    {
                        let Ok(mut s) = TcpStream::connect(&addr) else {
                            break;
                        };
                        let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
                        let head = b"POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\n\
                                     Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
                        if s.write_all(head).is_ok() {
                            conns.push(s);
                        }
                    }
                    conns.retain_mut(|s| s.write_all(b" ").is_ok());
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        })
        .collect();

    // Let the flood fill the server, then probe with fresh clients for ~3 s.
    std::thread::sleep(Duration::from_millis(500));
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::new(Mutex::new(Vec::new()));
    let signer = Signer::new();
    let start = Instant::now();
    let mut probes = 0;
    let mut get_max = Duration::ZERO;
    while start.elapsed() < Duration::from_secs(3) {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let t = Instant::now();
        let status = if probes % 2 == 0 {
            client
                .get(format!("{}/api/v1/log", server.url))
                .send()
                .map(|r| r.status().as_u16())
        } else {
            let (p, _) = signer.hashedrekord(&random_artifact());
            client
                .post(format!("{}/api/v1/log/entries", server.url))
                .json(&p)
                .send()
                .map(|r| r.status().as_u16())
        };
        let took = t.elapsed();
        let status = status.unwrap_or_else(|e| panic!("fresh client failed after {took:?}: {e}"));
        assert!(status == 200 || status == 201, "status {status}");
        latencies.lock().unwrap().push(took);
        if probes % 2 == 0 {
            get_max = get_max.max(took);
        }
        probes += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for t in flood {
        t.join().unwrap();
    }
    let mut l = latencies.lock().unwrap().clone();
    l.sort();
    let max = *l.last().unwrap();
    let flood_conns = opened.load(Ordering::Relaxed).min(MAX_FLOOD_CONNECTIONS);
    eprintln!(
        "slow-body flood: {flood_conns} dribbling connections against a cap of {CAP}; {} fresh \
         requests, median {:?}, max {max:?} (GET max {get_max:?})",
        l.len(),
        l[l.len() / 2]
    );
    assert!(flood_conns > 64, "the flood never exceeded the cap");
    assert!(
        max < Duration::from_secs(1),
        "a fresh client waited {max:?}"
    );
}
