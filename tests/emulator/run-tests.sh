#!/usr/bin/env bash
# Set up the emulator venv (if needed) and run the emulator's own pytest suite.
# Extra arguments go to pytest, e.g.:  tests/emulator/run-tests.sh -k throttl -v
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
venv="${WSDR_EMULATOR_VENV:-$repo_root/.venv-emulator}"

"$here/setup.sh"
cd "$here"
exec "$venv/bin/python" -m pytest "$@"
