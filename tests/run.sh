#!/usr/bin/env bash
# Runs every wsdr test from a fresh clone: installs what the tests need (idempotently), then formatting,
# lints and every test suite. One `cargo test` build serves all Rust tests. Exits non-zero on any failure.
#
# Usage: tests/run.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
started=$(date +%s)

step() { printf '\n==> %s (%ss)\n' "$1" "$(($(date +%s) - started))"; }

# shellcheck source=lib.sh
source "$root/tests/lib.sh"

step "system packages"
ensure_apt openssl   # wsdr-protocol's tests check signatures against openssl both ways
# The tray (Tauri 2) builds against WebKitGTK; its desktop rig needs Xvfb, D-Bus, dunst, trayer, node and
# tauri-driver (built once into ~/.cache/wsdr). Needed before clippy, which checks the tray too.
tests/desktop/run-tests.sh --install

step "Samba AD DC (the LDAP users source's tests run against a throwaway DC on loopback; needs root)"
tests/samba/setup.sh

step "toolchain"
for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    rustup component add "$component"
  fi
done
cargo --version

step "AWS emulator venv (moto, pinned): the Rust integration tests start emulators from it"
tests/emulator/setup.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (every crate: unit, property, fixture, simulator scenarios, CLI, emulator and Samba AD tests)"
cargo test --workspace --locked -- --skip every_seed_keeps_every_invariant

step "fault simulator: 10,000 seeded stories through the failover driver, invariants after every step (seeds/s)"
cargo test --workspace --locked --test sim -- --nocapture every_seed_keeps_every_invariant

step "fuzz: every parser of outside input, 5 s per target (cargo-fuzz on nightly; tests/fuzz/README.md)"
tests/fuzz/run.sh --seconds 5

step "desktop: the tray under Xvfb (URL handler, tray icon and menu, D-Bus notifications, window via WebDriver)"
tests/desktop/run-tests.sh

step "windows: desktop crates cross-built for x86_64-pc-windows-gnu, clippy, tests under Wine (HKLM handler, policy, tray)"
tests/windows/run-tests.sh

step "windows package: the MSI under Wine (build, silent install → --status → upgrade → uninstall), ADMX/ADML, macOS plists"
tests/windows/installer-test.sh

step "macOS: clippy for aarch64-apple-darwin on the desktop crates (type check only: stub SDK headers, nothing linked)"
tests/macos/check.sh

step "benchmark: converge 1,000 users on the throttled emulator (calls and time beside the floor)"
cargo bench --locked --workspace --bench converge --profile dev   # --workspace: the test build's features, no rebuild

step "benchmark: health event in → status document signed and written, p50/p99 (local key and KMS)"
WSDR_BENCH_ITERATIONS=100 cargo bench --locked --workspace --bench alert_latency --profile dev

step "wsdr demo: the whole DR story on the emulator, as a smoke test (exits non-zero if any outcome fails)"
# The binary `cargo test --workspace` built: `cargo run -p wsdr-cli` would resolve wsdr-cli's features alone and
# rebuild dependencies (~75 s on a cold CI). Same code as the README's `cargo run -q -p wsdr-cli -- demo`.
"${CARGO_TARGET_DIR:-target}/debug/wsdr" demo

step "wsdr demo --gui: the same story with the real tray app running under the desktop rig"
tests/desktop/run-tests.sh "${CARGO_TARGET_DIR:-target}/debug/wsdr" demo --gui

step "AWS emulator (moto, pinned, in a venv): its AWS-faithful WorkSpaces behaviours"
tests/emulator/run-tests.sh -q

step "infra: cfn-lint, checkov and the IAM invariant tests over the SAM templates"
infra/check.sh

step "deploy proof: the stack in the emulator (3 modes), the real bootstraps under a Runtime API, calls vs roles"
tests/deploy/run.sh   # the bootstraps and wsdr that `cargo test --workspace` built; builds nothing

step "done"
echo "tests/run.sh passed in $(($(date +%s) - started)) s"
