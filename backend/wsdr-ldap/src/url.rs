//! The directory source's URL: `ldaps://HOST[:PORT]/BASE_DN[??SCOPE]` (RFC 4516's shape), or `ldap://…` for
//! StartTLS on port 389. There is no plain-text variant: the service account's password never crosses the network
//! unencrypted.

use std::fmt;
use std::str::FromStr;

use percent_encoding::percent_decode_str;
use url::Url;

/// Where the users are: a DC and the OU to search under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryUrl {
    /// How the connection is secured.
    pub security: Security,
    /// The DC's host name or IP address (as the certificate must name it).
    pub host: String,
    /// The port (636 for LDAPS, 389 for StartTLS by default).
    pub port: u16,
    /// The base DN: the OU whose users are desired.
    pub base_dn: String,
    /// How deep under the base DN to search.
    pub scope: SearchScope,
}

/// How the connection to the DC is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (`ldaps://`, port 636).
    Ldaps,
    /// StartTLS before anything else is sent (`ldap://`, port 389).
    StartTls,
}

/// Which entries under the base DN are searched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchScope {
    /// The OU and every OU below it (`sub`, the default).
    #[default]
    Subtree,
    /// The OU's direct children only (`one`).
    OneLevel,
}

/// Why a string is not a directory URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{url}: {reason}")]
pub struct BadDirectoryUrl {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub reason: String,
}

impl DirectoryUrl {
    /// Whether `raw` names a directory (so a users source should be parsed as one).
    pub fn is_directory_url(raw: &str) -> bool {
        let lower = raw.trim_start().to_ascii_lowercase();
        lower.starts_with("ldaps://") || lower.starts_with("ldap://")
    }

    /// The URL the LDAP client connects to: scheme, host and port only.
    pub fn connect_url(&self) -> Url {
        let scheme = match self.security {
            Security::Ldaps => "ldaps",
            Security::StartTls => "ldap",
        };
        // Host and port were validated by `from_str`; an IPv6 literal keeps its brackets.
        let host =
            if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        Url::parse(&format!("{scheme}://{host}:{}", self.port))
            .unwrap_or_else(|_| unreachable!("validated when parsed"))
    }
}

impl FromStr for DirectoryUrl {
    type Err = BadDirectoryUrl;

    fn from_str(raw: &str) -> Result<DirectoryUrl, BadDirectoryUrl> {
        let bad = |reason: &str| BadDirectoryUrl { url: raw.to_owned(), reason: reason.to_owned() };
        // Admins paste OU names with spaces; RFC 4516 wants them %-encoded. Accept both.
        let url = Url::parse(&raw.trim().replace(' ', "%20"))
            .map_err(|error| bad(&format!("not a URL ({error})")))?;
        let security = match url.scheme() {
            "ldaps" => Security::Ldaps,
            "ldap" => Security::StartTls,
            _ => return Err(bad("the scheme must be ldaps:// (or ldap:// for StartTLS)")),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "credentials do not belong in the URL: give the bind DN and password separately",
            ));
        }
        let host = match url.host() {
            Some(url::Host::Domain(name)) if !name.is_empty() => name.to_owned(),
            Some(url::Host::Ipv4(address)) => address.to_string(),
            Some(url::Host::Ipv6(_)) => {
                return Err(bad(
                    "IPv6 literals are not supported by the LDAP client: name the DC by its host name",
                ));
            }
            _ => {
                return Err(bad(
                    "no host: name the domain controller, e.g. ldaps://dc1.corp.example.com/OU=…",
                ));
            }
        };
        let port = url.port().unwrap_or(match security {
            Security::Ldaps => 636,
            Security::StartTls => 389,
        });
        let base_dn = percent_decode_str(url.path().trim_start_matches('/'))
            .decode_utf8()
            .map_err(|_| bad("the base DN is not valid UTF-8 once %-decoded"))?
            .into_owned();
        if base_dn.trim().is_empty() {
            return Err(bad(
                "no base DN: add the users' OU, e.g. …/OU=DR Users,DC=corp,DC=example,DC=com",
            ));
        }
        if !base_dn.contains('=') {
            return Err(bad(
                "the base DN is not a DN (expected e.g. OU=DR Users,DC=corp,DC=example,DC=com)",
            ));
        }
        let scope = scope_of(url.query().unwrap_or_default()).map_err(|reason| bad(&reason))?;
        if url.fragment().is_some() {
            return Err(bad("a URL fragment ('#…') has no meaning here"));
        }
        Ok(DirectoryUrl { security, host, port, base_dn, scope })
    }
}

