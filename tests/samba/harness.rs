#![allow(dead_code)]
//! The Samba AD DC harness for wsdr's LDAP tests: one throwaway DC per test process, on loopback (LDAPS 636,
//! LDAP + StartTLS 389), started from the seeded template of `tests/samba/` by `tests/samba/run-dc.sh
//! --exit-with-parent` (which stops it and removes its folder once this process exits), plus a TCP relay that
//! injects faults (cut, stall, DC killed) mid-stream. Std (and the workspace's `base64`) only; include it with
//! `#[path = "../../../tests/samba/harness.rs"] mod samba;`. Needs root (samba does).
//!
//! The ports are fixed, so the DC is shared by every test of the process ([`SambaDc::shared`]): tests that change
//! the directory use their own users or the scratch OUs (`OU=Churn`, `OU=Spare1`..`OU=Spare4`), and a test that
//! calls [`SambaDc::kill_dc`] belongs in a test binary of its own. The fixture is in `tests/samba/README.md`.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The domain's DN (realm `CORP.EXAMPLE.COM`, NetBIOS `CORP`).
pub(crate) const DOMAIN_DN: &str = "DC=corp,DC=example,DC=com";
/// The UPN suffix of every fixture user (`alice@corp.example.com`).
pub(crate) const UPN_SUFFIX: &str = "@corp.example.com";
/// The service account wsdr binds as (a UPN; [`SERVICE_DN`] binds too).
pub(crate) const SERVICE_UPN: &str = "svc-wsdr@corp.example.com";
/// The service account's DN.
pub(crate) const SERVICE_DN: &str = "CN=svc-wsdr,CN=Users,DC=corp,DC=example,DC=com";
/// The service account's password (defined in `tests/samba/credentials.sh`; checked against it at start-up).
pub(crate) const SERVICE_PASSWORD: &str = "Svc-Bind-Pa55word.1";
/// The domain administrator, used by [`SambaDc::ldapmodify`].
pub(crate) const ADMIN_UPN: &str = "Administrator@corp.example.com";
/// The administrator's password (defined in `tests/samba/credentials.sh`).
pub(crate) const ADMIN_PASSWORD: &str = "Dc-Root-Pa55word.1";
/// The filter wsdr searches with: enabled user accounts (people, not computers).
pub(crate) const ENABLED_USERS_FILTER: &str =
    "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))";
/// LDAPS port (fixed: samba cannot move it).
pub(crate) const LDAPS_PORT: u16 = 636;
/// LDAP port, for StartTLS (a simple bind without TLS is refused: "Transport encryption required").
pub(crate) const LDAP_PORT: u16 = 389;
/// `userAccountControl` of an enabled fixture user (NORMAL_ACCOUNT | PASSWD_NOTREQD).
pub(crate) const UAC_ENABLED: u32 = 544;
/// `userAccountControl` of a disabled fixture user (the same | ACCOUNTDISABLE).
pub(crate) const UAC_DISABLED: u32 = 546;

/// Enabled sAMAccountNames of a subtree search of `OU=DR Users` (bob, dave and the computer `WS-0001$` are not).
pub(crate) const DR_USERS_SUBTREE: [&str; 4] = ["alice", "carol", "grace", "jmüller"];
/// Enabled sAMAccountNames of a one-level search of `OU=DR Users`.
pub(crate) const DR_USERS_ONE_LEVEL: [&str; 2] = ["alice", "jmüller"];
/// Enabled sAMAccountNames of `OU=Churn` as seeded.
pub(crate) const CHURN_USERS: [&str; 3] = ["churn1", "churn2", "churn3"];

/// Enabled sAMAccountNames of `OU=Paging`: `pg001`..`pg300` (the 20 `pgoffNN` are disabled).
pub(crate) fn paging_users() -> BTreeSet<String> {
    (1..=300).map(|i| format!("pg{i:03}")).collect()
}

/// Enabled sAMAccountNames of `OU=SpareN` as seeded (N in 1..=4): `sNa sNb sNc`.
pub(crate) fn spare_users(n: u8) -> BTreeSet<String> {
    ["a", "b", "c"].iter().map(|x| format!("s{n}{x}")).collect()
}

