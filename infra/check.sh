#!/usr/bin/env bash
# Offline checks of wsdr's infrastructure: cfn-lint (both templates), checkov (security scanner; every suppression
# is justified in the template's Metadata), and the IAM/template invariant tests (infra/tests, pytest), among them
# that every function's `Binary:` is a bin target of backend/wsdr-lambda (cargo metadata; nothing is built here:
# the Lambda build itself is infra/package.sh).
#
#   infra/check.sh            # from anywhere; exits non-zero on any failure, prints its duration
#
# The tools live in a virtualenv at $WSDR_INFRA_VENV (default: <repo>/.venv-infra), created and filled from
# infra/requirements.txt on the first run. A stamp file holds the requirements' hash, so later runs install nothing
# (and need no network) until requirements.txt changes.
set -euo pipefail

start_ns=$(date +%s%N)
infra_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname -- "$infra_dir")
venv=${WSDR_INFRA_VENV:-$repo_dir/.venv-infra}
requirements=$infra_dir/requirements.txt
stamp=$venv/.wsdr-requirements.sha256
python=${PYTHON:-python3}
checkov_log=

finish() {
  local rc=$1 elapsed_ms
  [ -n "$checkov_log" ] && rm -f "$checkov_log"
  elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
  printf 'infra/check.sh: %s in %d.%01d s\n' "$([ "$rc" -eq 0 ] && echo passed || echo "FAILED (exit $rc)")" \
    $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
}
trap 'finish $?' EXIT

want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "infra/check.sh: installing $requirements into $venv"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
  echo "$want" > "$stamp"
fi

export PYTHONDONTWRITEBYTECODE=1
cd "$infra_dir"

# checkov is the slowest step: start it now, collect it at the end (2 cores).
checkov_log=$(mktemp)
"$venv/bin/checkov" --framework cloudformation --skip-download --quiet --compact \
  -f template.yaml -f health-forwarder.yaml >"$checkov_log" 2>&1 &
checkov_pid=$!

failed=0

echo "== cfn-lint"
if "$venv/bin/cfn-lint" --regions us-east-1 us-west-2 eu-west-1 eu-central-1 ap-southeast-2 -- \
  template.yaml health-forwarder.yaml; then
  echo "cfn-lint: clean"
else
  failed=1
fi

echo "== IAM and template invariants (pytest)"
"$venv/bin/python" -m pytest -c tests/pytest.ini tests || failed=1

echo "== checkov"
if wait "$checkov_pid"; then
  cat "$checkov_log"
else
  cat "$checkov_log"
  failed=1
fi

exit "$failed"
