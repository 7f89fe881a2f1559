//! A minimal W3C WebDriver client for tauri-driver: one keep-alive HTTP connection pool
//! (one-connection-per-request clients were flaky through tauri-driver), the handful of
//! commands the window test needs.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver session.
pub(crate) struct Session {
    http: reqwest::Client,
    base: String,
}

impl Session {
    /// Starts a session on the driver at `driver_url` for the application `binary` with `args`.
    pub(crate) async fn start(driver_url: &str, binary: &str, args: &[String]) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "tauri:options": {"application": binary, "args": args}
        }}});
        let reply = send(
            &http,
            reqwest::Method::POST,
            &format!("{driver_url}/session"),
            Some(capabilities),
        )
        .await;
        let id =
            reply["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {reply}")).to_owned();
        Self { http, base: format!("{driver_url}/session/{id}") }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        send(&self.http, method, &format!("{}{path}", self.base), body).await
    }

    /// The element matching a CSS selector.
    pub(crate) async fn find(&self, css: &str) -> String {
        let reply = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        reply[ELEMENT_KEY].as_str().unwrap_or_else(|| panic!("{css}: {reply}")).to_owned()
    }

    /// The rendered text of the element matching `css`.
    pub(crate) async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        let reply =
            self.call(reqwest::Method::GET, &format!("/element/{element}/text"), None).await;
        reply.as_str().unwrap_or_default().to_owned()
    }

    /// Waits up to `seconds` for the text of `css` to be `expected`.
    pub(crate) async fn wait_for_text(&self, css: &str, expected: &str, seconds: u64) {
        let mut last = String::new();
        for _ in 0..seconds * 4 {
            last = self.text(css).await;
            if last == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("{css}: expected {expected:?}, still {last:?}");
    }

    /// Clicks the element matching `css`.
    pub(crate) async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{element}/click"), Some(json!({})))
            .await;
    }

    /// Runs a script in the page and returns its value.
    pub(crate) async fn execute(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// A PNG of the window.
    pub(crate) async fn screenshot(&self) -> Vec<u8> {
        let reply = self.call(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD.decode(reply.as_str().unwrap()).unwrap()
    }

    /// Ends the session (tauri-driver stops the application).
    pub(crate) async fn end(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Value {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status();
    let text = response.text().await.unwrap();
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"));
    assert!(status.is_success(), "{url}: {status}: {text}");
    value["value"].clone()
}
