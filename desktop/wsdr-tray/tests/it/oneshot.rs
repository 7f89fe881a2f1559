//! `wsdr-tray --status` and `--connect` still work (Linux callers: `wsdr demo --gui`, the rig):
//! the same code as `wsdr-tray-cli`, whose tests cover the modes in depth.

use wsdr_protocol::State;

use crate::server::DocumentServer;
use crate::support::*;

#[test]
fn the_tray_binary_keeps_its_one_shot_modes() {
    let server = DocumentServer::start();
    let home = Home::new("tray-status", server.url());
    server.serve_document(&document(1, State::Failover));
    let view = home.status();
    assert_eq!(view["state"], "failover");
    assert_eq!(view["dr_registration_code"], DR_CODE);
}

/// The PE header's subsystem of a Windows executable: 2 GUI, 3 console.
#[cfg(windows)]
fn pe_subsystem(exe: &str) -> u16 {
    let bytes = std::fs::read(exe).unwrap();
    let at = |offset: usize| u16::from_le_bytes([bytes[offset], bytes[offset + 1]]);
    let pe = u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()) as usize;
    assert_eq!(&bytes[pe..pe + 4], b"PE\0\0");
    // Signature (4) + COFF header (20), then the optional header's Subsystem at offset 68.
    at(pe + 4 + 20 + 68)
}

/// Issue 14, defect 3: the tray is a GUI program on Windows (no console window at login).
#[cfg(windows)]
#[test]
fn issue_14_the_tray_is_a_gui_subsystem_program() {
    assert_eq!(pe_subsystem(BINARY), 2, "wsdr-tray.exe must be IMAGE_SUBSYSTEM_WINDOWS_GUI");
}