/// The DN of an OU given top-down with `/`: `ou_dn("DR Users/Finance")` is
/// `OU=Finance,OU=DR Users,DC=corp,DC=example,DC=com`. Names are used as they are (no DN escaping).
pub(crate) fn ou_dn(ou_path: &str) -> String {
    let mut dn: Vec<String> = ou_path.split('/').rev().map(|ou| format!("OU={ou}")).collect();
    dn.push(DOMAIN_DN.to_owned());
    dn.join(",")
}

/// Percent-encodes a DN for an LDAP URL (RFC 4516 / RFC 3986): unreserved characters and `!$&'()*+,;=:@/` stay,
/// everything else (space, `?`, `#`, `%`, `\`, `"`, `<`, `>`, non-ASCII as UTF-8 bytes, ...) becomes `%XX`.
pub(crate) fn percent_encode_dn(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    for byte in dn.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The running DC (see the module's doc).
pub(crate) struct SambaDc {
    pid: u32,
    script_pid: u32,
    run_dir: PathBuf,
    ca: PathBuf,
    other_ca: PathBuf,
    /// Everything run-dc.sh wrote on stderr (its stderr is drained for the whole life of the process).
    script_log: Arc<Mutex<String>>,
}

static SHARED: OnceLock<Result<SambaDc, String>> = OnceLock::new();

impl SambaDc {
    /// The DC of this test process, started on first use (a cold template build takes ~5 s, a start ~0.5 s).
    /// Panics with run-dc.sh's stderr when it cannot start (every later call panics with the same message).
    pub(crate) fn shared() -> &'static SambaDc {
        match SHARED.get_or_init(SambaDc::start) {
            Ok(dc) => dc,
            Err(message) => panic!("{message}"),
        }
    }

    // The DC is started by run-dc.sh, a test script, not the WorkSpaces client.
    #[allow(clippy::disallowed_methods)]
    fn start() -> Result<SambaDc, String> {
        let script = repo_root()?.join("tests/samba/run-dc.sh");
        check_credentials(&script)?;
        let mut child = Command::new(&script)
            .arg("--exit-with-parent")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        let script_log = Arc::new(Mutex::new(String::new()));
        let stderr_thread = {
            let log = Arc::clone(&script_log);
            let mut stderr = child.stderr.take().expect("piped stderr");
            thread::spawn(move || drain(&mut stderr, &log))
        };
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<String>();
        {
            let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
            // Sends the ready line, then keeps draining (nothing more is expected).
            thread::spawn(move || {
                let mut line = String::new();
                loop {
                    line.clear();
                    match stdout.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {
                            if line.starts_with("ready ") && line.ends_with('\n') {
                                let _ = ready_tx.send(line.trim_end().to_owned());
                            }
                        }
                    }
                }
            });
        }
        // EOF without a ready line drops the sender: recv fails. The script has its own timeouts (readiness 30 s,
        // waiting for another DC 120 s); this bound only guards against a hung script.
        let ready = ready_rx.recv_timeout(Duration::from_secs(600));
        let line = match ready {
            Ok(line) => line,
            Err(_) => {
                if matches!(child.try_wait(), Ok(None)) {
                    // TERM, not KILL: the script then stops samba and removes its folder.
                    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
                }
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                let _ = stderr_thread.join();
                return Err(format!(
                    "the Samba DC did not start ({} {status}); its stderr ends with:\n{}",
                    script.display(),
                    tail(&lock(&script_log), 40)
                ));
            }
        };
        let field = |key: &str, next: Option<&str>| -> Result<String, String> {
            let start = line.find(&format!(" {key}=")).ok_or(format!("no {key}= in {line:?}"))?
                + key.len()
                + 2;
            let end = next
                .and_then(|n| line[start..].find(&format!(" {n}=")))
                .map_or(line.len(), |i| start + i);
            Ok(line[start..end].to_owned())
        };
        let pid =
            field("pid", Some("dir"))?.parse::<u32>().map_err(|e| format!("{line:?}: {e}"))?;
        Ok(SambaDc {
            pid,
            script_pid: child.id(),
            run_dir: PathBuf::from(field("dir", Some("ca"))?),
            ca: PathBuf::from(field("ca", Some("other_ca"))?),
            other_ca: PathBuf::from(field("other_ca", None)?),
            script_log,
        })
    }

    /// `ldaps://127.0.0.1:636/<base_dn, percent-encoded>`; append `??one` for a one-level search.
    pub(crate) fn ldaps_url(&self, base_dn: &str) -> String {
        format!("ldaps://127.0.0.1:{LDAPS_PORT}/{}", percent_encode_dn(base_dn))
    }

    /// `ldap://127.0.0.1:389/<base_dn, percent-encoded>` (StartTLS).
    pub(crate) fn ldap_url(&self, base_dn: &str) -> String {
        format!("ldap://127.0.0.1:{LDAP_PORT}/{}", percent_encode_dn(base_dn))
    }

    /// LDAPS on loopback, for [`TcpRelay::start`].
    pub(crate) fn ldaps_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], LDAPS_PORT))
    }

    /// The CA (PEM) that signed the DC's certificate (SANs: localhost, dc1.corp.example.com, 127.0.0.1).
    pub(crate) fn ca_bundle(&self) -> &Path {
        &self.ca
    }

    /// An unrelated CA (PEM) that signed nothing: verifying the DC against it must fail.
    pub(crate) fn other_ca(&self) -> &Path {
        &self.other_ca
    }

    /// The samba process's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The DC's run folder (a copy of the template; `samba.log` is there). Removed when this process exits.
    pub(crate) fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// What run-dc.sh has written on stderr so far.
    pub(crate) fn script_log(&self) -> String {
        lock(&self.script_log).clone()
    }

    /// The last lines of samba's own log.
    pub(crate) fn samba_log_tail(&self, lines: usize) -> String {
        tail(&std::fs::read_to_string(self.run_dir.join("samba.log")).unwrap_or_default(), lines)
    }

    /// Runs an ldap-utils tool (`ldapsearch`, `ldapmodify`, ...) with the DC's CA trusted; `args` name the server
    /// and the bind. Answers its output whatever its exit status.
    pub(crate) fn ldap_tool(&self, tool: &str, args: &[&str], stdin: &str) -> Output {
        self.ldap_tool_trusting(&self.ca, tool, args, stdin)
    }

    /// [`SambaDc::ldap_tool`] trusting the CA file `ca` instead (e.g. [`SambaDc::other_ca`]).
    // The ldap-utils tools are the test's independent view of the directory.
    #[allow(clippy::disallowed_methods)]
    pub(crate) fn ldap_tool_trusting(
        &self,
        ca: &Path,
        tool: &str,
        args: &[&str],
        stdin: &str,
    ) -> Output {
        let mut child = Command::new(tool)
            .args(args)
            .env("LDAPTLS_CACERT", ca)
            .env("LDAPTLS_REQCERT", "demand")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {tool} (apt-get install ldap-utils): {e}"));
        let mut input = child.stdin.take().expect("piped stdin");
        let stdin = stdin.to_owned();
        let writer = thread::spawn(move || {
            let _ = input.write_all(stdin.as_bytes());
        });
        let output = child.wait_with_output().expect("waiting for an ldap-utils tool");
        writer.join().expect("stdin writer");
        output
    }

    /// Applies `ldif` (changetype records) as Administrator over LDAPS with `ldapmodify`; panics with its output
    /// on failure.
    pub(crate) fn ldapmodify(&self, ldif: &str) {
        let url = format!("ldaps://127.0.0.1:{LDAPS_PORT}");
        let output = self.ldap_tool(
            "ldapmodify",
            &["-x", "-H", &url, "-D", ADMIN_UPN, "-w", ADMIN_PASSWORD],
            ldif,
        );
        assert!(
            output.status.success(),
            "ldapmodify failed ({}):\n{}{}\nLDIF:\n{ldif}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Sets `userAccountControl` of the user `dn` to [`UAC_DISABLED`].
    pub(crate) fn disable_user(&self, dn: &str) {
        self.set_uac(dn, UAC_DISABLED);
    }

    /// Sets `userAccountControl` of the user `dn` to [`UAC_ENABLED`].
    pub(crate) fn enable_user(&self, dn: &str) {
        self.set_uac(dn, UAC_ENABLED);
    }

    fn set_uac(&self, dn: &str, uac: u32) {
        self.ldapmodify(&format!(
            "{}changetype: modify\nreplace: userAccountControl\nuserAccountControl: {uac}\n-\n",
            ldif_dn(dn)
        ));
    }

    /// Adds the user `CN=<name>,<ou_dn>` (sAMAccountName `name`, UPN `name@corp.example.com`, no password),
    /// enabled or disabled; answers its DN.
    pub(crate) fn add_user(&self, ou_dn: &str, name: &str, enabled: bool) -> String {
        let dn = format!("CN={name},{ou_dn}");
        let uac = if enabled { UAC_ENABLED } else { UAC_DISABLED };
        self.ldapmodify(&format!(
            "{}changetype: add\nobjectClass: user\n{}{}userAccountControl: {uac}\n",
            ldif_dn(&dn),
            ldif_attr("sAMAccountName", name),
            ldif_attr("userPrincipalName", &format!("{name}{UPN_SUFFIX}")),
        ));
        dn
    }

    /// Deletes the entry `dn` (a leaf).
    pub(crate) fn delete_entry(&self, dn: &str) {
        self.ldapmodify(&format!("{}changetype: delete\n", ldif_dn(dn)));
    }

    /// Runs `ldapsearch` as svc-wsdr over LDAPS (`scope`: `base`, `one` or `sub`); answers its LDIF output
    /// (`-LLL`, unwrapped; non-ASCII values are base64, `attr:: ...`). Panics if it fails.
    pub(crate) fn ldapsearch(
        &self,
        base_dn: &str,
        scope: &str,
        filter: &str,
        attrs: &[&str],
    ) -> String {
        let url = format!("ldaps://127.0.0.1:{LDAPS_PORT}");
        let mut args = vec![
            "-x",
            "-LLL",
            "-o",
            "ldif-wrap=no",
            "-H",
            &url,
            "-D",
            SERVICE_UPN,
            "-w",
            SERVICE_PASSWORD,
        ];
        args.extend(["-b", base_dn, "-s", scope, filter]);
        args.extend(attrs);
        let output = self.ldap_tool("ldapsearch", &args, "");
        assert!(
            output.status.success(),
            "ldapsearch failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("ldapsearch prints UTF-8")
    }

    /// The sAMAccountNames wsdr should list under `base_dn` (subtree or one level), read with `ldapsearch`:
    /// the expected answer, independently of the code under test.
    pub(crate) fn enabled_users(&self, base_dn: &str, subtree: bool) -> BTreeSet<String> {
        let out = self.ldapsearch(
            base_dn,
            if subtree { "sub" } else { "one" },
            ENABLED_USERS_FILTER,
            &["sAMAccountName"],
        );
        ldif_values(&out, "sAMAccountName")
            .into_iter()
            .map(|v| String::from_utf8(v).expect("sAMAccountName is UTF-8"))
            .collect()
    }

    /// The objectGUID of the entry `dn`, as the 16 bytes on the wire.
    pub(crate) fn object_guid(&self, dn: &str) -> [u8; 16] {
        let out = self.ldapsearch(dn, "base", "(objectClass=*)", &["objectGUID"]);
        let values = ldif_values(&out, "objectGUID");
        let value = values.first().unwrap_or_else(|| panic!("no objectGUID for {dn}:\n{out}"));
        value
            .as_slice()
            .try_into()
            .unwrap_or_else(|_| panic!("objectGUID of {dn} is {} bytes", value.len()))
    }

    /// SIGKILLs samba (with `kill`) and waits (up to 10 s) until port 636 refuses connections. The DC stays down
    /// for the rest of the process (run-dc.sh then exits and removes the run folder).
    // `kill` is the std-only way to signal a process (no unsafe, no libc).
    #[allow(clippy::disallowed_methods)]
    pub(crate) fn kill_dc(&self) {
        let status = Command::new("kill")
            .args(["-KILL", &self.pid.to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -KILL {} failed", self.pid);
        for _ in 0..200 {
            if TcpStream::connect_timeout(&self.ldaps_addr(), Duration::from_millis(200)).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("port {LDAPS_PORT} still accepts connections 10 s after kill -KILL {}", self.pid);
    }

    /// The pid of run-dc.sh (the DC's supervisor).
    pub(crate) fn script_pid(&self) -> u32 {
        self.script_pid
    }
}

/// The repository root: the first ancestor of this crate that holds `tests/samba/run-dc.sh`.
pub(crate) fn repo_root() -> Result<PathBuf, String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("tests/samba/run-dc.sh").is_file())
        .map(Path::to_path_buf)
        .ok_or(format!("no tests/samba/run-dc.sh above {}", manifest.display()))
}

/// The passwords here must be credentials.sh's (the template is built from it).
fn check_credentials(script: &Path) -> Result<(), String> {
    let file = script.with_file_name("credentials.sh");
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    for (name, value) in [
        ("SERVICE_UPN", SERVICE_UPN),
        ("SERVICE_PASSWORD", SERVICE_PASSWORD),
        ("ADMIN_UPN", ADMIN_UPN),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("SAMBA_DOMAIN_DN", DOMAIN_DN),
    ] {
        if !text.lines().any(|line| line == format!("{name}='{value}'")) {
            return Err(format!(
                "harness.rs's {name} ({value:?}) is not the one in {}",
                file.display()
            ));
        }
    }
    Ok(())
}

fn drain(source: &mut impl Read, log: &Mutex<String>) {
    let mut buf = [0_u8; 4096];
    loop {
        match source.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let mut text = lock(log);
                text.push_str(&String::from_utf8_lossy(&buf[..n]));
                if text.len() > 256 * 1024 {
                    let cut = text.len() - 128 * 1024;
                    let cut = (cut..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(cut);
                    text.drain(..cut);
                }
            }
        }
    }
}

/// Locks `mutex`, even if a panicking thread poisoned it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `dn: ...` (or `dn:: base64` when not plain ASCII) and a newline.
fn ldif_dn(dn: &str) -> String {
    ldif_attr("dn", dn)
}

/// `name: value` (or `name:: base64` when the value is not safe as is) and a newline.
fn ldif_attr(name: &str, value: &str) -> String {
    let safe = value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !value.starts_with([' ', ':', '<'])
        && !value.ends_with(' ');
    if safe {
        format!("{name}: {value}\n")
    } else {
        format!("{name}:: {}\n", BASE64.encode(value.as_bytes()))
    }
}

/// The values of `attr` in unwrapped LDIF (`attr: text` or `attr:: base64`), as bytes.
fn ldif_values(ldif: &str, attr: &str) -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    for line in ldif.lines() {
        let Some((name, rest)) = line.split_once(':') else { continue };
        if !name.eq_ignore_ascii_case(attr) {
            continue;
        }
        if let Some(b64) = rest.strip_prefix(": ") {
            values.push(
                BASE64.decode(b64.trim()).unwrap_or_else(|e| panic!("bad base64 {b64:?}: {e}")),
            );
        } else {
            values.push(rest.strip_prefix(' ').unwrap_or(rest).as_bytes().to_vec());
        }
    }
    values
}

/// What a [`TcpRelay`] does to each connection. Byte counts are per connection, server → client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Forward everything.
    None,
    /// After forwarding exactly n bytes from the server, shut both sockets down (the client sees EOF).
    CutAfter(u64),
    /// After n bytes from the server, forward nothing more either way, but keep both sockets open until the
    /// relay is dropped (the client sees a silent server).
    StallAfter(u64),
    /// After n bytes from the server, SIGKILL the process `pid` (the DC: [`SambaDc::pid`]), then cut as
    /// [`Fault::CutAfter`].
    KillDcAfter(u64, u32),
}

