//! The poll (I/O): one HTTPS GET of the status document with `If-None-Match`, bounded in time
//! and size. What comes back is untrusted bytes for [`crate::TrayCore::on_fetch`] to verify.

use std::time::Duration;

use reqwest::header::{ETAG, IF_NONE_MATCH};
use reqwest::{Client, StatusCode};
use wsdr_protocol::MAX_DOCUMENT_BYTES;

use crate::config::StatusUrl;

/// Time allowed to connect.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for the whole request, body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 3;

/// What a poll brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// `200 OK` with a body (at most [`MAX_DOCUMENT_BYTES`] + 1 bytes are read, so an oversized
    /// document still reaches verification and is refused there, with its reason).
    Document {
        /// The body, unverified.
        body: Vec<u8>,
        /// The response's `ETag`, if any.
        etag: Option<String>,
    },
    /// `304 Not Modified`: the document held is still the current one.
    NotModified,
    /// No usable answer: connection error, timeout, another HTTP status.
    Failed(String),
}

/// An HTTP client for one status URL.
#[derive(Debug, Clone)]
pub struct StatusClient {
    http: Client,
    url: StatusUrl,
}

impl StatusClient {
    /// A client for `url`: rustls, the platform's trust store, the timeouts above, no cookies,
    /// and an `https://` URL never redirected to `http://`.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn new(url: StatusUrl) -> Result<Self, reqwest::Error> {
        let https = url.url().scheme() == "https";
        let http = Client::builder()
            .user_agent(concat!("wsdr-tray/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .https_only(https)
            .build()?;
        Ok(Self { http, url })
    }

    /// Fetches the document, sending `etag` as `If-None-Match`.
    pub async fn fetch(&self, etag: Option<&str>) -> FetchOutcome {
        match self.try_fetch(etag).await {
            Ok(outcome) => outcome,
            Err(error) => FetchOutcome::Failed(describe(&error)),
        }
    }

    async fn try_fetch(&self, etag: Option<&str>) -> Result<FetchOutcome, reqwest::Error> {
        let mut request = self.http.get(self.url.url().clone());
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let mut response = request.send().await?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_MODIFIED => return Ok(FetchOutcome::NotModified),
            status => return Ok(FetchOutcome::Failed(format!("HTTP {status}"))),
        }
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|value| value.to_str().ok())
            .filter(|value| value.len() <= 256)
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            let room = MAX_DOCUMENT_BYTES + 1 - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() > MAX_DOCUMENT_BYTES {
                break;
            }
        }
        Ok(FetchOutcome::Document { body, etag })
    }
}

/// The error and its causes on one line.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
