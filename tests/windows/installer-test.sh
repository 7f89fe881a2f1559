#!/usr/bin/env bash
# The Windows package's round trip under wine, from the already-built Windows exes:
#   static checks  ADMX/ADML against the policy contract (check-admx.py); the macOS plist and
#                  configuration profile parse (plistlib)
#   build          desktop/windows/build-installer.sh → wsdr-VERSION-x64.msi; its tables (files, shortcut
#                  AUMID, ProgramData ACL, Run key, policy values) checked with msiinfo
#   round trip 1   msiexec /i /qn → files, shortcut, Run key, uninstall entry, ProgramData\wsdr present; a
#                  tray.toml seeded in ProgramData → the installed console exe's --status accepts a signed
#                  failover document served on loopback → msiexec /x {ProductCode} /qn → everything the
#                  package installed is gone, the admin's tray.toml stays
#   round trip 2   msiexec /i /qn STATUSURL= POLLINTERVALSECS= PUBLICKEYID= PUBLICKEY= → the policy values
#                  (HKLM\SOFTWARE\Policies\wsdr) → --status with no tray.toml at all → the tray started (Xvfb)
#                  → uninstall stops it and removes the values
#   WebView2       REQUIREWEBVIEW2=1 refuses to install without the runtime (exit 1603, nothing installed);
#                  with the EdgeUpdate client key present it installs and logs the version
# Every step's duration is printed. A throwaway WINEPREFIX under the target directory; the test-only
# bcryptprimitives.dll shim (Rust ≥ 1.78 exes need ProcessPrng; wine 8 lacks it) goes into that prefix's
# system32, never into the package (asserted).
#
# Usage: tests/windows/installer-test.sh
#   WSDR_WINDOWS_BIN_DIR  where the Windows exes are (default: $CARGO_TARGET_DIR/x86_64-pc-windows-gnu/debug)
#   WSDR_TRAY_CLI_EXE     the console exe's file name there (default: wsdr-tray-cli.exe)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=../lib.sh
source "$root/tests/lib.sh"

target=${CARGO_TARGET_DIR:-$root/target}
bin_dir=${WSDR_WINDOWS_BIN_DIR:-$target/x86_64-pc-windows-gnu/debug}
cli_name=${WSDR_TRAY_CLI_EXE:-wsdr-tray-cli.exe}
work=$target/windows-installer-test
failures=0

exec 3>&1 # durations go to the terminal even when a timed command's output is redirected
now_ms() { date +%s%3N; }
timed() { # timed LABEL CMD...: runs CMD, prints its duration; returns its status
  local label=$1 start status=0
  shift
  start=$(now_ms)
  "$@" || status=$?
  printf '     %-48s %6d ms (exit %d)\n' "$label" $(($(now_ms) - start)) "$status" >&3
  return "$status"
}
ok() { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; failures=$((failures + 1)); }
expect() { # expect DESCRIPTION CMD...: the command must succeed
  local description=$1
  shift
  if "$@"; then ok "$description"; else fail "$description"; fi
}
expect_not() {
  local description=$1
  shift
  if "$@"; then fail "$description"; else ok "$description"; fi
}

ensure_apt wixl msitools libxml2-utils wine wine64 gcc-mingw-w64-x86-64 openssl python3 xvfb

echo "==> static checks: ADMX/ADML, macOS plists"
expect "wsdr.admx and wsdr.adml are well-formed XML" \
  xmllint --noout desktop/windows/policy/wsdr.admx desktop/windows/policy/en-US/wsdr.adml
expect "ADMX/ADML names match the policy contract and the tray's reader" tests/windows/check-admx.py
for plist in desktop/macos/com.wsdr.tray.plist desktop/macos/wsdr.mobileconfig; do
  expect "$plist is a well-formed property list" \
    python3 -c 'import plistlib, sys; plistlib.load(open(sys.argv[1], "rb"))' "$plist"
done
expect "the configuration profile's keys are the tray's (StatusUrl, PollIntervalSecs, PublicKeys)" python3 - <<'EOF'
import plistlib
profile = plistlib.load(open("desktop/macos/wsdr.mobileconfig", "rb"))
payloads = [p for p in profile["PayloadContent"] if p["PayloadType"] == "com.wsdr.tray"]
assert len(payloads) == 1, payloads
keys = set(payloads[0]) - {k for k in payloads[0] if k.startswith("Payload")}
assert keys == {"StatusUrl", "PollIntervalSecs", "PublicKeys"}, keys
assert isinstance(payloads[0]["PollIntervalSecs"], int) and 5 <= payloads[0]["PollIntervalSecs"] <= 86400
assert isinstance(payloads[0]["PublicKeys"], dict) and payloads[0]["PublicKeys"]
EOF

