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

step "toolchain"
for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    rustup component add "$component"
  fi
done
cargo --version

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (every crate: unit, property, fixture and CLI tests)"
cargo test --workspace --locked

step "done"
echo "tests/run.sh passed in $(($(date +%s) - started)) s"