/// A loopback TCP relay with fault injection: clients connect to [`TcpRelay::addr`], each connection is
/// forwarded to `upstream` by two threads (one per direction). Dropping it closes every socket and joins every
/// thread.
pub(crate) struct TcpRelay {
    addr: SocketAddr,
    shared: Arc<RelayShared>,
    acceptor: Option<JoinHandle<()>>,
}

struct RelayShared {
    upstream: SocketAddr,
    fault: Fault,
    stop: AtomicBool,
    forwarded: AtomicU64,
    sent_upstream: AtomicU64,
    connections: AtomicU64,
    faults: AtomicU64,
    sockets: Mutex<Vec<TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl TcpRelay {
    /// Listens on 127.0.0.1 (a free port) and relays to `upstream` with `fault`.
    pub(crate) fn start(upstream: SocketAddr, fault: Fault) -> TcpRelay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the relay on 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking listener"); // polled, so that drop can stop it
        let addr = listener.local_addr().expect("the relay's address");
        let shared = Arc::new(RelayShared {
            upstream,
            fault,
            stop: AtomicBool::new(false),
            forwarded: AtomicU64::new(0),
            sent_upstream: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            faults: AtomicU64::new(0),
            sockets: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || accept_loop(&listener, &shared))
        };
        TcpRelay { addr, shared, acceptor: Some(acceptor) }
    }

