//! A lying plain-HTTP server on `127.0.0.1`: each request gets the answer of the first rule
//! whose text occurs in the request's head (request line and headers, so an AWS `X-Amz-Target`
//! matches too); no rule: 404. The providers reach it through their endpoint settings
//! (`AWS_ENDPOINT_URL`, `VAULT_ADDR`, the Cloud KMS endpoint override), which take `http://`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

struct Rule {
    matches: String,
    status: u16,
    body: String,
}

/// A running server; it stops with the test process.
pub struct Canned {
    port: u16,
    rules: Arc<Mutex<Vec<Rule>>>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Canned {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::default();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, l) = (Arc::clone(&rules), Arc::clone(&log));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve(stream, &r, &l);
            }
        });
        Self { port, rules, log }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers requests whose head contains `matches` with `status` and `body`; a later rule
    /// for the same text replaces the earlier one.
    pub fn on(&self, matches: &str, status: u16, body: impl Into<String>) -> &Self {
        let mut rules = self.rules.lock().unwrap();
        rules.retain(|r| r.matches != matches);
        rules.push(Rule {
            matches: matches.to_owned(),
            status,
            body: body.into(),
        });
        self
    }

    /// The request lines served so far (`POST /`, `GET /v1/transit/keys/k` ...), with the
    /// request bodies.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, rules: &Mutex<Vec<Rule>>, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            content_length = v.trim().parse().unwrap_or(0);
        }
        head.push_str(&line);
    }
    let mut body = vec![0u8; content_length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request_line = head.lines().next().unwrap_or("").to_owned();
    log.lock()
        .unwrap()
        .push(format!("{request_line} {}", String::from_utf8_lossy(&body)));
    let (status, answer) = rules
        .lock()
        .unwrap()
        .iter()
        .find(|r| head.contains(&r.matches))
        .map(|r| (r.status, r.body.clone()))
        .unwrap_or((404, r#"{"message":"no canned answer"}"#.to_owned()));
    let mut out = stream;
    let _ = write!(
        out,
        "HTTP/1.1 {status} Canned\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    let _ = out.flush();
}
