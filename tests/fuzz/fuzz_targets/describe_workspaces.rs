//! `describe-workspaces` JSON → `wsdr_core::workspace::parse_describe_workspaces`.
//!
//! Properties: never panics; the WorkSpaces come back sorted by id, each id once and valid, each state
//! round-tripping through its name; a single page `P` reads the same as the array `[P]` and as `[P, P]` (the same
//! WorkSpace on two pages is one WorkSpace).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdr_core::workspace::{WorkspaceId, WorkspaceState, parse_describe_workspaces};

fuzz_target!(|bytes: &[u8]| {
    let result = parse_describe_workspaces(bytes);
    let workspaces = match result {
        Ok(workspaces) => workspaces,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    for pair in workspaces.windows(2) {
        assert!(pair[0].id < pair[1].id, "not sorted by id, or an id twice");
    }
    for workspace in &workspaces {
        assert_eq!(WorkspaceId::new(workspace.id.as_str()).as_ref(), Ok(&workspace.id));
        assert_eq!(WorkspaceState::parse(workspace.state.as_str()), workspace.state);
        let _ = (workspace.state.is_gone(), workspace.state.is_usable(), workspace.state.can_terminate());
    }

    let single_page = bytes.iter().find(|b| !b" \t\r\n".contains(b)) == Some(&b'{');
    if single_page {
        let mut wrapped = b"[".to_vec();
        wrapped.extend_from_slice(bytes);
        wrapped.extend_from_slice(b"]");
        let as_array = parse_describe_workspaces(&wrapped).map_err(|e| e.to_string());
        assert_eq!(as_array.as_ref(), Ok(&workspaces), "P and [P] read differently");

        let mut twice = b"[".to_vec();
        twice.extend_from_slice(bytes);
        twice.extend_from_slice(b",");
        twice.extend_from_slice(bytes);
        twice.extend_from_slice(b"]");
        let as_two = parse_describe_workspaces(&twice).map_err(|e| e.to_string());
        assert_eq!(as_two.as_ref(), Ok(&workspaces), "P and [P, P] read differently");
    }
});
