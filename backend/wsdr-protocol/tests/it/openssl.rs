//! Interoperability with OpenSSL: our signatures verify with `openssl dgst -verify`, and
//! OpenSSL's (randomised, not RFC 6979, sometimes high-S: like AWS KMS's) verify with ours.
//!
//! These tests need the `openssl` command. They fail (never skip) without it, saying so.

use std::path::{Path, PathBuf};
use std::process::Output;

use wsdr_protocol::{KeyId, Signer as _, UnsignedDocument, verify};

use crate::support::{TEST_KEY_ID, TEST_KEY_PEM, TEST_PUB_PEM, keys, now, payload, test_signer};

/// Runs `openssl` with `args`; panics with an explicit message when it is not installed.
#[allow(clippy::disallowed_methods, reason = "a test helper runs the openssl tool, not the client")]
fn openssl(args: &[&std::ffi::OsStr]) -> Output {
    match std::process::Command::new("openssl").args(args).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "the `openssl` command is not installed (or not on PATH): these interoperability tests \
             need it and do not skip. Install it (Debian: apt-get install openssl)."
        ),
        Err(e) => panic!("could not run openssl: {e}"),
    }
}

/// A fresh directory under Cargo's per-test-target temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wsdr-protocol-openssl").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn openssl_verifies_our_signatures() {
    let dir = scratch("verify");
    let unsigned = UnsignedDocument::new(&payload(42)).unwrap();
    let signature = test_signer().sign_der(unsigned.signing_input()).unwrap();
    let payload_path = write(&dir, "payload.json", unsigned.signing_input());
    let signature_path = write(&dir, "signature.der", &signature);
    // The public key as we write it, to check openssl reads our PEM too.
    let pub_pem = test_signer().public_key().to_spki_pem().unwrap();
    assert_eq!(pub_pem.trim(), TEST_PUB_PEM.trim());
    let pub_path = write(&dir, "pub.pem", pub_pem.as_bytes());

    let out = openssl(&[
        "dgst".as_ref(),
        "-sha256".as_ref(),
        "-verify".as_ref(),
        pub_path.as_os_str(),
        "-signature".as_ref(),
        signature_path.as_os_str(),
        payload_path.as_os_str(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openssl refused our signature: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "Verified OK");

    // And a tampered payload is refused by openssl as well (the check is real).
    let mut tampered = unsigned.signing_input().to_vec();
    tampered[20] ^= 1;
    let tampered_path = write(&dir, "tampered.json", &tampered);
    let out = openssl(&[
        "dgst".as_ref(),
        "-sha256".as_ref(),
        "-verify".as_ref(),
        pub_path.as_os_str(),
        "-signature".as_ref(),
        signature_path.as_os_str(),
        tampered_path.as_os_str(),
    ]);
    assert!(!out.status.success());
}

#[test]
fn we_verify_openssl_signatures() {
    let dir = scratch("sign");
    let key_path = write(&dir, "key.pem", TEST_KEY_PEM.as_bytes());
    for sequence in 1..=6_u64 {
        let unsigned = UnsignedDocument::new(&payload(sequence)).unwrap();
        let payload_path = write(&dir, "payload.json", unsigned.signing_input());
        let signature_path = dir.join("signature.der");
        let out = openssl(&[
            "dgst".as_ref(),
            "-sha256".as_ref(),
            "-sign".as_ref(),
            key_path.as_os_str(),
            "-out".as_ref(),
            signature_path.as_os_str(),
            payload_path.as_os_str(),
        ]);
        assert!(
            out.status.success(),
            "openssl could not sign: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let signature = std::fs::read(&signature_path).unwrap();
        let document = unsigned
            .assemble(KeyId::parse(TEST_KEY_ID).unwrap(), &signature)
            .unwrap()
            .to_json_bytes();
        let verified = verify(&document, &keys(), None, now()).unwrap();
        assert_eq!(verified.payload().sequence, sequence);
    }
}
