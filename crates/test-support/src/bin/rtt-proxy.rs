//! An emulated network for shell benchmarks (`bench/vs-go.sh`): a proxy in front of a plain HTTP
//! server on 127.0.0.1 adding RTT_MS to every request and every new connection (the same
//! [`test_support::Latency`] the Rust benchmarks use). Prints `127.0.0.1:PORT` of the proxy on
//! stdout, then serves until it is killed.
//!
//! Usage: rtt-proxy http://127.0.0.1:PORT RTT_MS

// A benchmark helper: a bad argument aborts with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::disallowed_methods
)]

use std::io::Write as _;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, upstream, rtt] = args.as_slice() else {
        panic!("usage: rtt-proxy http://127.0.0.1:PORT RTT_MS");
    };
    let rtt: u64 = rtt.parse().expect("RTT_MS: a number of milliseconds");
    let proxy = test_support::Latency::in_front_of(upstream, Duration::from_millis(rtt));
    println!("{}", proxy.host());
    std::io::stdout().flush().unwrap();
    // The proxy runs on its own threads; serve until killed.
    loop {
        std::thread::park();
    }
}