/// The scope from RFC 4516's `?attributes?scope?filter?extensions` (the part after the first `?`). wsdr sets the
/// attributes and the filter itself, so only the scope may be given.
fn scope_of(query: &str) -> Result<SearchScope, String> {
    let parts: Vec<&str> = query.split('?').collect();
    if parts.first().is_some_and(|attributes| !attributes.is_empty()) {
        return Err(
            "attributes cannot be chosen: wsdr reads sAMAccountName, userPrincipalName, objectGUID"
                .into(),
        );
    }
    if parts.len() > 2 && parts[2..].iter().any(|part| !part.is_empty()) {
        return Err(
            "a filter or extensions cannot be given: wsdr's filter selects enabled users".into()
        );
    }
    match parts.get(1).map(|scope| scope.to_ascii_lowercase()).as_deref() {
        None | Some("" | "sub") => Ok(SearchScope::Subtree),
        Some("one") => Ok(SearchScope::OneLevel),
        Some(other) => {
            Err(format!("scope {other:?}: use sub (the OU and below) or one (the OU only)"))
        }
    }
}

impl fmt::Display for DirectoryUrl {
    /// Readable rather than strictly encoded: `ldaps://dc1:636/OU=DR Users,DC=corp` (plus `??one` for one level).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.security {
            Security::Ldaps => "ldaps",
            Security::StartTls => "ldap",
        };
        let host =
            if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        write!(f, "{scheme}://{host}:{}/{}", self.port, self.base_dn)?;
        match self.scope {
            SearchScope::Subtree => Ok(()),
            SearchScope::OneLevel => f.write_str("??one"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> DirectoryUrl {
        raw.parse().unwrap()
    }

    fn reason(raw: &str) -> String {
        raw.parse::<DirectoryUrl>().unwrap_err().reason
    }

    #[test]
    fn ldaps_with_defaults() {
        let url = parse("ldaps://dc1.corp.example.com/OU=DR%20Users,DC=corp,DC=example,DC=com");
        assert_eq!(url.security, Security::Ldaps);
        assert_eq!((url.host.as_str(), url.port), ("dc1.corp.example.com", 636));
        assert_eq!(url.base_dn, "OU=DR Users,DC=corp,DC=example,DC=com");
        assert_eq!(url.scope, SearchScope::Subtree);
        assert_eq!(
            url.to_string(),
            "ldaps://dc1.corp.example.com:636/OU=DR Users,DC=corp,DC=example,DC=com"
        );
        assert_eq!(url.connect_url().as_str(), "ldaps://dc1.corp.example.com:636");
    }

    #[test]
    fn starttls_port_scope_spaces_and_non_ascii() {
        let url = parse("LDAP://127.0.0.1:3890/OU=Zürich Staff,DC=corp??ONE");
        assert_eq!(url.security, Security::StartTls);
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 3890));
        assert_eq!(url.base_dn, "OU=Zürich Staff,DC=corp");
        assert_eq!(url.scope, SearchScope::OneLevel);
        assert_eq!(url.to_string(), "ldap://127.0.0.1:3890/OU=Zürich Staff,DC=corp??one");
        assert_eq!(parse("ldap://dc1/OU=x,DC=corp??sub").port, 389);
        assert!(DirectoryUrl::is_directory_url(" LDAPS://dc1/OU=x"));
        assert!(!DirectoryUrl::is_directory_url("s3://bucket/users.csv"));
    }

    #[test]
    fn bad_urls_say_what_to_fix() {
        assert_eq!(
            reason("ldapi://%2fvar%2frun/OU=x"),
            "the scheme must be ldaps:// (or ldap:// for StartTLS)"
        );
        assert!(reason("ldaps:///OU=x,DC=corp").starts_with("no host"));
        assert!(reason("ldaps://dc1").starts_with("no base DN"));
        assert!(reason("ldaps://dc1/DR Users").starts_with("the base DN is not a DN"));
        assert!(reason("ldaps://svc:pw@dc1/OU=x,DC=corp").starts_with("credentials do not belong"));
        assert!(reason("ldaps://dc1/OU=x,DC=corp?cn").starts_with("attributes cannot be chosen"));
        assert!(
            reason("ldaps://dc1/OU=x,DC=corp??sub?(cn=*)").starts_with("a filter or extensions")
        );
        assert!(reason("ldaps://dc1/OU=x,DC=corp??base").starts_with("scope \"base\""));
        assert!(reason("ldaps://dc1/OU=%FF,DC=corp").starts_with("the base DN is not valid UTF-8"));
        assert!(reason("ldaps://dc1:99999/OU=x").starts_with("not a URL"));
        assert!(
            reason("ldaps://[::1]/OU=x,DC=corp").starts_with("IPv6 literals are not supported")
        );
    }
}
