//! `wsdr status sign | verify | show`: make, check and inspect signed status documents.
//!
//! - `sign --payload FILE` signs an unsigned payload (JSON as docs/contracts.md's "Status document" describes it) with a
//!   local key or a KMS key and prints the envelope.
//! - `verify --document FILE|s3://B/K --public-key PEM` checks a document exactly as the tray does (signature,
//!   key id, payload rules, expiry, and with `--highest-seen N` replay) and prints the verified payload; exit 2
//!   when it is rejected, with the reason.
//! - `show` prints the deployment's failover state and the published document (verified when `--public-key` is
//!   given).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use jiff::Timestamp;
use serde_json::{Value, json};
use wsdr_aws::s3::{S3Location, S3Store};
use wsdr_protocol::{
    HighestSeen, KeyId, KeyRing, PublicKey, StatusPayload, UnsignedDocument, verify,
};

use wsdr_aws::status::judge;
use wsdr_core::failover::Published;
use wsdr_drivers::ports::ObjectStore as _;

use super::admin::{DeployArgs, KeyChoice, driver, driver_failure};
use super::aws::{block_on, clients, failure};
use crate::failure::Failure;
use crate::{clock, output};

/// `wsdr status …`.
#[derive(Debug, Subcommand)]
pub(crate) enum StatusCommand {
    /// Signs an unsigned payload (JSON) and prints the signed envelope.
    Sign(SignArgs),
    /// Verifies a signed status document as the tray does and prints its payload; exit 2 if it is rejected.
    Verify(VerifyArgs),
    /// The failover state and the published status document.
    Show(ShowArgs),
}

/// `wsdr status sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The payload to sign (JSON with version, sequence, issued_at, expires_at, state, primary, dr, active,
    /// message, cause).
    #[arg(long, value_name = "FILE")]
    pub(crate) payload: PathBuf,
    /// Write the envelope here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// A local PKCS#8 P-256 private key [env: WSDR_STATUS_KEY_FILE]; without it the KMS key --key-id signs.
    #[arg(long, value_name = "FILE")]
    pub(crate) key_file: Option<PathBuf>,
    /// The key id written into the envelope (the KMS key without --key-file) [env: WSDR_STATUS_KEY_ID].
    #[arg(long, value_name = "ID")]
    pub(crate) key_id: Option<String>,
    /// The AWS region of KMS (default: the standard AWS environment).
    #[arg(long, value_name = "R")]
    pub(crate) region: Option<String>,
}

/// `wsdr status verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The signed document: a file or s3://BUCKET/KEY.
    #[arg(long, value_name = "FILE|S3")]
    pub(crate) document: String,
    /// The trusted public key (PEM, "BEGIN PUBLIC KEY").
    #[arg(long, value_name = "FILE")]
    pub(crate) public_key: PathBuf,
    /// The id of that key (default: the id the document names, i.e. trust the key given for any id).
    #[arg(long, value_name = "ID")]
    pub(crate) key_id: Option<String>,
    /// Reject documents whose sequence is not above this one (the tray's replay check).
    #[arg(long, value_name = "N")]
    pub(crate) highest_seen: Option<u64>,
    /// Verify as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub(crate) now: Option<Timestamp>,
    /// The AWS region for s3:// documents (default: the standard AWS environment).
    #[arg(long, value_name = "R")]
    pub(crate) region: Option<String>,
}

/// `wsdr status show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// Also verify the published document with this public key (PEM).
    #[arg(long, value_name = "FILE")]
    pub(crate) public_key: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) deploy: DeployArgs,
}

pub(crate) fn run(command: &StatusCommand) -> Result<(), Failure> {
    match command {
        StatusCommand::Sign(args) => sign(args),
        StatusCommand::Verify(args) => verify_document(args),
        StatusCommand::Show(args) => show(args),
    }
}

fn sign(args: &SignArgs) -> Result<(), Failure> {
    let path = args.payload.display();
    let bytes = std::fs::read(&args.payload)
        .map_err(|error| Failure::BadInput(format!("{path}: cannot read the payload: {error}")))?;
    let payload = StatusPayload::from_unsigned_json(&bytes)
        .map_err(|error| Failure::BadInput(format!("{path}: {error}")))?;
    let unsigned = UnsignedDocument::new(&payload)
        .map_err(|error| Failure::BadInput(format!("{path}: {error}")))?;
    let key = KeyChoice::from_flags(args.key_file.as_ref(), args.key_id.as_ref())?;
    let document = block_on(async {
        let signer = match key {
            KeyChoice::Local(signer) => wsdr_aws::status::StatusSigner::Local(signer),
            kms @ KeyChoice::Kms(_) => kms.signer(&clients(args.region.clone()).await?),
        };
        signer.sign(unsigned).await.map_err(failure)
    })??;
    let mut bytes = document.to_json_bytes();
    bytes.push(b'\n');
    match &args.out {
        Some(out) => std::fs::write(out, &bytes).map_err(|error| {
            Failure::Operations(format!("{}: cannot write: {error}", out.display()))
        }),
        None => {
            output::print(&String::from_utf8_lossy(&bytes));
            Ok(())
        }
    }
}

