//! Tray configuration TOML → `wsdr_desktop_core::config::RawConfig::parse`, `Layers::merge`, `validate`.
//!
//! The input is one or two layers (files), split at the first NUL byte: the admins' file, then the user's.
//!
//! Properties: never panics; an empty layer is the identity; the user's file never overrides the admins'
//! `status_url` or `[public_keys]` (and never adds a key to the admins' ring), and wins `username` and
//! `poll_interval_secs`; validation either gives a `Config` that keeps its promises (https, or http to loopback only; no
//! credentials in the URL; interval in range; every public key in the ring) or lists at least one problem.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use wsdr_desktop_core::config::{
    ConfigProblem, Layers, MAX_POLL_INTERVAL_SECS, MIN_POLL_INTERVAL_SECS, RawConfig,
};

/// The admins' file `system` with the user's file `user` over it (no Group Policy).
fn merge(system: RawConfig, user: RawConfig) -> RawConfig {
    Layers { system, user, policy: RawConfig::default() }.merge().0
}

fn layer(name: &str, bytes: &[u8]) -> Option<RawConfig> {
    let text = std::str::from_utf8(bytes).ok()?;
    match RawConfig::parse(Path::new(name), text) {
        Ok(raw) => Some(raw),
        Err(problem) => {
            assert!(matches!(problem, ConfigProblem::Syntax { .. }));
            let _ = problem.to_string();
            None
        }
    }
}

fuzz_target!(|bytes: &[u8]| {
    let (first, second) = match bytes.iter().position(|&b| b == 0) {
        Some(at) => (&bytes[..at], Some(&bytes[at + 1..])),
        None => (bytes, None),
    };
    let Some(base) = layer("/etc/xdg/wsdr/config.toml", first) else { return };
    let later = match second {
        None => RawConfig::default(),
        Some(bytes) => match layer("~/.config/wsdr/config.toml", bytes) {
            Some(later) => later,
            None => return,
        },
    };

    assert_eq!(merge(base.clone(), RawConfig::default()), base, "an empty user layer changed the config");
    assert_eq!(merge(RawConfig::default(), base.clone()), base, "an empty admins' layer changed the config");
    let merged = merge(base.clone(), later.clone());
    // The admins' trust anchors win; the user's only count where the admins set none.
    assert_eq!(merged.status_url, base.status_url.clone().or(later.status_url.clone()));
    if base.public_keys.is_empty() {
        assert_eq!(merged.public_keys, later.public_keys);
    } else {
        assert_eq!(merged.public_keys, base.public_keys, "the user's file changed the admins' keys");
    }
    assert_eq!(merged.username, later.username.clone().or(base.username.clone()));
    assert_eq!(merged.poll_interval_secs, later.poll_interval_secs.or(base.poll_interval_secs));

    match merged.clone().validate(None) {
        Ok(_) => assert!(merged.username.is_some(), "a config without any user name was accepted"),
        Err(error) => {
            assert!(!error.problems().is_empty());
            if merged.username.is_none() {
                assert!(error.problems().contains(&ConfigProblem::NoUsername));
            }
        }
    }
    match merged.clone().validate(Some("jdoe")) {
        Ok(config) => {
            let url = config.status_url.url();
            assert!(url.username().is_empty() && url.password().is_none(), "credentials in {url}");
            match url.scheme() {
                "https" => {}
                "http" => {
                    let host = url.host_str().unwrap_or_default();
                    let bare = host.trim_start_matches('[').trim_end_matches(']');
                    assert!(
                        host.eq_ignore_ascii_case("localhost")
                            || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()),
                        "http:// to {host}"
                    );
                }
                other => panic!("scheme {other} accepted"),
            }
            let secs = config.poll_interval.as_secs();
            assert!((MIN_POLL_INTERVAL_SECS..=MAX_POLL_INTERVAL_SECS).contains(&secs));
            assert_eq!(config.keys.len(), merged.public_keys.len(), "a public key dropped");
            assert_eq!(config.username.as_str(), merged.username.as_deref().unwrap_or("jdoe"));
            let _ = config.status_url.to_string();
        }
        Err(error) => {
            assert!(!error.problems().is_empty(), "an error without problems");
            let _ = error.to_string();
        }
    }
});