echo "==> the Windows exes ($bin_dir)"
tray_exe=$bin_dir/wsdr-tray.exe
cli_exe=$bin_dir/$cli_name
for f in "$tray_exe" "$cli_exe" "$bin_dir/WebView2Loader.dll"; do
  [ -f "$f" ] || { echo "missing $f: build the Windows tray first (cargo build --target x86_64-pc-windows-gnu ...)"; exit 1; }
  printf '     %-48s %9d bytes\n' "$(basename "$f")" "$(stat -c %s "$f")"
done

rm -rf "$work"
mkdir -p "$work"

echo "==> build the MSI"
msi=$work/wsdr-x64.msi
timed "build-installer.sh (wixl + msibuild)" desktop/windows/build-installer.sh "$tray_exe" "$cli_exe" "$msi" >/dev/null
printf '     %-48s %9d bytes\n' "$(basename "$msi")" "$(stat -c %s "$msi")"
table() { msiinfo export "$msi" "$1" | tr -d '\r' | tail -n +4; } # rows of an MSI table, tab-separated
has_row() { table "$1" | grep -qxF -- "$2"; }
tab=$'\t'
expect "the MSI holds exactly wsdr-tray.exe, $cli_name, WebView2Loader.dll" \
  test "$(table File | cut -f3 | sort | tr '\n' ' ')" = "$(printf '%s\n' WebView2Loader.dll "$cli_name" wsdr-tray.exe | sort | tr '\n' ' ')"
expect_not "the test-only bcryptprimitives.dll shim is not in the MSI" bash -c "msiinfo export '$msi' File | grep -qi bcryptprimitives"
expect "per-machine (ALLUSERS=1)" has_row Property "ALLUSERS${tab}1"
expect "a 64-bit package" bash -c "msiinfo suminfo '$msi' | grep -qx 'Template: x64;1033'"
expect "the Start-menu shortcut carries System.AppUserModel.ID = wsdr.tray (MsiShortcutProperty)" \
  has_row MsiShortcutProperty "TrayStartMenuAumid${tab}TrayStartMenu${tab}{9F4C2855-9F79-4B39-A8D0-E1D42DE1D5F3}, 5${tab}wsdr.tray"
expect "ProgramData\\wsdr gets a protected ACL: SYSTEM, Administrators full; Users read (MsiLockPermissionsEx)" \
  has_row MsiLockPermissionsEx "ProgramDataAcl${tab}PROGRAMDATADIR${tab}CreateFolder${tab}O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)${tab}"
expect "the policy values the MSI writes are the contract's" tests/windows/check-admx.py --msi "$msi" >/dev/null
product_code=$(table Property | awk -F'\t' '$1 == "ProductCode" {print $2}')

echo "==> wine prefix, the test-only shim, a signing key and a signed document"
export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export WINEARCH=win64
unset DISPLAY # msiexec /qn and the console exe need no display
timed "wineboot -i (a fresh prefix)" wineboot -i >/dev/null 2>&1
wineserver -w
c=$WINEPREFIX/drive_c
# The same test-only stand-in that tests/windows/run-tests.sh builds (never shipped: build-installer.sh stages
# only the files it is given).
shim_source=tests/windows/bcryptprimitives.c
[ -f "$shim_source" ] || { echo "installer-test: $shim_source is missing" >&2; exit 1; }
x86_64-w64-mingw32-gcc -shared -O2 -o "$c/windows/system32/bcryptprimitives.dll" "$shim_source" -ladvapi32

