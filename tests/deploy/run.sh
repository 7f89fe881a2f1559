#!/usr/bin/env bash
# The deploy proof (issue 15): wsdr's SAM stack deployed into the emulator in each mode (export, directory, every
# option on), the real Lambda bootstraps from the test build run under a faithful Runtime API with the environment
# each deployed function has, and every AWS call they make checked against their role. See tests/deploy/proof.py.
#
#   tests/deploy/run.sh     # after `cargo test --workspace` (reuses ${CARGO_TARGET_DIR:-target}/debug/{reconcile,health,publish,wsdr})
#
# Builds nothing. Venvs: the emulator's ($WSDR_EMULATOR_VENV) and this proof's ($WSDR_DEPLOY_VENV: the pinned
# aws-sam-translator and parliament), both created idempotently. Prints each step's duration; exits non-zero on any
# failed check.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
started=$(date +%s%N)
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac

"$here/setup.sh"
"$root/tests/emulator/setup.sh"
deploy_python=${WSDR_DEPLOY_VENV:-$root/.venv-deploy}/bin/python
emulator_python=${WSDR_EMULATOR_VENV:-$root/.venv-emulator}/bin/python

status=0
PYTHONDONTWRITEBYTECODE=1 "$emulator_python" "$here/proof.py" --bin-dir "$target/debug" \
  --deploy-python "$deploy_python" --emulator "$root/tests/emulator/run-emulator.sh" || status=$?
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
printf 'tests/deploy/run.sh: %s in %d.%01d s\n' "$([ "$status" -eq 0 ] && echo passed || echo "FAILED (exit $status)")" \
  $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
exit "$status"
