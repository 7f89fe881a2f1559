#!/usr/bin/env bash
# The desktop crates on Windows, cross-built here and run under Wine: installs mingw-w64, Wine and
# Xvfb (only when missing) and the Rust target, builds two test-only helpers with mingw (a
# bcryptprimitives.dll stand-in that wine 8 lacks, and a recording workspaces:// handler: never
# shipped), prepares a throwaway Wine prefix under the target directory, then runs clippy for
# x86_64-pc-windows-gnu, the desktop tests under Wine, and the tests that need this rig (HKLM
# handler and Group Policy, the tray app under Xvfb with a screenshot). Exits non-zero on any failure.
#
# Usage: tests/windows/run-tests.sh            everything
#        tests/windows/run-tests.sh --install  only install what building and testing need
# Env:   CARGO_TARGET_DIR is honoured; artifacts (tray log, screenshot, footprint) go to
#        $CARGO_TARGET_DIR/windows-artifacts.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
target_dir=${CARGO_TARGET_DIR:-$root/target}
artifacts=$target_dir/windows-artifacts
rig=$target_dir/windows-rig
triple=x86_64-pc-windows-gnu
crates=(-p wsdr-desktop-core -p wsdr-tray -p wsdr-tray-cli)
started=$(date +%s)
last=$started
step() {
  local now; now=$(date +%s)
  printf '\n==> windows: %s (previous step %ss, total %ss)\n' "$1" "$((now - last))" "$((now - started))"
  last=$now
}

# shellcheck source=../lib.sh
source "$root/tests/lib.sh"

step "packages (mingw-w64, wine, Xvfb) and the Rust target"
ensure_apt mingw-w64 wine wine64 xvfb xauth x11-utils imagemagick procps
if ! rustup target list --installed | grep -qx "$triple"; then
  rustup target add "$triple"
fi
[ "${1:-}" = --install ] && exit 0

step "test-only helpers (mingw): bcryptprimitives.dll stand-in, recording workspaces:// handler"
mkdir -p "$rig" "$artifacts"
rm -f "$artifacts"/*.marker "$artifacts"/*.done
x86_64-w64-mingw32-gcc -shared -O2 -o "$rig/bcryptprimitives.dll" tests/windows/bcryptprimitives.c -ladvapi32
x86_64-w64-mingw32-gcc -municode -O2 -o "$rig/record-uri.exe" tests/windows/record-uri.c

step "Wine prefix (throwaway, under the target directory; no Mono, no Gecko)"
export WINEPREFIX=$rig/prefix WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  wineboot -i >"$artifacts/wineboot.log" 2>&1
  wineserver -w
fi
cp "$rig/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
# Nothing left from an interrupted run: no handler, no policy.
wine reg delete 'HKLM\Software\Classes\workspaces' /f >/dev/null 2>&1 || true
wine reg delete 'HKLM\SOFTWARE\Policies\wsdr' /f >/dev/null 2>&1 || true

# The runner cargo uses for the Windows test binaries.
cat >"$rig/wine-runner" <<RUNNER
#!/bin/sh
exec wine "\$@"
RUNNER
chmod +x "$rig/wine-runner"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$rig/wine-runner

step "cargo clippy --target $triple (desktop crates, all targets, warnings are errors)"
cargo clippy --locked --target "$triple" "${crates[@]}" --all-targets -- -D warnings

step "cargo test --target $triple under Wine (unit, property, HTTP, one-shot modes, layers)"
cargo test --locked --target "$triple" "${crates[@]}"

# --- the rig: a display, and the tests that write HKLM or run the tray --------------------------
display=99
while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 1024x768x24 -nolisten tcp >"$artifacts/xvfb.log" 2>&1 &
xvfb=$!
cleanup() {
  local status=$?
  wineserver -k 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
  wait "$xvfb" 2>/dev/null || true
  exit "$status"
}
trap cleanup EXIT INT TERM
export DISPLAY=":$display"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

export WSDR_TEST_RECORDER WSDR_TEST_ARTIFACTS
WSDR_TEST_RECORDER=$(winepath -w "$rig/record-uri.exe" 2>/dev/null)
WSDR_TEST_ARTIFACTS=$(winepath -w "$artifacts" 2>/dev/null)

step "under the rig: --connect through ShellExecuteExW (HKLM handler, none) and Group Policy"
cargo test --locked --target "$triple" -p wsdr-tray-cli --test tray_cli -- --ignored --test-threads 1

step "under the rig: the tray app as the first program of a fresh wineserver (system tray comes up late)"
wineserver -k 2>/dev/null || true
wineserver -w 2>/dev/null || true
# Screenshot and footprint when the test says the failover icon is up.
(
  for _ in $(seq 600); do
    if [ -e "$artifacts/tray-failover.marker" ]; then
      sleep 2
      import -window root "$artifacts/tray-failover-wine.png" || true
      pid=$(pgrep -n -f 'wsdr-tray\.exe --config' || true)
      if [ -n "$pid" ]; then
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
        printf 'wsdr-tray.exe (debug) under wine 8, tray only: RSS %.1f MB (the wine process, incl. wine'"'"'s own mappings)\n' \
          "$(echo "$rss / 1024" | bc -l)" | tee "$artifacts/footprint-wine.txt"
      fi
      touch "$artifacts/tray-failover.done"
      break
    fi
    sleep 0.2
  done
) &
watcher=$!
cargo test --locked --target "$triple" -p wsdr-tray --test tray wine:: -- --ignored --nocapture --test-threads 1
wait "$watcher" || true
# The failover icon (red, #C62828 as in icons/tray-failover.png) is on the display, in Wine's tray.
red=$(convert "$artifacts/tray-failover-wine.png" -fuzz 15% -fill black +opaque '#C62828' \
  -fill white -opaque '#C62828' -format '%[fx:round(mean*w*h)]' info:)
echo "failover-red pixels on the screenshot: $red"
[ "$red" -ge 50 ] || { echo "the red failover icon is not on the display (see $artifacts)" >&2; exit 1; }

step "done"
echo "windows artifacts in $artifacts:"
ls -1 "$artifacts"
cat "$artifacts"/footprint-wine.txt 2>/dev/null || true
echo "tests/windows/run-tests.sh passed in $(($(date +%s) - started)) s"
