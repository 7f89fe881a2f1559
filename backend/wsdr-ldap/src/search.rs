//! One read of the directory: connect, bind, page through the OU, unbind. Each page's ending is judged by
//! [`judge_page`]; each entry is copied into plain data for [`directory_users`].

use std::fmt;

use ldap3::controls::{Control, ControlType, PagedResults};
use ldap3::{
    Ldap, LdapConnAsync, LdapConnSettings, LdapError, ResultEntry, Scope, SearchEntry, parse_refs,
};
use serde::Serialize;
use wsdr_core::directory::{
    DirectoryEntry, DirectoryUsers, ENABLED_USERS_FILTER, IncompleteSearch, PageOutcome,
    PageVerdict, Paging, USER_ATTRIBUTES, directory_users, judge_page, result_summary,
};

use crate::tls::{TlsSetupError, client_config};
use crate::url::{SearchScope, Security};
use crate::{DirectorySource, DirectoryUrl};

/// What a read found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DirectoryRead {
    /// The users, their duplicates and rejects.
    #[serde(flatten)]
    pub users: DirectoryUsers,
    /// Pages the search took.
    pub pages: usize,
    /// Entries received.
    pub entries: usize,
}

/// Why the directory could not be read. Every such failure leaves the desired set unknown: the run that asked is
/// blocked, and nothing is terminated.
#[derive(Debug, thiserror::Error)]
#[error("{url}: {kind}: {reason}")]
pub struct DirectoryError {
    /// The source's URL.
    pub url: DirectoryUrl,
    /// Which step failed.
    pub kind: DirectoryErrorKind,
    /// What happened, in the server's or the TLS library's words, with a hint where one helps.
    pub reason: String,
}

/// Which step of a read failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectoryErrorKind {
    /// The settings cannot work (no CA certificate, empty password).
    Settings,
    /// No connection: the DC is unreachable, refused, or did not answer in time.
    Connect,
    /// The DC's certificate is not trusted or does not name the host.
    Certificate,
    /// The DC refused the service account's credentials.
    Bind,
    /// The search failed part-way (connection lost, timeout).
    Search,
    /// The search ended with an answer that is not the whole OU (limit, referral, error code).
    Incomplete,
}

impl fmt::Display for DirectoryErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DirectoryErrorKind::Settings => "unusable settings",
            DirectoryErrorKind::Connect => "cannot connect",
            DirectoryErrorKind::Certificate => "untrusted certificate",
            DirectoryErrorKind::Bind => "bind refused",
            DirectoryErrorKind::Search => "search failed",
            DirectoryErrorKind::Incomplete => "incomplete search",
        })
    }
}

/// Reads the enabled users under the source's OU. Any failure — settings, connection, certificate, bind, a page
/// that fails or is partial — is an error; the result is never a shortened list.
pub async fn read_users(source: &DirectorySource) -> Result<DirectoryRead, DirectoryError> {
    let fail = |kind, reason: String| DirectoryError { url: source.url.clone(), kind, reason };
    if source.password.expose().is_empty() {
        // RFC 4513 §5.1.2: a simple bind with a DN and no password is an unauthenticated bind, which succeeds and
        // then reads nothing.
        return Err(fail(
            DirectoryErrorKind::Settings,
            "the bind password is empty (an LDAP bind without a password is anonymous and would read nothing)".into(),
        ));
    }
    let tls = client_config(&source.ca)
        .map_err(|error: TlsSetupError| fail(DirectoryErrorKind::Settings, error.to_string()))?;
    let settings = LdapConnSettings::new()
        .set_conn_timeout(source.timeout)
        .set_config(tls)
        .set_starttls(source.url.security == Security::StartTls);

    let (connection, mut ldap) =
        LdapConnAsync::from_url_with_settings(settings, &source.url.connect_url())
            .await
            .map_err(|error| connect_failure(&error, source))
            .map_err(|(kind, reason)| fail(kind, reason))?;
    let driver = tokio::spawn(async move {
        if let Err(error) = connection.drive().await {
            tracing::debug!(%error, "LDAP connection ended with an error");
        }
    });

    let result =
        bind_and_search(&mut ldap, source).await.map_err(|(kind, reason)| fail(kind, reason));
    match &result {
        Ok(read) => tracing::info!(
            source = %source.url,
            pages = read.pages,
            entries = read.entries,
            enabled = read.users.enabled.len(),
            rejected = read.users.rejects.len(),
            "directory read"
        ),
        Err(error) => {
            tracing::warn!(source = %source.url, kind = ?error.kind, %error, "directory not read")
        }
    }
    if ldap.unbind().await.is_err() {
        tracing::debug!("the LDAP connection was already closed at unbind");
    }
    driver.abort();
    result
}

type Failure = (DirectoryErrorKind, String);