key_id=wsdr-installer-test
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/signing.pem" 2>/dev/null
openssl pkey -in "$work/signing.pem" -pubout -out "$work/signing.pub.pem"
public_b64=$(grep -v -- '-----' "$work/signing.pub.pem" | tr -d '\n')
mkdir -p "$work/www"
python3 - "$work" "$key_id" <<'EOF'
# A failover document issued now, valid 24 h, signed like wsdr-protocol's LocalSigner (ES256 over the payload bytes).
import base64, datetime, json, subprocess, sys
work, key_id = sys.argv[1], sys.argv[2]
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
payload = json.dumps({
    "version": 1, "sequence": 7, "issued_at": iso(now - datetime.timedelta(minutes=1)),
    "expires_at": iso(now + datetime.timedelta(hours=24)), "state": "failover",
    "primary": {"region": "us-east-1", "registration_code": "SLiad+ABCDEF"},
    "dr": {"region": "us-west-2", "registration_code": "WSpdx+ABC12D"}, "active": "dr",
    "message": {"title": "WorkSpaces failover", "body": "Use your DR WorkSpace."},
    "cause": {"source": "admin", "event_arn": None},
}, separators=(",", ":")).encode()
signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", f"{work}/signing.pem"], input=payload,
                           check=True, capture_output=True).stdout
b64 = lambda b: base64.b64encode(b).decode()
open(f"{work}/www/status.json", "w").write(json.dumps(
    {"payload": b64(payload), "signature": b64(signature), "key_id": key_id, "alg": "ES256"}))
EOF
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/www" >"$work/http.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wineserver -k 2>/dev/null || true' EXIT
status_url=http://127.0.0.1:$port/status.json
for _ in $(seq 50); do
  python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1])" "$status_url" 2>/dev/null && break
  sleep 0.1
done

# Paths and keys as Windows sees them.
program_files="$c/Program Files/wsdr"
program_data=$c/ProgramData/wsdr
run_key='HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run'
uninstall_key="HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$product_code"
policy_key='HKLM\SOFTWARE\Policies\wsdr'
shortcuts() { find "$c" -iname 'wsdr.lnk' -path '*Start Menu/Programs/*'; }
reg_has() { wine reg query "$@" >/dev/null 2>&1; }
installed_files() { (cd "$program_files" 2>/dev/null && ls | sort | tr '\n' ' '); }

# --status through the installed console exe: the document accepted, failover, the DR code.
status_is_failover() {
  local out=$work/status-$1.json status=0
  timed "$cli_name --status ($1)" wine "C:\\Program Files\\wsdr\\$cli_name" --status >"$out" 2>"$work/status-$1.err" \
    || status=$?
  [ "$status" -eq 0 ] || { echo "     exit $status: $(head -c 400 "$work/status-$1.err")"; return 1; }
  python3 - "$out" <<'EOF'
import json, sys
raw = open(sys.argv[1], encoding="utf-8", errors="replace").read()
try:
    view = json.loads(raw)
except ValueError:
    sys.exit(f"     not JSON: {raw[:400]!r}")
if view.get("state") != "failover" or view.get("dr_registration_code") != "WSpdx+ABC12D":
    sys.exit(f"     state {view.get('state')!r}, DR code {view.get('dr_registration_code')!r}, problems {view.get('problems')}")
EOF
}

echo "==> round trip 1: silent install, a tray.toml in ProgramData, --status, silent uninstall"
timed "msiexec /i wsdr-x64.msi /qn" wine msiexec /i "$(winepath -w "$msi")" /qn /l*v "$(winepath -w "$work/install1.log")" \
  && status=0 || status=$?
expect "exit 0" test "$status" -eq 0
expect "Program Files\\wsdr holds the three files" \
  test "$(installed_files)" = "$(printf '%s\n' WebView2Loader.dll "$cli_name" wsdr-tray.exe | sort | tr '\n' ' ')"
expect_not "no bcryptprimitives.dll beside the installed exes" test -e "$program_files/bcryptprimitives.dll"
expect "one Start-menu shortcut wsdr.lnk, pointing at the installed tray" \
  bash -c "[ \$(find '$c' -iname wsdr.lnk -path '*Start Menu/Programs/*' | wc -l) -eq 1 ] && find '$c' -iname wsdr.lnk -path '*Start Menu/Programs/*' -exec grep -qa 'wsdr-tray.exe' {} \\;"
echo "     shortcut: $(shortcuts | sed "s|$c/||")"
expect "autostart for every user: HKLM Run\\wsdr = \"C:\\Program Files\\wsdr\\wsdr-tray.exe\"" \
  bash -c "wine reg query '$run_key' /v wsdr | tr -d '\r' | grep -q 'REG_SZ *\"C:\\\\Program Files\\\\wsdr\\\\wsdr-tray.exe\"'"
expect "Add/Remove Programs entry (HKLM Uninstall\\$product_code, DisplayName wsdr)" \
  bash -c "wine reg query '$uninstall_key' /v DisplayName | tr -d '\r' | grep -q 'REG_SZ *wsdr\$'"
