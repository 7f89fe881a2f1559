//! `wsdr keygen`: a local status-signing key (P-256, unencrypted PKCS#8 PEM, file mode 0600) for the local default
//! and for tests; prints its public key and the `[public_keys]` entry for the tray configuration. Production signs
//! with the stack's KMS key instead, whose private half never leaves KMS.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use wsdr_protocol::{KeyId, LocalSigner};

use crate::cli::Format;
use crate::failure::Failure;
use crate::output;

/// `wsdr keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Where to write the private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// The key id documents will carry (default: the file name without extension).
    #[arg(long, value_name = "ID")]
    pub(crate) key_id: Option<String>,
    /// Also write the public key (PEM) here.
    #[arg(long, value_name = "FILE")]
    pub(crate) public_out: Option<PathBuf>,
    /// Replace an existing key file.
    #[arg(long)]
    pub(crate) force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
}

pub(crate) fn run(args: &KeygenArgs) -> Result<(), Failure> {
    let id = args
        .key_id
        .clone()
        .or_else(|| args.out.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
        .unwrap_or_else(|| "wsdr".to_owned());
    let key_id =
        KeyId::parse(&id).map_err(|error| Failure::BadInput(format!("--key-id {id:?} {error}")))?;
    let signer = loop {
        let mut secret = [0_u8; 32];
        getrandom::fill(&mut secret).map_err(|error| {
            Failure::Operations(format!("the OS random generator failed: {error}"))
        })?;
        // Not every 32-byte string is a valid scalar (probability ~2^-32 of drawing one that is not): draw again.
        if let Ok(signer) = LocalSigner::from_secret_bytes(key_id.clone(), &secret) {
            break signer;
        }
    };
    let private = signer.to_pkcs8_pem().map_err(|error| Failure::Operations(error.to_string()))?;
    let public = signer.public_key();
    let public_pem =
        public.to_spki_pem().map_err(|error| Failure::Operations(error.to_string()))?;
    let fingerprint =
        public.fingerprint().map_err(|error| Failure::Operations(error.to_string()))?;

    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let path = args.out.display();
    let mut file = options.open(&args.out).map_err(|error| {
        Failure::BadInput(format!(
            "{path}: cannot create the key file: {error} (use --force to replace a key)"
        ))
    })?;
    file.write_all(private.as_str().as_bytes())
        .map_err(|error| Failure::Operations(format!("{path}: cannot write: {error}")))?;
    if let Some(public_out) = &args.public_out {
        std::fs::write(public_out, &public_pem).map_err(|error| {
            Failure::Operations(format!("{}: cannot write: {error}", public_out.display()))
        })?;
    }
    match args.format {
        Format::Json => output::print_json(&serde_json::json!({
            "key_id": key_id.as_str(),
            "private_key_file": args.out.display().to_string(),
            "public_key_pem": public_pem,
            "fingerprint": fingerprint,
        })),
        Format::Table => {
            output::print(&format!(
                "wrote private key {path} (key id {id}, {fingerprint})\n\nTray configuration (tray.toml):\n\
                 [public_keys]\n\"{id}\" = \"\"\"\n{public_pem}\"\"\"\n",
                id = key_id.as_str()
            ));
            Ok(())
        }
    }
}
