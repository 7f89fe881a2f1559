//! Users export bytes → `wsdr_core::users::parse_users` → `UsersList::into_desired`.
//!
//! Properties: parsing never panics; every listed user sits under its own key; nobody is both
//! enabled and disabled; line numbers point into the file (physical lines: a bare CR separates records but not lines, so a duplicate
//! may share its first row's line); `into_desired` succeeds exactly when nothing was
//! rejected, and then holds exactly the enabled users (so a rejected row can never shrink the desired set).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdr_core::username::UserKey;
use wsdr_core::users::parse_users;

fuzz_target!(|bytes: &[u8]| {
    let Ok(list) = parse_users(bytes) else { return };

    // Physical lines: a record can only start on one of them (+1 for a final line without terminator).
    let max_line = bytes.len() + 1;
    for (key, user) in list.enabled.iter().chain(&list.disabled) {
        assert_eq!(&user.name.key(), key, "listed under another user's key");
        assert_eq!(
            UserKey::new(user.name.as_str()).as_ref(),
            Ok(key),
            "the name does not re-key to its own key"
        );
        assert!((1..=max_line).contains(&user.line), "line {} out of range", user.line);
    }
    for key in list.enabled.keys() {
        assert!(!list.disabled.contains_key(key), "{key} is both enabled and disabled");
    }
    for duplicate in &list.duplicates {
        assert!(duplicate.first_line <= duplicate.line, "a duplicate before its first row");
    }
    for reject in &list.rejects {
        assert!((1..=max_line).contains(&reject.line), "reject line {} out of range", reject.line);
        let _ = reject.to_string();
    }

    let rejected = !list.rejects.is_empty();
    let enabled: Vec<UserKey> = list.enabled.keys().cloned().collect();
    match list.into_desired() {
        Ok(desired) => {
            assert!(!rejected, "a list with rejected rows became DesiredUsers");
            let keys: Vec<UserKey> = desired.iter().map(|(key, _)| key.clone()).collect();
            assert_eq!(keys, enabled, "the desired users are not exactly the enabled ones");
            for (key, name) in desired.iter() {
                assert_eq!(&name.key(), key);
            }
        }
        Err(refused) => {
            assert!(rejected, "a list without rejects was refused");
            assert!(!refused.rejects.is_empty());
            let _ = refused.to_string();
        }
    }
});
