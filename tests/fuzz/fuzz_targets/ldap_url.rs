//! LDAP URL text → `wsdr_ldap::DirectoryUrl` (`FromStr`), then `connect_url` and `Display`.
//!
//! Properties: never panics (`connect_url` carries an `unreachable!` that relies on the parse's validation);
//! an accepted URL has a host (never an IPv6 literal or credentials), a base DN that is a DN, and a connect URL
//! with the same scheme, host and port and nothing else; its display reads back as the same directory when the
//! base DN has no character the readable form leaves unescaped (`%`, `?`, `#`, controls, edge spaces).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdr_ldap::{DirectoryUrl, Security};

fuzz_target!(|bytes: &[u8]| {
    let Ok(raw) = std::str::from_utf8(bytes) else { return };
    let url = match raw.parse::<DirectoryUrl>() {
        Ok(url) => url,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    assert!(!url.host.is_empty(), "no host");
    assert!(!url.host.contains(':'), "an IPv6 literal was accepted: {}", url.host);
    assert!(url.base_dn.contains('='), "base DN {:?} is not a DN", url.base_dn);

    let connect = url.connect_url();
    let scheme = match url.security {
        Security::Ldaps => "ldaps",
        Security::StartTls => "ldap",
    };
    assert_eq!(connect.scheme(), scheme);
    assert_eq!(connect.host_str(), Some(url.host.as_str()));
    assert_eq!(connect.port(), Some(url.port));
    assert!(connect.username().is_empty() && connect.password().is_none());
    assert!(connect.query().is_none() && connect.fragment().is_none());
    assert!(matches!(connect.path(), "" | "/"), "connect URL path {:?}", connect.path());

    let shown = url.to_string();
    let plain = |s: &str| {
        s == s.trim() && !s.contains(['%', '?', '#']) && !s.contains(char::is_control)
    };
    if plain(&url.base_dn) {
        let again = shown.parse::<DirectoryUrl>();
        assert_eq!(again.as_ref(), Ok(&url), "{raw:?} displays as {shown:?}, which reads differently");
    }
});
