//! The directory users source against a real Active Directory: a throwaway Samba AD DC on loopback
//! (`tests/samba/`), shared by the tests of this binary; each test reads its own OU. Faults mid-search come from
//! a loopback TCP relay between the client and the DC. Needs root (samba does); `tests/samba/setup.sh` installs it.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

#[path = "../../../tests/samba/harness.rs"]
mod samba;

use std::collections::BTreeSet;
use std::time::Duration;

use samba::{Fault, SambaDc, TcpRelay};
use wsdr_ldap::{
    CaBundle, DirectoryErrorKind, DirectoryRead, DirectorySource, Password, read_users,
};

/// A source reading `url` as the service account, trusting the test CA.
fn source(dc: &SambaDc, url: &str) -> DirectorySource {
    DirectorySource {
        url: url.parse().unwrap(),
        bind_dn: samba::SERVICE_UPN.to_owned(),
        password: Password::new(samba::SERVICE_PASSWORD),
        ca: CaBundle::Pem {
            source: dc.ca_bundle().display().to_string(),
            pem: std::fs::read(dc.ca_bundle()).unwrap(),
        },
        timeout: Duration::from_secs(10),
        page_size: DirectorySource::DEFAULT_PAGE_SIZE,
    }
}

/// A source reading `OU=Paging` (300 users) through `relay`, ten entries a page: about thirty round trips.
fn paging_through(dc: &SambaDc, relay: &TcpRelay) -> DirectorySource {
    let ou = samba::percent_encode_dn(&samba::ou_dn("Paging"));
    let mut source = source(dc, &format!("ldaps://127.0.0.1:{}/{ou}", relay.port()));
    source.page_size = 10;
    source
}

