#!/usr/bin/env bash
# Builds the wsdr tray's per-machine MSI from already-built Windows exes, on Linux, offline.
#
# Usage: desktop/windows/build-installer.sh TRAY_EXE CLI_EXE [OUT_MSI]
#   TRAY_EXE  the GUI-subsystem tray (installed as wsdr-tray.exe); WebView2Loader.dll is taken from beside it
#             (cargo copies it there for x86_64-pc-windows-gnu), or from $WSDR_WEBVIEW2_LOADER
#   CLI_EXE   the console one-shot binary (installed under its own file name)
#   OUT_MSI   default: wsdr-VERSION-x64.msi beside TRAY_EXE (VERSION: the workspace version, or $WSDR_VERSION)
#
# wixl (Debian's msitools) builds the MSI from wsdr.wxs; msibuild then adds what wixl cannot write: the
# shortcut's AppUserModelID (MsiShortcutProperty.idt), the ProgramData ACL (MsiLockPermissionsEx.idt), the
# policy components' conditions, same-version upgrades and the StopTray custom action. Only the files named
# here are staged, so nothing else lying beside the exes (the test-only bcryptprimitives.dll shim, say) can
# enter the package.
# Needs: wixl, msitools (msibuild, msiinfo). Prints the MSI's path on stdout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

[ $# -ge 2 ] && [ $# -le 3 ] || { sed -n '2,9p' "${BASH_SOURCE[0]}" >&2; exit 2; }
tray=$1 cli=$2
loader=${WSDR_WEBVIEW2_LOADER:-$(dirname "$tray")/WebView2Loader.dll}
icon=$root/desktop/wsdr-tray/icons/icon.ico
for f in "$tray" "$cli" "$loader" "$icon"; do
  [ -f "$f" ] || { echo "build-installer: missing $f" >&2; exit 1; }
done
cli_name=$(basename "$cli")
case "$cli_name" in
  *.exe) ;;
  *) echo "build-installer: $cli is not an .exe" >&2; exit 1 ;;
esac
[ "$cli_name" != wsdr-tray.exe ] || { echo "build-installer: the console exe cannot be named wsdr-tray.exe" >&2; exit 1; }

# The workspace version ([workspace.package] version = "a.b.c"); MSI wants three numeric fields.
version=${WSDR_VERSION:-$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml")}
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "build-installer: version '$version' is not a.b.c" >&2; exit 1; }
out=${3:-$(dirname "$tray")/wsdr-$version-x64.msi}

for tool in wixl msibuild msiinfo; do
  command -v "$tool" >/dev/null || { echo "build-installer: $tool not found (apt-get install wixl msitools)" >&2; exit 1; }
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# wixl resolves Source= relative to the working directory (absolute paths are refused): stage everything.
cp "$tray" "$stage/wsdr-tray.exe"
cp "$cli" "$stage/$cli_name"
cp "$loader" "$stage/WebView2Loader.dll"
cp "$icon" "$stage/icon.ico"
cp "$here/wsdr.wxs" "$here/MsiShortcutProperty.idt" "$here/MsiLockPermissionsEx.idt" "$stage/"

(
  cd "$stage"
  # wixl's GLib warnings go to stderr; a real failure is its exit status.
  wixl --arch x64 -D Version="$version" -D TrayExe=wsdr-tray.exe -D CliExe="$cli_name" -D CliName="$cli_name" \
    -D Loader=WebView2Loader.dll -D Icon=icon.ico -o wsdr.msi wsdr.wxs
  msibuild wsdr.msi -i MsiShortcutProperty.idt
  msibuild wsdr.msi -i MsiLockPermissionsEx.idt
  # Component conditions (wixl ignores <Condition> under <Component>): a policy value only when it was given.
  # `OR REMOVE~="ALL"` keeps the component enabled during an uninstall so its value is removed (wine's msi
  # leaves a component whose condition is false installed when removing the product).
  for c in "PolicyStatusUrl|STATUSURL" "PolicyPollInterval|POLLINTERVALSECS" "PolicyPublicKey|(PUBLICKEYID AND PUBLICKEY)"; do
    msibuild wsdr.msi -q "UPDATE \`Component\` SET \`Condition\` = '${c#*|} OR REMOVE~=\"ALL\"' WHERE \`Component\` = '${c%%|*}'"
  done
  # The public key's value name is a property, unknown at uninstall time: the component also owns the
  # PublicKeys key itself (Name "-": removed with its values when the component is uninstalled).
  msibuild wsdr.msi -q "INSERT INTO \`Registry\` (\`Registry\`, \`Root\`, \`Key\`, \`Name\`, \`Component_\`) VALUES ('PolicyPublicKeysKey', 2, 'SOFTWARE\\Policies\\wsdr\\PublicKeys', '-', 'PolicyPublicKey')"
  # A build of the same version replaces the installed one (WiX's AllowSameVersionUpgrades, which wixl lacks):
  # the upgrade row's VersionMax becomes inclusive (1 migrate features + 512 VersionMaxInclusive). Each build
  # has a new ProductCode, so without this two builds of one version would both stay installed.
  # (Attributes is part of the table's key: delete the row and insert it again.)
  msibuild wsdr.msi -q "DELETE FROM \`Upgrade\` WHERE \`ActionProperty\` = 'WIX_UPGRADE_DETECTED'"
  msibuild wsdr.msi -q "INSERT INTO \`Upgrade\` (\`UpgradeCode\`, \`VersionMax\`, \`Attributes\`, \`ActionProperty\`) VALUES ('{F4B1B240-87E1-4467-ADBF-2C12AB491A5F}', '$version', 513, 'WIX_UPGRADE_DETECTED')"
  # StopTray: type 34 (exe, working directory INSTALLDIR) + 64 (ignore its exit code) + 1024 (deferred)
  # + 2048 (as SYSTEM, so it reaches every session's tray) = 3170, right after InstallInitialize.
  msibuild wsdr.msi -q "INSERT INTO \`CustomAction\` (\`Action\`, \`Type\`, \`Source\`, \`Target\`) VALUES ('StopTray', 3170, 'INSTALLDIR', '\"[System64Folder]taskkill.exe\" /F /IM wsdr-tray.exe')"
  msibuild wsdr.msi -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Sequence\`) VALUES ('StopTray', 1501)"
  msibuild wsdr.msi -q "INSERT INTO \`Directory\` (\`Directory\`, \`Directory_Parent\`, \`DefaultDir\`) VALUES ('System64Folder', 'TARGETDIR', '.')"
)

# What went in: exactly these files, and never the test-only shim.
files=$(msiinfo export "$stage/wsdr.msi" File | tail -n +4 | cut -f3 | sort | tr '\n' ' ')
expected=$(printf '%s\n' WebView2Loader.dll "$cli_name" wsdr-tray.exe | sort | tr '\n' ' ')
[ "$files" = "$expected" ] || { echo "build-installer: the MSI holds [$files], expected [$expected]" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
mv "$stage/wsdr.msi" "$out"
echo "$out"
