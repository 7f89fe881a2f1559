//! The DC itself dies mid-search (SIGKILL, from the relay, once a few pages have crossed it). It has a test binary
//! of its own because it kills the DC the other tests share.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

#[path = "../../../tests/samba/harness.rs"]
mod samba;

use std::time::Duration;

use samba::{Fault, SambaDc, TcpRelay};
use wsdr_ldap::{CaBundle, DirectoryErrorKind, DirectorySource, Password, read_users};

#[tokio::test]
async fn a_dc_that_stops_mid_search_blocks_the_read() {
    let dc = SambaDc::shared();
    let relay = TcpRelay::start(dc.ldaps_addr(), Fault::KillDcAfter(12_000, dc.pid()));
    let source = DirectorySource {
        url: format!(
            "ldaps://127.0.0.1:{}/{}",
            relay.port(),
            samba::percent_encode_dn(&samba::ou_dn("Paging"))
        )
        .parse()
        .unwrap(),
        bind_dn: samba::SERVICE_UPN.to_owned(),
        password: Password::new(samba::SERVICE_PASSWORD),
        ca: CaBundle::Pem { source: "ca.pem".into(), pem: std::fs::read(dc.ca_bundle()).unwrap() },
        timeout: Duration::from_secs(10),
        page_size: 10,
    };
    let error = read_users(&source).await.unwrap_err();
    assert_eq!(relay.faults(), 1, "the relay should have killed the DC");
    assert_eq!(error.kind, DirectoryErrorKind::Search, "{error}");
    let message = error.to_string();
    assert!(message.contains("the users list would be partial, so it is not used"), "{message}");
    assert!(!message.contains("on page 1 "), "the DC should die after the first page: {message}");

    // And with the DC gone, the next read cannot even connect.
    let direct =
        DirectorySource { url: dc.ldaps_url(&samba::ou_dn("Paging")).parse().unwrap(), ..source };
    assert_eq!(read_users(&direct).await.unwrap_err().kind, DirectoryErrorKind::Connect);
}