fn read_public_key(path: &PathBuf) -> Result<PublicKey, Failure> {
    let pem = std::fs::read_to_string(path).map_err(|error| {
        Failure::BadInput(format!("{}: cannot read the public key: {error}", path.display()))
    })?;
    PublicKey::from_spki_pem(&pem)
        .map_err(|error| Failure::BadInput(format!("{}: {error}", path.display())))
}

/// The envelope's `key_id`, unverified (only to label the key the admin supplied).
fn envelope_key_id(document: &[u8]) -> Option<String> {
    let envelope: Value = serde_json::from_slice(document).ok()?;
    Some(envelope.get("key_id")?.as_str()?.to_owned())
}

fn verify_document(args: &VerifyArgs) -> Result<(), Failure> {
    let document = if args.document.starts_with("s3://") {
        let location: S3Location = args
            .document
            .parse()
            .map_err(|error| Failure::BadInput(format!("--document: {error}")))?;
        block_on(async {
            let clients = clients(args.region.clone()).await?;
            S3Store::new(clients.s3)
                .get(&location)
                .await
                .map(|object| object.bytes)
                .map_err(failure)
        })??
    } else {
        std::fs::read(&args.document).map_err(|error| {
            Failure::BadInput(format!("{}: cannot read the document: {error}", args.document))
        })?
    };
    let key = read_public_key(&args.public_key)?;
    let key_id = args
        .key_id
        .clone()
        .or_else(|| envelope_key_id(&document))
        .unwrap_or_else(|| "wsdr".to_owned());
    let key_id = KeyId::parse(&key_id)
        .map_err(|error| Failure::BadInput(format!("key id {key_id:?} {error}")))?;
    let mut keys = KeyRing::new();
    keys.insert(key_id, key).map_err(|error| Failure::BadInput(error.to_string()))?;
    let seen = args.highest_seen.map(|sequence| HighestSeen { sequence, payload_sha256: [0; 32] });
    let now = args.now.unwrap_or_else(clock::now);
    let verified = verify(&document, &keys, seen.as_ref(), now).map_err(|rejection| {
        Failure::BadInput(format!("{}: rejected: {rejection}", args.document))
    })?;
    output::print_json(&json!({
        "verified": true,
        "key_id": verified.key_id().as_str(),
        "payload": payload_json(verified.payload()),
    }))
}

fn payload_json(payload: &StatusPayload) -> Value {
    payload
        .to_json_bytes()
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

fn show(args: &ShowArgs) -> Result<(), Failure> {
    let key = args.public_key.as_ref().map(read_public_key).transpose()?;
    block_on(async {
        let driver = driver(&args.deploy, false).await?;
        let now = clock::now();
        let status = driver.status_object();
        let object = status.store().read(status.location()).await.map_err(failure)?;
        // Judged with the key given, else with the deployment's signing key (what the publisher trusts).
        let keys = match (&key, &object) {
            (Some(key), Some(object)) => {
                let key_id = envelope_key_id(&object.bytes).unwrap_or_else(|| "wsdr".to_owned());
                let mut keys = KeyRing::new();
                if let Ok(id) = KeyId::parse(&key_id) {
                    let _ = keys.insert(id, *key);
                }
                keys
            }
            _ => driver.keys().await.map_err(failure)?,
        };
        let current = judge(object.as_ref(), &keys, now);
        let loaded = driver.load(Some(&keys), now).await.map_err(driver_failure)?;
        let state = &loaded.record.state;
        let (verification, expires_at) = match &current.published {
            Published::Absent => (Value::Null, None),
            Published::Unverifiable { reason } => (json!(format!("rejected: {reason}")), None),
            Published::Verified { expires_at, .. } => (json!("valid"), Some(*expires_at)),
        };
        output::print_json(&json!({
            "state_object": driver.record_location().to_string(),
            "stored": loaded.etag.is_some(),
            "mode": state.mode(),
            "active": state.active().as_str(),
            "last_sequence": state.last_sequence(),
            "open_events": state.open_events(),
            "pending_effects": loaded.record.pending.len(),
            "status_object": status.location().to_string(),
            "published": object.as_ref().map(|_| json!({
                "etag": current.etag,
                "sequence": current.sequence(),
                "state": current.state,
                "expires_at": expires_at,
                "verification": verification,
            })),
        }))
    })?
}