fn names(read: &DirectoryRead) -> BTreeSet<String> {
    read.users.enabled.values().map(|user| user.name.as_str().to_owned()).collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

#[tokio::test]
async fn enabled_users_of_the_ou_and_its_child_ous_are_desired() {
    let dc = SambaDc::shared();
    let base = samba::ou_dn("DR Users");
    let read = read_users(&source(dc, &dc.ldaps_url(&base))).await.unwrap();

    // alice, jmüller (non-ASCII), carol (child OU) and grace (grandchild); not bob or dave (disabled), not the
    // computer account, not erin or frank (outside the OU).
    assert_eq!(names(&read), set(&samba::DR_USERS_SUBTREE));
    assert_eq!(names(&read), dc.enabled_users(&base, true), "ldapsearch disagrees");
    assert!(read.users.rejects.is_empty() && read.users.duplicates.is_empty());

    let alice = read.users.enabled.values().find(|user| user.name.as_str() == "alice").unwrap();
    let alice_dn = format!("CN=alice,{base}");
    assert_eq!(alice.dn, alice_dn);
    assert_eq!(alice.upn.as_deref(), Some("alice@corp.example.com"));
    let guid = wsdr_core::directory::ObjectGuid::from_bytes(&dc.object_guid(&alice_dn)).unwrap();
    assert_eq!(alice.guid, Some(guid));

    let desired = read.users.into_desired().unwrap();
    assert_eq!(desired.len(), 4);

    let one_level =
        read_users(&source(dc, &format!("{}??one", dc.ldaps_url(&base)))).await.unwrap();
    assert_eq!(names(&one_level), set(&samba::DR_USERS_ONE_LEVEL));
}

#[tokio::test]
async fn a_large_ou_is_read_whole_through_every_page() {
    let dc = SambaDc::shared();
    let mut paged = source(dc, &dc.ldaps_url(&samba::ou_dn("Paging")));
    paged.page_size = 50;
    let read = read_users(&paged).await.unwrap();
    assert_eq!(names(&read), samba::paging_users());
    assert_eq!(read.entries, 300);
    // 300 entries at 50 a page: six pages, plus the empty one a server may add to say it is done.
    assert!((6..=7).contains(&read.pages), "{} pages", read.pages);
}

#[tokio::test]
async fn starttls_on_389_reads_the_same_users() {
    let dc = SambaDc::shared();
    let base = samba::ou_dn("DR Users");
    let read = read_users(&source(dc, &dc.ldap_url(&base))).await.unwrap();
    assert_eq!(names(&read), set(&samba::DR_USERS_SUBTREE));
}

#[tokio::test]
async fn a_wrong_password_is_a_refused_bind() {
    let dc = SambaDc::shared();
    let mut wrong = source(dc, &dc.ldaps_url(&samba::ou_dn("DR Users")));
    wrong.password = Password::new("not-the-password");
    let error = read_users(&wrong).await.unwrap_err();
    assert_eq!(error.kind, DirectoryErrorKind::Bind, "{error}");
    let message = error.to_string();
    assert!(
        message.contains("svc-wsdr@corp.example.com refused: 49 (invalidCredentials)"),
        "{message}"
    );

    let mut empty = source(dc, &dc.ldaps_url(&samba::ou_dn("DR Users")));
    empty.password = Password::new("");
    let error = read_users(&empty).await.unwrap_err();
    assert_eq!(
        error.kind,
        DirectoryErrorKind::Settings,
        "an empty password would be an anonymous bind"
    );
}

#[tokio::test]
async fn a_wrong_base_dn_is_an_incomplete_search() {
    let dc = SambaDc::shared();
    let missing = samba::ou_dn("No Such OU");
    let error = read_users(&source(dc, &dc.ldaps_url(&missing))).await.unwrap_err();
    assert_eq!(error.kind, DirectoryErrorKind::Incomplete, "{error}");
    assert!(error.to_string().contains("32 (noSuchObject)"), "{error}");
    assert!(error.to_string().contains("does the base DN"), "{error}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let dc = SambaDc::shared();
    let url = dc.ldaps_url(&samba::ou_dn("DR Users"));

    let mut other_ca = source(dc, &url);
    other_ca.ca =
        CaBundle::Pem { source: "other-ca.pem".into(), pem: std::fs::read(dc.other_ca()).unwrap() };
    let error = read_users(&other_ca).await.unwrap_err();
    assert_eq!(error.kind, DirectoryErrorKind::Certificate, "{error}");
    assert!(error.to_string().contains("UnknownIssuer"), "{error}");

    // The system's roots do not include the test CA either.
    let mut system = source(dc, &url);
    system.ca = CaBundle::System;
    let error = read_users(&system).await.unwrap_err();
    assert!(
        matches!(error.kind, DirectoryErrorKind::Certificate | DirectoryErrorKind::Settings),
        "{error}"
    );
}

#[tokio::test]
async fn a_connection_cut_mid_search_is_an_error_not_a_shorter_list() {
    let dc = SambaDc::shared();
    // The relay cuts after 12 kB, a few pages in.
    let relay = TcpRelay::start(dc.ldaps_addr(), Fault::CutAfter(12_000));
    let cut = paging_through(dc, &relay);
    let error = read_users(&cut).await.unwrap_err();
    assert_eq!(error.kind, DirectoryErrorKind::Search, "{error}");
    assert_eq!(relay.faults(), 1);
    let message = error.to_string();
    assert!(message.contains("the users list would be partial, so it is not used"), "{message}");
    assert!(!message.contains("on page 1 "), "the cut should come after the first page: {message}");
}

#[tokio::test]
async fn a_dc_that_goes_silent_mid_search_times_out() {
    let dc = SambaDc::shared();
    let relay = TcpRelay::start(dc.ldaps_addr(), Fault::StallAfter(12_000));
    let mut silent = paging_through(dc, &relay);
    silent.timeout = Duration::from_secs(2);
    let error = read_users(&silent).await.unwrap_err();
    assert_eq!(error.kind, DirectoryErrorKind::Search, "{error}");
    assert!(error.to_string().contains("no answer within 2 s"), "{error}");
}

#[tokio::test]
async fn a_user_disabled_between_two_reads_leaves_the_desired_set() {
    let dc = SambaDc::shared();
    let base = samba::ou_dn("Spare1");
    let url = dc.ldaps_url(&base);
    assert_eq!(names(&read_users(&source(dc, &url)).await.unwrap()), samba::spare_users(1));

    dc.disable_user(&format!("CN=s1b,{base}"));
    let after = read_users(&source(dc, &url)).await.unwrap();
    assert_eq!(names(&after), set(&["s1a", "s1c"]));
}

#[tokio::test]
async fn a_search_that_meets_a_continuation_reference_is_refused() {
    // Under the domain root, AD (and Samba) answer with a reference to the Configuration partition: part of the
    // subtree is elsewhere. wsdr follows none, so it refuses the answer instead of using part of it.
    let dc = SambaDc::shared();
    let error = read_users(&source(dc, &dc.ldaps_url(samba::DOMAIN_DN))).await.unwrap_err();
    assert_eq!(error.kind, DirectoryErrorKind::Incomplete, "{error}");
    assert!(error.to_string().contains("continuation reference(s)"), "{error}");
    assert!(error.to_string().contains("CN=Configuration"), "{error}");
}
