#!/usr/bin/env bash
# Create (or reuse) the Python venv for wsdr's local AWS emulator, with exact pins.
#
#   tests/emulator/setup.sh            install if needed; print what was done
#   tests/emulator/setup.sh --refreeze reinstall from requirements.txt alone and rewrite
#                                      constraints.txt from the result (maintainers only)
#
# Venv path: $WSDR_EMULATOR_VENV, default <repo root>/.venv-emulator.
# Python:    $WSDR_PYTHON, default python3 (3.11+; Debian 12's python3 works).
# Idempotent: a stamp file in the venv holds a hash of the requirements, the constraints and
# the interpreter; when it matches, nothing is installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
venv="${WSDR_EMULATOR_VENV:-$repo_root/.venv-emulator}"
python="${WSDR_PYTHON:-python3}"
req="$here/requirements.txt"
cons="$here/constraints.txt"
stamp="$venv/.wsdr-emulator-stamp"
refreeze=0
[[ "${1:-}" == "--refreeze" ]] && refreeze=1

say() { echo "emulator setup: $*"; }

if ! command -v "$python" >/dev/null 2>&1; then
    say "no $python on PATH (set WSDR_PYTHON)" >&2
    exit 1
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    say "$python is $("$python" --version 2>&1); need Python 3.11 or newer" >&2
    exit 1
fi

pyver="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
want="$(cat "$req" "$cons" | sha256sum | cut -d' ' -f1) python-$pyver"

if [[ $refreeze -eq 0 && -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    say "up to date ($venv)"
    exit 0
fi

# Debian/Ubuntu ship venv's ensurepip separately (python3-venv): when creating the venv fails
# for that reason, install it (as root, with apt-get) and try again.
install_venv_support() {
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        minor="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        say "python venv support missing: apt-get install python3-venv python$minor-venv"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv "python$minor-venv" >/dev/null \
            || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        return 0
    fi
    say "python venv support missing: install python3-venv (as root: apt-get install python3-venv)" >&2
    exit 1
}

make_venv() {
    rm -rf "$venv"
    "$python" -m venv "$venv" >/dev/null 2>&1 && [[ -x "$venv/bin/pip" ]]
}

if [[ $refreeze -eq 1 && -d "$venv" ]]; then
    say "removing $venv for a clean refreeze"
    rm -rf "$venv"
fi
venv_pyver() { "$venv/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true; }
if [[ -x "$venv/bin/python" && "$(venv_pyver)" != "$pyver" ]]; then
    say "venv $venv was made with Python $(venv_pyver), not $pyver: recreating it"
    rm -rf "$venv"
fi
if [[ ! -x "$venv/bin/python" || ! -x "$venv/bin/pip" ]]; then
    say "creating venv $venv with $python ($pyver)"
    if ! make_venv; then
        install_venv_support
        make_venv || { say "could not create the venv with $python -m venv" >&2; exit 1; }
    fi
fi

start=$SECONDS
export PIP_DISABLE_PIP_VERSION_CHECK=1
if [[ $refreeze -eq 1 ]]; then
    say "installing from requirements.txt alone"
    "$venv/bin/python" -m pip install -q -r "$req"
    {
        echo "# Exact versions of every package in the emulator venv (pip freeze of a fresh install of"
        echo "# requirements.txt on Python 3.11). Used as pip constraints by setup.sh."
        "$venv/bin/python" -m pip freeze --exclude-editable
    } >"$cons"
    say "rewrote $cons"
    want="$(cat "$req" "$cons" | sha256sum | cut -d' ' -f1) python-$pyver"
else
    say "installing pinned packages into $venv"
    "$venv/bin/python" -m pip install -q -r "$req" -c "$cons"
fi
"$venv/bin/python" -c 'import moto, boto3, pytest, flask' # fail loudly if something is missing
echo "$want" >"$stamp"
say "installed moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)') in $((SECONDS - start)) s"