expect "%ProgramData%\\wsdr exists" test -d "$program_data"
echo "     (wine 8's msi does not apply MsiLockPermissionsEx nor MsiShortcutProperty: ACL and AUMID are checked in the package above)"
expect_not "no policy values without install properties" reg_has "$policy_key"
expect "the log says WebView2 was looked for and not found (no WEBVIEW2_VERSION value)" \
  bash -c "grep -aq 'Property: WEBVIEW2_VERSION, Signature: WebView2PerMachine' '$work/install1.log' && ! grep -aq 'WEBVIEW2_VERSION = ' '$work/install1.log'"
# What an admin deploys beside the package (a GPO file preference, a script): the admins' layer.
cat >"$program_data/tray.toml" <<EOF
status_url = "$status_url"
poll_interval_secs = 60

[public_keys]
"$key_id" = """
$(cat "$work/signing.pub.pem")
"""
EOF
expect "the installed console exe reads %ProgramData%\\wsdr\\tray.toml and accepts the signed failover document" \
  status_is_failover programdata

echo "==> upgrade: another build of the same version (new ProductCode) replaces the installed one"
msi_rebuild=$work/wsdr-x64-rebuild.msi
product_code_rebuild=$(python3 -c 'import uuid; print("{%s}" % str(uuid.uuid4()).upper())')
cp "$msi" "$msi_rebuild"
msibuild "$msi_rebuild" -q "UPDATE \`Property\` SET \`Value\` = '$product_code_rebuild' WHERE \`Property\` = 'ProductCode'"
msibuild "$msi_rebuild" -s "Installation Database" wsdr "x64;1033" "$(python3 -c 'import uuid; print("{%s}" % str(uuid.uuid4()).upper())')"
timed "msiexec /i wsdr-x64-rebuild.msi /qn" wine msiexec /i "$(winepath -w "$msi_rebuild")" /qn && status=0 || status=$?
expect "exit 0" test "$status" -eq 0
expect_not "the first build's uninstall entry is gone" reg_has "$uninstall_key"
uninstall_key="HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$product_code_rebuild"
expect "the rebuild's uninstall entry is there" reg_has "$uninstall_key"
expect "Program Files\\wsdr still holds the three files" \
  test "$(installed_files)" = "$(printf '%s\n' WebView2Loader.dll "$cli_name" wsdr-tray.exe | sort | tr '\n' ' ')"
expect "one shortcut" test "$(shortcuts | wc -l)" -eq 1
expect "the admin's tray.toml survived the upgrade" test -f "$program_data/tray.toml"

timed "msiexec /x $product_code_rebuild /qn" wine msiexec /x "$product_code_rebuild" /qn /l*v "$(winepath -w "$work/uninstall1.log")" \
  && status=0 || status=$?
expect "exit 0" test "$status" -eq 0
expect_not "Program Files\\wsdr is gone" test -e "$program_files"
expect "no shortcut left" test -z "$(shortcuts)"
expect_not "no Run\\wsdr value left" bash -c "wine reg query '$run_key' /v wsdr >/dev/null 2>&1"
expect_not "no uninstall entry left" reg_has "$uninstall_key"
expect_not "no HKLM\\SOFTWARE\\wsdr left" reg_has 'HKLM\SOFTWARE\wsdr'
expect "the admin's %ProgramData%\\wsdr\\tray.toml is kept (the package never removes files it did not install)" \
  test -f "$program_data/tray.toml"

echo "==> round trip 2: install properties → policy values, --status from them alone, uninstall"
rm -rf "$program_data"
timed "msiexec /i ... /qn STATUSURL= ... PUBLICKEY=" wine msiexec /i "$(winepath -w "$msi")" /qn \
  STATUSURL="$status_url" POLLINTERVALSECS=120 PUBLICKEYID="$key_id" PUBLICKEY="$public_b64" \
  /l*v "$(winepath -w "$work/install2.log")" && status=0 || status=$?
