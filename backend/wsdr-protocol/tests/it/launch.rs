//! Launch URIs, and CVE-2021-38112-style injection attempts (argument injection through the
//! `workspaces://` handler, e.g. `--gpu-launcher=<cmd>`): every attempt is either refused by
//! validation or made inert by percent-encoding.

use expect_test::{Expect, expect};
use wsdr_protocol::{LaunchUri, LaunchUser, RegistrationTarget};

/// Splits a launch URI into (user, target), percent-decoding the user; panics on anything that
/// is not a well-formed launch URI.
pub(crate) fn decode(uri: &str) -> (Option<String>, String) {
    let rest = uri.strip_prefix("workspaces://").expect("scheme");
    let (user, target) = rest.split_once('@').expect("one '@'");
    assert!(!target.contains('@'), "a second '@' in {uri}");
    let user = (!user.is_empty()).then(|| percent_decode(user));
    (user, target.to_owned())
}

/// Strict percent-decoding: `%XX` (upper-case hex) or unreserved characters only.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)), "{s}");
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            assert!(bytes[i].is_ascii_alphanumeric() || b"-._~".contains(&bytes[i]), "{s}");
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn render(user: Option<&str>, target: &str) -> String {
    let user = match user.map(LaunchUser::parse).transpose() {
        Ok(user) => user,
        Err(e) => return format!("refused: {e}"),
    };
    let target = match RegistrationTarget::parse(target) {
        Ok(target) => target,
        Err(e) => return format!("refused: registration code {e}"),
    };
    LaunchUri::new(user, target).to_string()
}

#[track_caller]
fn check(user: Option<&str>, target: &str, expect: Expect) {
    expect.assert_eq(&render(user, target));
}

#[test]
fn documented_shapes() {
    check(None, "WSpdx+ABC12D", expect!["workspaces://@WSpdx+ABC12D"]);
    check(Some("jdoe"), "WSpdx+ABC12D", expect!["workspaces://jdoe@WSpdx+ABC12D"]);
    check(Some("jdoe"), "desktops.example.com", expect!["workspaces://jdoe@desktops.example.com"]);
    check(
        Some("jdoe@corp.example"),
        "WSpdx+ABC12D",
        expect!["workspaces://jdoe%40corp.example@WSpdx+ABC12D"],
    );
    check(
        Some("CORP\\jdoe"),
        "WSpdx+ABC12D",
        expect![[r#"workspaces://CORP%5Cjdoe@WSpdx+ABC12D"#]],
    );
    check(
        Some("Zoë_O'Brien~1"),
        "WSpdx+ABC12D",
        expect!["workspaces://Zo%C3%AB_O%27Brien~1@WSpdx+ABC12D"],
    );
}

#[test]
fn cve_2021_38112_user_injection() {
    let code = "WSpdx+ABC12D";
    check(Some("--gpu-launcher=calc.exe"), code, expect!["refused: user name starts with '-'"]);
    check(
        Some("x --gpu-launcher=\"cmd /c calc\""),
        code,
        expect!["refused: user name has whitespace at position 1"],
    );
    check(
        Some("x%20--gpu-launcher=calc"),
        code,
        expect!["refused: user name has a '%' at position 1"],
    );
    check(
        Some("jdoe\n--gpu-launcher=calc"),
        code,
        expect!["refused: user name has a control character at position 4"],
    );
    check(
        Some("jdoe\r\n"),
        code,
        expect!["refused: user name has a control character at position 4"],
    );
    check(
        Some("jdoe\t-x"),
        code,
        expect!["refused: user name has a control character at position 4"],
    );
    check(Some("jdoe\u{2028}-x"), code, expect!["refused: user name has whitespace at position 4"]);
    check(
        Some("\u{202e}exe.calc"),
        code,
        expect!["refused: user name has an invisible formatting character at position 0"],
    );
    check(Some(""), code, expect!["refused: user name is empty"]);
    // Accepted, but every delimiter is encoded: the client gets exactly this name as the user.
    check(
        Some("jdoe\"&--gpu-launcher=calc"),
        code,
        expect![[r#"workspaces://jdoe%22%26--gpu-launcher%3Dcalc@WSpdx+ABC12D"#]],
    );
    check(
        Some("jdoe?MFACode=1&x=y#f"),
        code,
        expect![[r#"workspaces://jdoe%3FMFACode%3D1%26x%3Dy%23f@WSpdx+ABC12D"#]],
    );
    check(Some("a@evil+CODE"), code, expect![[r#"workspaces://a%40evil%2BCODE@WSpdx+ABC12D"#]]);
    check(Some("'jdoe'"), code, expect![[r#"workspaces://%27jdoe%27@WSpdx+ABC12D"#]]);
}

#[test]
fn cve_2021_38112_target_injection() {
    let refused = [
        "--gpu-launcher=calc.exe",
        "-gpu.example.com",
        "WSpdx+ABC12D --gpu-launcher=calc",
        "WSpdx+ABC12D&--gpu-launcher=calc",
        "WSpdx+ABC12D%20--gpu-launcher=calc",
        "WSpdx+ABC12D\"",
        "WSpdx+ABC12D\n",
        "WSpdx+ABC12D?MFACode=1",
        "evil.example.com/?x",
        "user@evil.example.com",
        "WSpdx++ABC12D",
        "",
    ];
    for target in refused {
        assert!(render(None, target).starts_with("refused:"), "{target:?} was accepted");
    }
    check(
        None,
        "--gpu-launcher=calc.exe",
        expect![
            "refused: registration code has the character '=' at position 14, which is not allowed (letters, digits, '.' and '-')"
        ],
    );
    check(None, "-gpu.example.com", expect!["refused: registration code starts with '-'"]);
    check(
        None,
        "WSpdx+ABC12D --gpu-launcher=calc",
        expect!["refused: registration code is 32 characters long; at most 20 are allowed"],
    );
    check(
        None,
        "WSpdx+ABC12D%20",
        expect![
            "refused: registration code has the character '%' at position 12, which is not allowed (letters, digits and one '+')"
        ],
    );
}

#[test]
fn accepted_injection_attempts_decode_to_themselves() {
    // Whatever is accepted is inert: no raw delimiter, and decoding (once or twice) gives back
    // the very same name, which cannot start with '-' or contain whitespace.
    for user in ["jdoe\"&--gpu-launcher=calc", "a=b&c", "x/y:z", "é\\ü", "~._-", "a+b"] {
        let uri = LaunchUri::new(
            Some(LaunchUser::parse(user).unwrap()),
            RegistrationTarget::parse("WSpdx+ABC12D").unwrap(),
        );
        let text = uri.as_str();
        assert!(!text.contains([' ', '"', '\'', '&', '?', '#', '\n', '=']), "{text}");
        let (decoded, target) = decode(text);
        assert_eq!(decoded.as_deref(), Some(user));
        // No '%' survives decoding, so a client that decodes again gets the same name.
        assert!(!decoded.unwrap().contains('%'));
        assert_eq!(target, "WSpdx+ABC12D");
    }
}
