#!/usr/bin/env bash
# Start the emulator for a test harness or the demo:
#   tests/emulator/run-emulator.sh --port 0 [--ready-file F] [--exit-with-parent] [knobs...]
# Runs setup.sh first (its messages go to stderr), then replaces itself with the launcher,
# so stdout carries exactly one line, "WSDR_EMULATOR_READY http://127.0.0.1:PORT", and
# SIGTERM/SIGINT reach the launcher directly. See README.md for the options.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
venv="${WSDR_EMULATOR_VENV:-$repo_root/.venv-emulator}"

"$here/setup.sh" >&2
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
exec "$venv/bin/python" -m wsdr_emulator "$@"
