//! Every users-export variant, read from fixtures written byte for byte as the export tools write them
//! (`tests/fixtures/users/generate.py` says which tool writes which). Snapshots update with `UPDATE_EXPECT=1`.

use std::fmt::Write;

use expect_test::{Expect, expect};
use wsdr_core::users::{UsersList, parse_users};

use crate::support::fixture;

#[track_caller]
fn check(name: &str, expected: Expect) {
    let bytes = fixture(&format!("users/{name}"));
    let rendered = match parse_users(&bytes) {
        Ok(list) => render(&list),
        Err(error) => format!("file error: {error}\n"),
    };
    expected.assert_eq(&rendered);
}

fn render(list: &UsersList) -> String {
    let mut out = String::new();
    let names = |users: &std::collections::BTreeMap<_, wsdr_core::users::ListedUser>| {
        users.values().map(|u| format!("{}@{}", u.name, u.line)).collect::<Vec<_>>().join(", ")
    };
    writeln!(out, "{:?} {:?}", list.encoding, list.format).unwrap();
    writeln!(out, "enabled: {}", names(&list.enabled)).unwrap();
    writeln!(out, "disabled: {}", names(&list.disabled)).unwrap();
    for duplicate in &list.duplicates {
        writeln!(
            out,
            "duplicate: line {} {:?} of line {}",
            duplicate.line, duplicate.spelling, duplicate.first_line
        )
        .unwrap();
    }
    for reject in &list.rejects {
        writeln!(out, "reject: {reject}").unwrap();
    }
    out
}

#[test]
fn original_sample_ansi_export() {
    check(
        "sample-ansi-crlf.csv",
        expect![[r#"
        Windows1252 NamesOnly
        enabled: adoe@2, José.García@3, JSmith@1, Kim Lee@5, mmüller@4
        disabled: 
    "#]],
    );
}

#[test]
fn original_sample_utf8_export() {
    check(
        "sample-utf8-crlf.csv",
        expect![[r#"
        Utf8 NamesOnly
        enabled: adoe@2, José.García@3, JSmith@1, Kim Lee@5, mmüller@4
        disabled: 
    "#]],
    );
}

#[test]
fn original_sample_intermediate_file_with_its_header() {
    check(
        "sample-users1-utf8-bom.csv",
        expect![[r#"
        Utf8Bom Header
        enabled: adoe@3, José.García@4, JSmith@2, Kim Lee@6, mmüller@5
        disabled: 
    "#]],
    );
}

#[test]
fn wsdr_export_utf8_bom() {
    check(
        "improved-utf8-bom-crlf.csv",
        expect![[r#"
        Utf8Bom Header
        enabled: adoe@3, José.García@4, JSmith@2, Kim Lee@7
        disabled: mmüller@5, svc-backup@6
    "#]],
    );
}

#[test]
fn wsdr_export_utf16le_bom() {
    check(
        "improved-utf16le-bom.csv",
        expect![[r#"
        Utf16LeBom Header
        enabled: adoe@3, José.García@4, JSmith@2, Kim Lee@7
        disabled: mmüller@5, svc-backup@6
    "#]],
    );
}

#[test]
fn wsdr_export_utf16be_bom() {
    check(
        "improved-utf16be-bom.csv",
        expect![[r#"
        Utf16BeBom Header
        enabled: adoe@3, José.García@4, JSmith@2, Kim Lee@7
        disabled: mmüller@5, svc-backup@6
    "#]],
    );
}

#[test]
fn export_csv_type_line_is_skipped() {
    check(
        "improved-typeinfo.csv",
        expect![[r#"
        Utf8 Header
        enabled: adoe@4, José.García@5, JSmith@3, Kim Lee@8
        disabled: mmüller@6, svc-backup@7
    "#]],
    );
}

#[test]
fn pwsh7_export_with_other_columns() {
    check(
        "improved-pwsh7-lf-extra-columns.csv",
        expect![[r#"
        Utf8 Header
        enabled: adoe@3, JSmith@2
        disabled: old.admin@4
    "#]],
    );
}

#[test]
fn empty_file() {
    check(
        "empty.csv",
        expect![[r#"
        Utf8 Empty
        enabled: 
        disabled: 
    "#]],
    );
}

#[test]
fn header_only() {
    check(
        "header-only.csv",
        expect![[r#"
        Utf8Bom Header
        enabled: 
        disabled: 
    "#]],
    );
}

#[test]
fn blank_lines_are_not_users() {
    check(
        "blank-lines-only.csv",
        expect![[r#"
        Utf8 Empty
        enabled: 
        disabled: 
    "#]],
    );
}

#[test]
fn duplicates_collapse_to_the_first_spelling() {
    check(
        "duplicates.csv",
        expect![[r#"
        Utf8Bom Header
        enabled: adoe@8, José@5, JSmith@2
        disabled: 
        duplicate: line 3 "jsmith" of line 2
        duplicate: line 4 "JSMITH" of line 2
        duplicate: line 6 "José" of line 5
    "#]],
    );
}

#[test]
fn invalid_rows_name_their_line_and_reason() {
    check(
        "invalid-rows.csv",
        expect![[r#"
        Utf8 Header
        enabled: flip@8, good.user@2
        disabled: 
        reject: line 3: the user name contains the control character U+0007
        reject: line 4: the user name has 64 characters; WorkSpaces allows at most 63
        reject: line 5: the user name starts with '-'
        reject: line 6: Enabled is "Yes"; expected True or False
        reject: line 7: 4 columns where 3 were expected
        reject: line 9: the user is listed enabled on one row and disabled on another (line 8)
    "#]],
    );
}

#[test]
fn undecodable_bytes_after_a_bom() {
    check(
        "undecodable-utf8-bom.csv",
        expect![[r#"
        Utf8Bom NamesOnly
        enabled: alice@1, bob@2
        disabled: 
        reject: line 3: bytes that are not valid UTF-8 (with BOM)
    "#]],
    );
}

#[test]
fn undefined_ansi_bytes() {
    check(
        "undecodable-ansi.csv",
        expect![[r#"
        Windows1252 NamesOnly
        enabled: alice@1, café@3
        disabled: 
        reject: line 2: bytes that are not valid UTF-8 or Windows-1252
    "#]],
    );
}

#[test]
fn utf16_without_bom_is_refused() {
    check(
        "utf16le-no-bom.csv",
        expect![[r#"
        file error: line 1: NUL byte: this is a binary file (or UTF-16 without a byte-order mark), not a users export
    "#]],
    );
}

#[test]
fn binary_file_is_refused() {
    check(
        "binary.csv.gz",
        expect![[r#"
        file error: line 1: NUL byte: this is a binary file (or UTF-16 without a byte-order mark), not a users export
    "#]],
    );
}

#[test]
fn a_list_with_rejects_yields_no_desired_set() {
    let list = parse_users(&fixture("users/invalid-rows.csv")).unwrap();
    let error = list.into_desired().unwrap_err();
    assert_eq!(error.rejects.len(), 6);
    assert!(error.to_string().starts_with("6 row(s) could not be read; first: line 3:"), "{error}");
}
