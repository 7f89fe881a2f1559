#!/usr/bin/env bash
# The tray app's tests that need a desktop: installs the Debian packages they need (only when
# missing) and tauri-driver (once, into a cache), starts a private X display (Xvfb) with a system
# tray (trayer), a session D-Bus with a notification server (dunst) watched by dbus-monitor, and an
# xdg-open handler for workspaces:// that records what it receives; then runs the window's
# front-end tests (node) and the wsdr-tray tests marked #[ignore = "needs the desktop rig ..."]
# (the URL handler, the tray icon and menu, notifications, single instance, footprint, and the
# window through WebDriver). Everything it starts is stopped on exit. Exits non-zero on any failure.
#
# Usage: tests/desktop/run-tests.sh            run the tests
#        tests/desktop/run-tests.sh --install   only install what building and testing need
#        tests/desktop/run-tests.sh CMD [ARG..] run CMD inside the rig instead (debugging, measuring)
# Env:   CARGO_TARGET_DIR is honoured; artifacts (tray log, footprint figures) go to
#        $CARGO_TARGET_DIR/desktop-artifacts (target/desktop-artifacts by default).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
target_dir=${CARGO_TARGET_DIR:-$root/target}
artifacts=$target_dir/desktop-artifacts

# --- packages --------------------------------------------------------------------------------
# shellcheck source=../lib.sh
source "$root/tests/lib.sh"
# Build: WebKitGTK and GTK headers. Run: the tray's appindicator (dlopened), the rig.
ensure_apt libwebkit2gtk-4.1-dev libayatana-appindicator3-1 webkit2gtk-driver \
  xvfb xauth x11-utils dbus dbus-x11 dunst xdg-utils desktop-file-utils trayer xdotool imagemagick \
  nodejs

# tauri-driver (the WebDriver server in front of WebKitWebDriver), built once into a cache outside
# the clone (~200 CPU-s): $WSDR_TOOLS_CACHE, default ~/.cache/wsdr.
tauri_driver_version=2.1.0
tools_cache=${WSDR_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsdr}
tauri_driver=$tools_cache/tauri-driver-$tauri_driver_version/bin/tauri-driver
if [ ! -x "$tauri_driver" ]; then
  echo "building tauri-driver $tauri_driver_version into $tools_cache"
  cargo install --quiet --locked "tauri-driver@$tauri_driver_version" \
    --root "$tools_cache/tauri-driver-$tauri_driver_version"
fi
export WSDR_TAURI_DRIVER=$tauri_driver
[ "${1:-}" = --install ] && exit 0

# --- the rig ---------------------------------------------------------------------------------
rig=$(mktemp -d "${TMPDIR:-/tmp}/wsdr-desktop-rig.XXXXXX")
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "${DBUS_SESSION_BUS_PID:-}" ] && kill "$DBUS_SESSION_BUS_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$rig"
  exit "$status"
}
trap cleanup EXIT INT TERM

mkdir -p "$artifacts" "$rig/home" "$rig/config" "$rig/data/applications" "$rig/state" "$rig/runtime"
chmod 700 "$rig/runtime"
# A private HOME and XDG dirs (autostart entries, mimeapps.list), keeping the Rust toolchain's.
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup} CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
export HOME=$rig/home XDG_CONFIG_HOME=$rig/config XDG_DATA_HOME=$rig/data XDG_STATE_HOME=$rig/state
export XDG_RUNTIME_DIR=$rig/runtime
unset XDG_CURRENT_DESKTOP DESKTOP_SESSION   # xdg-open's generic path: the mimeapps.list below
unset GDK_GL                                # the tray sets it for itself only (see the handler)

# A free display number.
display=99
while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >"$artifacts/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY=":$display"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo >/dev/null 2>&1 || { echo "Xvfb did not start (see $artifacts/xvfb.log)" >&2; exit 1; }

eval "$(dbus-launch --sh-syntax)"
export DBUS_SESSION_BUS_ADDRESS DBUS_SESSION_BUS_PID

export WSDR_TEST_NOTIFY_LOG=$rig/notifications.log
# Calls to the notification server, its signals, and its replies (which carry notification ids).
dbus-monitor --session "interface='org.freedesktop.Notifications'" \
  "type='method_return',sender='org.freedesktop.Notifications'" >"$WSDR_TEST_NOTIFY_LOG" 2>&1 &
pids+=($!)
dunst >"$artifacts/dunst.log" 2>&1 &
pids+=($!)
# A system tray (XEmbed) in the top-right corner hosts the tray icon.
trayer --edge top --align right --widthtype pixel --width 64 --height 32 --transparent false \
  --tint 0xcccccc >"$artifacts/trayer.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  dbus-send --session --print-reply --dest=org.freedesktop.Notifications /org/freedesktop/Notifications \
    org.freedesktop.Notifications.GetServerInformation >/dev/null 2>&1 && break
  sleep 0.1
done

# The workspaces:// handler: records its argument, one line per launch; fails on anything but
# exactly one argument, and if the tray's GDK_GL=disable leaked into the client's environment.
export WSDR_TEST_URI_LOG=$rig/uris.log
cat >"$rig/record-uri" <<HANDLER
#!/bin/sh
[ \$# -eq 1 ] || { echo "expected one argument, got \$#" >&2; exit 9; }
[ -z "\${GDK_GL+set}" ] || { echo "GDK_GL leaked into the client" >&2; exit 8; }
printf '%s\n' "\$1" >>"$WSDR_TEST_URI_LOG"
HANDLER
chmod +x "$rig/record-uri"
cat >"$XDG_DATA_HOME/applications/wsdr-test-workspaces.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=WorkSpaces (wsdr test handler)
Exec=$rig/record-uri %u
MimeType=x-scheme-handler/workspaces;
NoDisplay=true
DESKTOP
desktop-file-validate "$XDG_DATA_HOME/applications/wsdr-test-workspaces.desktop"
update-desktop-database -q "$XDG_DATA_HOME/applications"
printf '[Default Applications]\nx-scheme-handler/workspaces=wsdr-test-workspaces.desktop\n' \
  >"$XDG_CONFIG_HOME/mimeapps.list"
[ "$(xdg-mime query default x-scheme-handler/workspaces)" = wsdr-test-workspaces.desktop ] ||
  { echo "the workspaces:// test handler is not the default" >&2; exit 1; }

export WSDR_TEST_ARTIFACTS=$artifacts

if [ $# -gt 0 ]; then
  "$@"
  exit
fi

# --- the tests -------------------------------------------------------------------------------
echo "==> window front end (node --test ui/tests/)"
node --test ui/tests/

echo "==> wsdr-tray under the desktop rig (DISPLAY=$DISPLAY)"
# --workspace: the same features as the main `cargo test --workspace` build, so nothing is rebuilt.
cargo test --locked --workspace --test tray -- --ignored --nocapture --test-threads 1

echo "desktop artifacts in $artifacts:"
ls -1 "$artifacts"
cat "$artifacts"/footprint*.txt 2>/dev/null || true
