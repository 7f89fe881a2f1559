#!/usr/bin/env bash
# Type-checks the desktop crates' macOS code paths on Linux: `cargo clippy --target aarch64-apple-darwin`
# --all-targets (warnings are errors) on wsdr-desktop-core, wsdr-tray and, when present, wsdr-tray-cli.
#
# Only a type check: nothing is linked and nothing runs. The Rust code needs no Apple SDK for that, but
# three build scripts compile C or Objective-C even for a check, and there is no Apple SDK here:
# - aws-lc-sys (the TLS provider's C): compiled by Debian's clang for the Apple target against stand-ins,
#   Debian's aarch64 glibc headers (libc6-dev-arm64-cross) and three stub headers written below
#   (TargetConditionals.h, CommonCrypto/CommonRandom.h, sys/sysctl.h: declarations only);
# - mac-notification-sys and objc2-exception-helper (Objective-C against Cocoa): DOCS_RS=1 makes both skip
#   their native part, as they do on docs.rs (no other build script in the tray's macOS tree reads it).
# Those objects are never linked into anything; a real macOS build uses the real SDK on a Mac.
#
# Usage: tests/macos/check.sh [extra cargo args]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=../lib.sh
source "$root/tests/lib.sh"

target_triple=aarch64-apple-darwin
ensure_apt clang libc6-dev-arm64-cross
rustup target list --installed | grep -qx "$target_triple" || rustup target add "$target_triple"

stubs=${CARGO_TARGET_DIR:-$root/target}/macos-check/include
mkdir -p "$stubs/CommonCrypto" "$stubs/sys"
cat >"$stubs/TargetConditionals.h" <<'EOF'
/* Stand-in for the macOS SDK's header (type-checking only; see tests/macos/check.sh). */
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#define TARGET_OS_IOS 0
#define TARGET_OS_TV 0
#define TARGET_OS_WATCH 0
#define TARGET_OS_SIMULATOR 0
#define TARGET_OS_EMBEDDED 0
EOF
cat >"$stubs/CommonCrypto/CommonRandom.h" <<'EOF'
/* Stand-in for the macOS SDK's header (type-checking only; see tests/macos/check.sh). */
#include <stddef.h>
typedef int CCRNGStatus;
enum { kCCSuccess = 0 };
CCRNGStatus CCRandomGenerateBytes(void *bytes, size_t count);
EOF
cat >"$stubs/sys/sysctl.h" <<'EOF'
/* Stand-in for the macOS SDK's header (type-checking only; see tests/macos/check.sh). */
#include <stddef.h>
int sysctlbyname(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
EOF

# clang predefines __nonnull as Apple's nullability keyword for Darwin targets, which breaks glibc's
# __nonnull((1)) attribute macro: undefine it. _GNU_SOURCE: glibc's pthread_rwlock_t and getaddrinfo.
export CC_aarch64_apple_darwin=clang
export CFLAGS_aarch64_apple_darwin="--target=arm64-apple-macos11 -isystem $stubs -isystem /usr/aarch64-linux-gnu/include -U__nonnull -D_GNU_SOURCE"
export SDKROOT=/ # cc-rs asks xcrun for the SDK otherwise
export DOCS_RS=1

packages=(-p wsdr-desktop-core -p wsdr-tray)
[ -d desktop/wsdr-tray-cli ] && packages+=(-p wsdr-tray-cli)
started=$(date +%s)
cargo clippy --locked --target "$target_triple" "${packages[@]}" --all-targets "$@" -- -D warnings
echo "macOS type check (${packages[*]}, $target_triple) passed in $(($(date +%s) - started)) s"