async fn bind_and_search(
    ldap: &mut Ldap,
    source: &DirectorySource,
) -> Result<DirectoryRead, Failure> {
    let bind = ldap
        .with_timeout(source.timeout)
        .simple_bind(&source.bind_dn, source.password.expose())
        .await
        .map_err(|error| connect_failure(&error, source))?;
    if bind.rc != 0 {
        return Err((
            DirectoryErrorKind::Bind,
            format!("{} refused: {}", source.bind_dn, result_summary(bind.rc, &bind.text)),
        ));
    }

    let scope = match source.url.scope {
        SearchScope::Subtree => Scope::Subtree,
        SearchScope::OneLevel => Scope::OneLevel,
    };
    let page_size = i32::try_from(source.page_size).unwrap_or(i32::MAX);
    let mut entries = Vec::new();
    let mut cookie = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        let mid_search = |error: LdapError, received: usize| {
            let reason = format!(
                "{} on page {pages} ({received} entries received): the users list would be partial, so it is not used",
                transport_reason(&error, source),
            );
            (DirectoryErrorKind::Search, reason)
        };
        let control = PagedResults { size: page_size, cookie: cookie.clone() };
        let mut stream = ldap
            .with_controls(control)
            .with_timeout(source.timeout)
            .streaming_search(
                &source.url.base_dn,
                scope,
                ENABLED_USERS_FILTER,
                USER_ATTRIBUTES.to_vec(),
            )
            .await
            .map_err(|error| mid_search(error, entries.len()))?;
        let mut references = Vec::new();
        while let Some(entry) =
            stream.next().await.map_err(|error| mid_search(error, entries.len()))?
        {
            if entry.is_ref() {
                references.extend(parse_refs(entry.0));
            } else if !entry.is_intermediate() {
                entries.push(plain_entry(entry));
            }
        }
        let done = stream.finish().await;
        let outcome = PageOutcome {
            paging: paging_of(&done.ctrls),
            result_code: done.rc,
            message: done.text,
            referrals: done.refs,
            references,
        };
        // Should the stream end without the server's final result, the library makes one up with a non-zero code
        // (88, "user cancelled"): judge_page refuses it like any other error code.
        match judge_page(&outcome, pages)
            .map_err(|incomplete| incomplete_reason(&incomplete, pages, entries.len()))?
        {
            PageVerdict::Next(next) => cookie = next,
            PageVerdict::Complete => break,
        }
    }
    let received = entries.len();
    Ok(DirectoryRead { users: directory_users(entries), pages, entries: received })
}

/// The paged-results control in a page's answer.
fn paging_of(controls: &[Control]) -> Paging {
    controls
        .iter()
        .find_map(|control| match control {
            Control(Some(ControlType::PagedResults), raw) => {
                let paged: PagedResults = raw.parse();
                Some(if paged.cookie.is_empty() {
                    Paging::Last
                } else {
                    Paging::More(paged.cookie)
                })
            }
            _ => None,
        })
        .unwrap_or(Paging::Absent)
}

/// An entry as plain data. Attribute names are matched without regard to case, as LDAP does.
fn plain_entry(entry: ResultEntry) -> DirectoryEntry {
    let entry = SearchEntry::construct(entry);
    let text = |name| values_of(&entry.attrs, name);
    let binary = |name| values_of(&entry.bin_attrs, name);
    DirectoryEntry {
        sam_account_name: text("sAMAccountName"),
        user_principal_name: text("userPrincipalName"),
        // objectGUID is binary; the rare GUID whose 16 bytes happen to be UTF-8 lands among the text values.
        object_guid: binary("objectGUID")
            .into_iter()
            .chain(text("objectGUID").into_iter().map(String::into_bytes))
            .collect(),
        dn: entry.dn,
    }
}

/// Every value of attribute `name` (matched without regard to case) in an attribute map.
fn values_of<'a, T: Clone + 'a>(
    attributes: impl IntoIterator<Item = (&'a String, &'a Vec<T>)>,
    name: &str,
) -> Vec<T> {
    attributes
        .into_iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .flat_map(|(_, values)| values.iter().cloned())
        .collect()
}

fn incomplete_reason(incomplete: &IncompleteSearch, pages: usize, entries: usize) -> Failure {
    (
        DirectoryErrorKind::Incomplete,
        format!("{incomplete} (page {pages}, {entries} entries received)"),
    )
}

/// The failure to connect (TCP, TLS handshake, StartTLS), classified.
fn connect_failure(error: &LdapError, source: &DirectorySource) -> Failure {
    let kind = if certificate_problem(error).is_some() {
        DirectoryErrorKind::Certificate
    } else {
        DirectoryErrorKind::Connect
    };
    (kind, transport_reason(error, source))
}

/// An LDAP library error in words, with what to check.
fn transport_reason(error: &LdapError, source: &DirectorySource) -> String {
    if let Some(problem) = certificate_problem(error) {
        return format!(
            "{problem}: the DC's certificate must chain to the CA bundle and name {} (check the CA bundle and the host in the URL)",
            source.url.host
        );
    }
    match error {
        LdapError::Timeout { .. } => {
            format!("no answer within {} s", source.timeout.as_secs_f64())
        }
        LdapError::Io { source: io } => format!("{io}"),
        LdapError::EndOfStream | LdapError::ResultRecv { .. } | LdapError::OpSend { .. } => {
            "the connection to the DC closed".to_owned()
        }
        other => other.to_string(),
    }
}

/// The certificate verification failure inside an LDAP library error, if that is what it is.
fn certificate_problem(error: &LdapError) -> Option<String> {
    let tls_error = match error {
        LdapError::Rustls { source } => Some(source),
        LdapError::Io { source } => {
            source.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>())
        }
        _ => None,
    }?;
    match tls_error {
        rustls::Error::InvalidCertificate(reason) => {
            Some(format!("the DC's certificate was refused ({reason:?})"))
        }
        _ => None,
    }
}
