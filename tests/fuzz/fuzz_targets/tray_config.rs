//! Tray configuration TOML → `wsdr_desktop_core::config::RawConfig::parse`, `merged_with`, `validate`.
//!
//! The input is one or two layers (files), split at the first NUL byte; the second layer is laid over the first,
//! as a user's file over the system one.
//!
//! Properties: never panics; merging is key by key with the later layer winning, and an empty layer is the
//! identity; validation either gives a `Config` that keeps its promises (https, or http to loopback only; no
//! credentials in the URL; interval in range; every public key in the ring) or lists at least one problem.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use wsdr_desktop_core::config::{
    ConfigProblem, MAX_POLL_INTERVAL_SECS, MIN_POLL_INTERVAL_SECS, RawConfig,
};

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

    assert_eq!(base.clone().merged_with(RawConfig::default()), base, "an empty layer changed the config");
    assert_eq!(RawConfig::default().merged_with(base.clone()), base, "merging into nothing changed the config");
    let merged = base.clone().merged_with(later.clone());
    assert_eq!(merged.status_url, later.status_url.clone().or(base.status_url.clone()));
    assert_eq!(merged.username, later.username.clone().or(base.username.clone()));
    assert_eq!(merged.poll_interval_secs, later.poll_interval_secs.or(base.poll_interval_secs));
    for (id, pem) in &later.public_keys {
        assert_eq!(merged.public_keys.get(id), Some(pem), "the later layer's key {id:?} lost");
    }
    for id in base.public_keys.keys() {
        assert!(merged.public_keys.contains_key(id), "the first layer's key {id:?} lost");
    }

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
