//! The local AWS-faithful emulator (`tests/emulator/`: moto, pinned, with WorkSpaces made to behave as AWS
//! documents): starting it on a free loopback port, and its control API (`/_wsdr/…`). Used by `wsdr demo` and by
//! the integration tests; nothing in production talks to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;

/// A running emulator; killed when dropped (and, with `--exit-with-parent`, when this process dies).
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    url: String,
}

/// The emulator did not start, or its control API refused a call.
#[derive(Debug, thiserror::Error)]
#[error("emulator: {0}")]
pub struct EmulatorError(String);

impl Emulator {
    /// Starts `<repo>/tests/emulator/run-emulator.sh --port 0 --exit-with-parent ARGS…` (which sets up its pinned
    /// venv first) and waits for its ready line.
    pub fn start(repo_root: &Path, args: &[&str]) -> Result<Emulator, EmulatorError> {
        let script = repo_root.join("tests/emulator/run-emulator.sh");
        // The emulator is a separate process by design; this is the one place that starts it.
        #[allow(clippy::disallowed_methods)]
        let mut child = std::process::Command::new(&script)
            .args(["--port", "0", "--exit-with-parent"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| {
                EmulatorError(format!("cannot start {}: {error}", script.display()))
            })?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout)
                .read_line(&mut line)
                .map_err(|error| EmulatorError(format!("no ready line: {error}")))?;
        }
        let Some(url) = line.trim().strip_prefix("WSDR_EMULATOR_READY ").map(str::to_owned) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(EmulatorError(format!(
                "it did not start ({:?}; its messages are above)",
                line.trim()
            )));
        };
        Ok(Emulator { child, url })
    }

    /// `http://127.0.0.1:PORT`: the endpoint for every AWS client.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls the control API: `method /_wsdr/path` with an optional JSON body; answers the JSON reply.
    pub fn control(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, EmulatorError> {
        let address = self.url.trim_start_matches("http://");
        let fail = |what: &str, error: &dyn std::fmt::Display| {
            EmulatorError(format!("{method} /_wsdr/{path}: {what}: {error}"))
        };
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut stream = TcpStream::connect(address).map_err(|error| fail("connect", &error))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|error| fail("timeout", &error))?;
        write!(
            stream,
            "{method} /_wsdr/{path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .map_err(|error| fail("send", &error))?;
        let mut response = String::new();
        stream.read_to_string(&mut response).map_err(|error| fail("read", &error))?;
        let (head, payload) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status_ok = head.split_whitespace().nth(1) == Some("200");
        if !status_ok {
            return Err(fail("answer", &head.lines().next().unwrap_or_default()));
        }
        serde_json::from_str(payload).map_err(|error| fail("JSON", &error))
    }

    /// Reads and zeroes the call counters (`calls` by `service:Operation`, `throttled`, …).
    pub fn take_counters(&self) -> Result<Value, EmulatorError> {
        self.control("GET", "counters?reset=1", None)
    }

    /// Completes every pending WorkSpaces lifecycle transition now.
    pub fn settle(&self) -> Result<(), EmulatorError> {
        self.control("POST", "settle", None).map(drop)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
