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
