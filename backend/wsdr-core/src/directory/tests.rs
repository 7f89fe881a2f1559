use proptest::prelude::*;

use super::*;

fn entry(dn: &str, names: &[&str]) -> DirectoryEntry {
    DirectoryEntry {
        dn: dn.to_owned(),
        sam_account_name: names.iter().map(|name| (*name).to_owned()).collect(),
        ..DirectoryEntry::default()
    }
}

fn keys(desired: &DesiredUsers) -> Vec<&str> {
    desired.iter().map(|(key, _)| key.as_str()).collect()
}

#[test]
fn guid_is_shown_as_ad_shows_it() {
    // objectGUID of a Samba user as ldapsearch prints it in base64 (yPQQ+8Bsike/c70WD0qw/A==) and as ldbsearch
    // prints it (fb10f4c8-6cc0-478a-bf73-bd160f4ab0fc).
    let bytes = [
        0xc8, 0xf4, 0x10, 0xfb, 0xc0, 0x6c, 0x8a, 0x47, 0xbf, 0x73, 0xbd, 0x16, 0x0f, 0x4a, 0xb0,
        0xfc,
    ];
    let guid = ObjectGuid::from_bytes(&bytes).unwrap();
    assert_eq!(guid.to_string(), "fb10f4c8-6cc0-478a-bf73-bd160f4ab0fc");
    assert_eq!(ObjectGuid::from_bytes(&bytes[..15]), None);
}

#[test]
fn enabled_users_become_the_desired_set_with_their_details() {
    let mut alice = entry("CN=alice,OU=DR,DC=corp", &["alice"]);
    alice.user_principal_name = vec!["alice@corp.example.com".to_owned()];
    alice.object_guid = vec![vec![7; 16]];
    let users = directory_users([alice, entry("CN=José Müller,OU=DR,DC=corp", &["jmüller"])]);
    let found = &users.enabled[&UserKey::new("ALICE").unwrap()];
    assert_eq!(found.upn.as_deref(), Some("alice@corp.example.com"));
    assert_eq!(found.guid.unwrap().to_string(), "07070707-0707-0707-0707-070707070707");
    assert_eq!(found.dn, "CN=alice,OU=DR,DC=corp");
    assert_eq!(keys(&users.into_desired().unwrap()), ["alice", "jmüller"]);
}

#[test]
fn an_entry_without_a_readable_name_refuses_the_whole_result() {
    let users = directory_users([
        entry("CN=alice,OU=DR,DC=corp", &["alice"]),
        entry("CN=hidden,OU=DR,DC=corp", &[]),
        entry("CN=twice,OU=DR,DC=corp", &["a", "b"]),
        entry("CN=dash,OU=DR,DC=corp", &["-rf"]),
    ]);
    let rejected = users.into_desired().unwrap_err();
    let reasons: Vec<(&str, String)> =
        rejected.rejects.iter().map(|r| (r.dn.as_str(), r.reason.to_string())).collect();
    assert_eq!(
        reasons,
        [
            ("CN=dash,OU=DR,DC=corp", "the user name starts with '-'".to_owned()),
            (
                "CN=hidden,OU=DR,DC=corp",
                "no sAMAccountName (may the service account read it?)".to_owned()
            ),
            ("CN=twice,OU=DR,DC=corp", "2 sAMAccountName values; AD has exactly one".to_owned()),
        ]
    );
    assert_eq!(
        rejected.to_string(),
        "3 entries could not be read; first: CN=dash,OU=DR,DC=corp: the user name starts with '-'"
    );
}

#[test]
fn names_equal_once_folded_collapse_into_the_first_dn() {
    let users =
        directory_users([entry("CN=b,DC=corp", &["STRASSE"]), entry("CN=a,DC=corp", &["straße"])]);
    assert_eq!(users.enabled.len(), 1);
    assert_eq!(users.enabled.values().next().unwrap().name.as_str(), "straße");
    assert_eq!(
        users.duplicates,
        [DuplicateEntry {
            dn: "CN=b,DC=corp".into(),
            first_dn: "CN=a,DC=corp".into(),
            spelling: "STRASSE".into()
        }]
    );
}

#[test]
fn an_empty_search_is_an_empty_desired_set_for_the_planner_to_block() {
    assert!(directory_users([]).into_desired().unwrap().is_empty());
}

fn page(result_code: u32, paging: Paging) -> PageOutcome {
    PageOutcome { result_code, paging, ..PageOutcome::default() }
}

