#!/usr/bin/env bash
# Create (or reuse) the deploy proof's Python venv: the SAM translator and parliament, exact pins.
#
# Venv path: $WSDR_DEPLOY_VENV, default <repo root>/.venv-deploy. Idempotent: a stamp holds the hash of the
# requirements, the constraints and the interpreter; when it matches, nothing is installed (no network).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
venv="${WSDR_DEPLOY_VENV:-$repo_root/.venv-deploy}"
python="${WSDR_PYTHON:-python3}"
req="$here/requirements.txt"
cons="$here/constraints.txt"
stamp="$venv/.wsdr-deploy-stamp"
pyver="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
want="$(cat "$req" "$cons" | sha256sum | cut -d' ' -f1) python-$pyver"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "deploy setup: up to date ($venv)"
    exit 0
fi
start=$SECONDS
[[ -x "$venv/bin/pip" ]] || "$python" -m venv "$venv"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install -q -r "$req" -c "$cons"
"$venv/bin/python" -c 'import samtranslator, parliament'
echo "$want" >"$stamp"
echo "deploy setup: installed $(cat "$req" | grep -v '^#' | tr '\n' ' ')in $((SECONDS - start)) s"