    /// Where clients connect.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// [`TcpRelay::addr`]'s port.
    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Bytes forwarded server → client, over all connections.
    pub(crate) fn forwarded(&self) -> u64 {
        self.shared.forwarded.load(Ordering::SeqCst)
    }

    /// Bytes forwarded client → server, over all connections.
    pub(crate) fn sent_upstream(&self) -> u64 {
        self.shared.sent_upstream.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub(crate) fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// How many times the fault has struck (once per connection at most).
    pub(crate) fn faults(&self) -> u64 {
        self.shared.faults.load(Ordering::SeqCst)
    }
}

impl Drop for TcpRelay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for socket in lock(&self.shared.sockets).iter() {
            let _ = socket.shutdown(Shutdown::Both);
        }
        let threads = std::mem::take(&mut *lock(&self.shared.threads));
        for handle in threads {
            let _ = handle.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<RelayShared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let _ = client.set_nonblocking(false);
                let Ok(server) =
                    TcpStream::connect_timeout(&shared.upstream, Duration::from_secs(5))
                else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let conn = Arc::new(Conn { client, server, stalled: AtomicBool::new(false) });
                {
                    let mut sockets = lock(&shared.sockets);
                    sockets.push(conn.client.try_clone().expect("cloning a socket"));
                    sockets.push(conn.server.try_clone().expect("cloning a socket"));
                }
                let down = {
                    let (shared, conn) = (Arc::clone(shared), Arc::clone(&conn));
                    thread::spawn(move || server_to_client(&shared, &conn))
                };
                let up = {
                    let (shared, conn) = (Arc::clone(shared), Arc::clone(&conn));
                    thread::spawn(move || client_to_server(&shared, &conn))
                };
                lock(&shared.threads).extend([down, up]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

struct Conn {
    client: TcpStream,
    server: TcpStream,
    stalled: AtomicBool,
}

impl Conn {
    fn cut(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

/// Blocks until the relay is dropped.
fn wait_for_stop(shared: &RelayShared) {
    while !shared.stop.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(10));
    }
}

fn server_to_client(shared: &RelayShared, conn: &Conn) {
    let budget = match shared.fault {
        Fault::None => u64::MAX,
        Fault::CutAfter(n) | Fault::StallAfter(n) | Fault::KillDcAfter(n, _) => n,
    };
    let mut done = 0_u64;
    let mut buf = [0_u8; 16 * 1024];
    loop {
        if done >= budget {
            strike(shared, conn);
            return;
        }
        let n = match (&conn.server).read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = conn.client.shutdown(Shutdown::Write); // pass the server's EOF on
                return;
            }
            Ok(n) => n,
        };
        let allowed = usize::try_from((budget - done).min(n as u64)).unwrap_or(n);
        if (&conn.client).write_all(&buf[..allowed]).is_err() {
            let _ = conn.server.shutdown(Shutdown::Both);
            return;
        }
        done += allowed as u64;
        shared.forwarded.fetch_add(allowed as u64, Ordering::SeqCst);
    }
}

/// The fault strikes (the budget is spent).
// `kill` is the std-only way to signal a process (no unsafe, no libc).
#[allow(clippy::disallowed_methods)]
fn strike(shared: &RelayShared, conn: &Conn) {
    shared.faults.fetch_add(1, Ordering::SeqCst);
    match shared.fault {
        Fault::None => {}
        Fault::CutAfter(_) => conn.cut(),
        Fault::StallAfter(_) => {
            conn.stalled.store(true, Ordering::SeqCst);
            wait_for_stop(shared); // sockets stay open; drop shuts them down
        }
        Fault::KillDcAfter(_, pid) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            conn.cut();
        }
    }
}

fn client_to_server(shared: &RelayShared, conn: &Conn) {
    let mut buf = [0_u8; 16 * 1024];
    loop {
        let n = match (&conn.client).read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = conn.server.shutdown(Shutdown::Write); // pass the client's EOF on
                return;
            }
            Ok(n) => n,
        };
        if conn.stalled.load(Ordering::SeqCst) {
            wait_for_stop(shared); // stalled: forward nothing more
            return;
        }
        if (&conn.server).write_all(&buf[..n]).is_err() {
            let _ = conn.client.shutdown(Shutdown::Both);
            return;
        }
        shared.sent_upstream.fetch_add(n as u64, Ordering::SeqCst);
    }
}