#[test]
fn pages_continue_until_the_last_cookie() {
    assert_eq!(judge_page(&page(0, Paging::More(vec![1])), 1), Ok(PageVerdict::Next(vec![1])));
    // Samba sends the same cookie on every page: that is allowed (cookies are opaque).
    assert_eq!(judge_page(&page(0, Paging::More(vec![1])), 2), Ok(PageVerdict::Next(vec![1])));
    assert_eq!(judge_page(&page(0, Paging::Last), 3), Ok(PageVerdict::Complete));
    // A server that does not page answers whole (or with an error code, judged below).
    assert_eq!(judge_page(&page(0, Paging::Absent), 1), Ok(PageVerdict::Complete));
    assert_eq!(
        judge_page(&page(0, Paging::More(vec![3])), MAX_PAGES),
        Err(IncompleteSearch::EndlessPaging(MAX_PAGES + 1))
    );
    assert_eq!(judge_page(&page(0, Paging::Last), MAX_PAGES), Ok(PageVerdict::Complete));
}

#[test]
fn limits_referrals_and_references_make_the_search_unusable() {
    let size_limit = PageOutcome {
        result_code: 4,
        message: "Size limit exceeded\0".into(),
        paging: Paging::Last,
        ..PageOutcome::default()
    };
    assert_eq!(
        judge_page(&size_limit, 1).unwrap_err().to_string(),
        "the directory answered 4 (sizeLimitExceeded): Size limit exceeded; the answer would be partial, so it is not used"
    );
    let no_base = page(32, Paging::Absent);
    assert_eq!(
        judge_page(&no_base, 1).unwrap_err().to_string(),
        "the directory answered 32 (noSuchObject); does the base DN (the OU in the URL) exist?"
    );
    let referral = PageOutcome {
        result_code: 10,
        referrals: vec!["ldap://other.corp/OU=DR".into()],
        ..PageOutcome::default()
    };
    assert_eq!(
        judge_page(&referral, 1),
        Err(IncompleteSearch::Referral(vec!["ldap://other.corp/OU=DR".into()]))
    );
    let references = PageOutcome {
        references: vec!["ldap://corp/DC=DomainDnsZones,DC=corp".into()],
        paging: Paging::Last,
        ..PageOutcome::default()
    };
    assert!(
        matches!(judge_page(&references, 1), Err(IncompleteSearch::References(urls)) if urls.len() == 1)
    );
}

fn any_paging() -> impl Strategy<Value = Paging> {
    prop_oneof![
        Just(Paging::Absent),
        Just(Paging::Last),
        proptest::collection::vec(any::<u8>(), 1..4).prop_map(Paging::More),
    ]
}

fn any_entry() -> impl Strategy<Value = DirectoryEntry> {
    (
        0u16..40,
        proptest::collection::vec(
            prop_oneof!["[a-cA-C]{1,3}", Just(String::new()), Just("-x".to_owned())],
            0..3,
        ),
    )
        .prop_map(|(n, names)| DirectoryEntry {
            dn: format!("CN=u{n},OU=DR,DC=corp"),
            sam_account_name: names,
            ..DirectoryEntry::default()
        })
}

proptest! {
    /// Only a clean success can continue or complete a search: any other result code, any referral or
    /// continuation reference is an error, whatever the paging control says.
    #[test]
    fn only_a_clean_success_counts(
        result_code in prop_oneof![Just(0u32), 0u32..100],
        references in proptest::collection::vec("[a-z]{1,5}", 0..2),
        paging in any_paging(),
        page_number in 1..=MAX_PAGES + 1,
    ) {
        let outcome = PageOutcome { result_code, references: references.clone(), paging: paging.clone(), ..PageOutcome::default() };
        let clean = result_code == 0 && references.is_empty();
        match judge_page(&outcome, page_number) {
            Ok(PageVerdict::Complete) => prop_assert!(clean && !matches!(paging, Paging::More(_))),
            Ok(PageVerdict::Next(cookie)) => {
                prop_assert!(clean && page_number < MAX_PAGES);
                prop_assert_eq!(Paging::More(cookie), paging);
            }
            Err(_) => prop_assert!(!clean || (page_number >= MAX_PAGES && matches!(paging, Paging::More(_)))),
        }
    }

    /// A result yields a desired set only when every entry had exactly one valid name, and then the set is
    /// exactly the folded names found, whatever order the server sent the entries in.
    #[test]
    fn desired_set_is_all_or_nothing_and_order_free(entries in proptest::collection::vec(any_entry(), 0..12)) {
        let all_valid = entries.iter().all(|e| matches!(e.sam_account_name.as_slice(), [one] if Username::new(one).is_ok()));
        let mut reversed = entries.clone();
        reversed.reverse();
        let forward = directory_users(entries.clone()).into_desired();
        let backward = directory_users(reversed).into_desired();
        prop_assert_eq!(forward.is_ok(), all_valid);
        if let (Ok(forward), Ok(backward)) = (forward, backward) {
            let expected: std::collections::BTreeSet<UserKey> = entries
                .iter()
                .map(|e| UserKey::new(&e.sam_account_name[0]).unwrap())
                .collect();
            let found: std::collections::BTreeSet<UserKey> = forward.iter().map(|(k, _)| k.clone()).collect();
            prop_assert_eq!(&found, &expected);
            prop_assert_eq!(forward, backward);
        }
    }
}
