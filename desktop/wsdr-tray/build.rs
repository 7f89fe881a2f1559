//! Validates tauri.conf.json and the capabilities, and embeds them (with `ui/`) into the binary.

fn main() {
    tauri_build::build();
}