expect "exit 0" test "$status" -eq 0
expect "StatusUrl (REG_SZ)" bash -c "wine reg query '$policy_key' /v StatusUrl | tr -d '\r' | grep -q 'REG_SZ *$status_url\$'"
expect "PollIntervalSecs (REG_DWORD 120)" bash -c "wine reg query '$policy_key' /v PollIntervalSecs | tr -d '\r' | grep -q 'REG_DWORD *0x78\$'"
expect "PublicKeys\\$key_id (REG_SZ, base64 DER)" \
  bash -c "wine reg query '$policy_key\\PublicKeys' /v '$key_id' | tr -d '\r' | grep -q 'REG_SZ *$public_b64\$'"
expect_not "no tray.toml anywhere" test -e "$program_data/tray.toml"
if [ -f desktop/wsdr-desktop-core/src/policy.rs ]; then
  expect "the installed console exe reads the policy values alone and accepts the document" status_is_failover policy
else
  echo "note desktop/wsdr-desktop-core/src/policy.rs is absent: --status from policy values not run"
fi
# A running tray (on a private Xvfb) is stopped by the uninstall's StopTray action, not left running from a
# deleted folder (on Windows: no "files in use", no reboot).
Xvfb -displayfd 5 -screen 0 800x600x24 5>"$work/display" >/dev/null 2>&1 &
xvfb_pid=$!
trap 'kill "$server_pid" "$xvfb_pid" 2>/dev/null || true; wineserver -k 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$work/display" ] && break; sleep 0.1; done
(DISPLAY=:$(cat "$work/display") wine "C:\\Program Files\\wsdr\\wsdr-tray.exe" >"$work/tray.log" 2>&1 & echo $! >"$work/tray.pid")
tray_pid=$(cat "$work/tray.pid")
tray_runs() { tr '\0' ' ' <"/proc/$tray_pid/cmdline" 2>/dev/null | grep -q 'wsdr-tray.exe'; }
for _ in $(seq 100); do tray_runs && break; sleep 0.1; done
sleep 2 # past its start-up
expect "the installed tray runs (pid $tray_pid)" tray_runs
timed "msiexec /x $product_code /qn" wine msiexec /x "$product_code" /qn && status=0 || status=$?
expect "exit 0" test "$status" -eq 0
for _ in $(seq 50); do tray_runs || break; sleep 0.1; done
expect_not "the tray was stopped by the uninstall" tray_runs
expect_not "the policy values are gone (HKLM\\SOFTWARE\\Policies\\wsdr)" reg_has "$policy_key"
expect_not "Program Files\\wsdr is gone" test -e "$program_files"
expect_not "%ProgramData%\\wsdr is gone (it was empty)" test -e "$program_data"

echo "==> WebView2: detected, reported, never downloaded"
timed "msiexec /i /qn REQUIREWEBVIEW2=1 (no runtime)" wine msiexec /i "$(winepath -w "$msi")" /qn REQUIREWEBVIEW2=1 \
  /l*v "$(winepath -w "$work/install-refused.log")" && status=0 || status=$?
# 1603 (fatal error) arrives as 67 through wine: a Unix exit status keeps the low 8 bits (0x643 → 0x43).
# (wine's log does not carry the condition's message; Windows shows and logs it.)
expect "refused: exit 1603 (67 through wine), stopped by the launch conditions" \
  bash -c "{ [ '$status' -eq 1603 ] || [ '$status' -eq 67 ]; } && grep -aq 'LaunchConditions. Return value [^1]' '$work/install-refused.log'"
expect_not "nothing installed" test -e "$program_files"
webview2_key='HKLM\SOFTWARE\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}'
wine reg add "$webview2_key" /v pv /t REG_SZ /d 131.0.2903.70 /reg:32 /f >/dev/null 2>&1
timed "msiexec /i /qn REQUIREWEBVIEW2=1 (runtime 131.0.2903.70)" wine msiexec /i "$(winepath -w "$msi")" /qn REQUIREWEBVIEW2=1 \
  /l*v "$(winepath -w "$work/install3.log")" && status=0 || status=$?
expect "installed (exit 0)" test "$status" -eq 0
expect "the log reports WEBVIEW2_VERSION = 131.0.2903.70" \
  grep -aq 'WEBVIEW2_VERSION = 131.0.2903.70' "$work/install3.log"
timed "msiexec /x $product_code /qn" wine msiexec /x "$product_code" /qn && status=0 || status=$?
expect "exit 0" test "$status" -eq 0
expect_not "uninstalled" test -e "$program_files"

echo
if [ "$failures" -ne 0 ]; then
  echo "installer-test: $failures check(s) failed (logs in $work)"
  exit 1
fi
echo "installer-test: all checks passed"
