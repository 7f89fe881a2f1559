#!/usr/bin/env bash
# Type-checks the desktop crates' macOS code paths on Linux: `cargo check --target aarch64-apple-darwin`.
#
# Only a type check: nothing is linked and nothing runs. The Rust code needs no Apple SDK for that, but
# aws-lc-sys's build script compiles C even for `cargo check`, and there is no Apple SDK here. So its C is
# compiled by Debian's clang for the Apple target against stand-ins: Debian's aarch64 glibc headers
# (libc6-dev-arm64-cross) and three stub headers written below (TargetConditionals.h,
# CommonCrypto/CommonRandom.h, sys/sysctl.h: declarations only). Those objects are never linked into
# anything; a real macOS build uses the real SDK on a Mac.
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

started=$(date +%s)
cargo check --locked --target "$target_triple" -p wsdr-desktop-core "$@"
echo "macOS type check (wsdr-desktop-core, $target_triple) passed in $(($(date +%s) - started)) s"
