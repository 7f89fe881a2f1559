//! A tiny HTTP/1.1 server on 127.0.0.1 for tests: serves one scripted document at every path,
//! answers `304` when `If-None-Match` matches its `ETag`, and counts requests. Shared with
//! `wsdr-tray`'s tests (included by path).

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What the server answers.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// `200` with this body; the `ETag` is derived from the body.
    Document(Vec<u8>),
    /// This status with an empty body.
    Status(u16),
}

#[derive(Debug, Default)]
struct Shared {
    reply: Option<Reply>,
    requests: usize,
    not_modified: usize,
}

/// A running server (its thread lives as long as the test process).
#[derive(Debug, Clone)]
pub(crate) struct DocumentServer {
    url: String,
    shared: Arc<Mutex<Shared>>,
}

impl DocumentServer {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/status.json", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared::default()));
        let for_thread = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve(stream, &for_thread);
            }
        });
        Self { url, shared }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn set(&self, reply: Reply) {
        self.shared.lock().unwrap().reply = Some(reply);
    }

    pub(crate) fn serve_document(&self, body: &[u8]) {
        self.set(Reply::Document(body.to_vec()));
    }

    /// Requests served so far, and how many of them were answered `304`.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let shared = self.shared.lock().unwrap();
        (shared.requests, shared.not_modified)
    }
}

fn etag_of(body: &[u8]) -> String {
    // FNV-1a: stable and good enough to tell test documents apart.
    let hash = body
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    format!("\"{hash:016x}\"")
}

fn serve(stream: TcpStream, shared: &Mutex<Shared>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut if_none_match = None;
    for _ in 0..100 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("if-none-match")
        {
            if_none_match = Some(value.trim().to_owned());
        }
    }
    let (status, etag, body) = {
        let mut shared = shared.lock().unwrap();
        shared.requests += 1;
        match shared.reply.clone() {
            Some(Reply::Document(body)) => {
                let etag = etag_of(&body);
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    shared.not_modified += 1;
                    (304, Some(etag), Vec::new())
                } else {
                    (200, Some(etag), body)
                }
            }
            Some(Reply::Status(status)) => (status, None, Vec::new()),
            None => (404, None, Vec::new()),
        }
    };
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(etag) = etag {
        head.push_str(&format!("ETag: {etag}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
}
