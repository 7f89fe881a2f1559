#!/usr/bin/env bash
# Builds the Lambda artifacts of infra/template.yaml (the bins of backend/wsdr-lambda) with cargo-lambda, and checks
# them: one bootstrap per function the template references, of the right architecture, needing no newer glibc than
# the provided.al2023 runtime has (2.34). Prints each artifact's size, zipped size and the glibc it needs.
#
#   infra/package.sh                    # arm64, the template's default Architecture
#   infra/package.sh --x86-64           # x86_64 (deploy with Architecture=x86_64)
#   infra/package.sh --arm64 --x86-64   # both
#
# Output: <target>/lambda/<arch>/<bin>/bootstrap and bootstrap.zip (the zip is what Lambda takes), where <target> is
# $WSDR_LAMBDA_TARGET_DIR (default <repo>/target/lambda-build): a target directory of its own, so this build never
# waits on (or invalidates) the `target/` lock of the tests. It is a full release build of the AWS SDK stack
# (~15 min of CPU on 2 cores the first time, incremental after that): not part of the per-commit test path.
#
# Idempotent: the virtualenv ($WSDR_LAMBDA_VENV, default <repo>/.venv-lambda) is created and filled from
# infra/packaging-requirements.txt only when missing or when that file changed (a stamp holds its hash); the Rust
# target is added only when missing; readelf (binutils) is installed only when missing. After the first run nothing
# needs the network but cargo's own crate downloads.
#
# Release profile: cargo-lambda's --release defaults apply (strip = "symbols", lto = "thin", codegen-units = 1,
# panic = "abort", target-cpu of the Lambda hardware) because the workspace's Cargo.toml sets none of them; `sam build`
# (BuildMethod rust-cargolambda) gets exactly the same, so both paths ship the same kind of binary. panic = "abort"
# is deliberate: see "Packaging" in infra/README.md.
set -euo pipefail

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

arches=()
while [ $# -gt 0 ]; do
  case $1 in
    --arm64) arches+=(arm64) ;;
    --x86-64 | --x86_64) arches+=(x86_64) ;;
    -h | --help) usage; exit 0 ;;
    *) echo "infra/package.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[ ${#arches[@]} -gt 0 ] || arches=(arm64)
# Each architecture once, in the order given.
mapfile -t arches < <(printf '%s\n' "${arches[@]}" | awk '!seen[$0]++')

start_s=$(date +%s)
infra_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname -- "$infra_dir")
venv=${WSDR_LAMBDA_VENV:-$repo_dir/.venv-lambda}
requirements=$infra_dir/packaging-requirements.txt
stamp=$venv/.wsdr-requirements.sha256
python=${PYTHON:-python3}
max_glibc=${WSDR_LAMBDA_MAX_GLIBC:-2.34} # glibc of Amazon Linux 2023 (provided.al2023)
package=wsdr-lambda
export CARGO_TARGET_DIR=${WSDR_LAMBDA_TARGET_DIR:-$repo_dir/target/lambda-build}

say() { printf 'infra/package.sh: %s\n' "$*"; }
die() { printf 'infra/package.sh: ERROR: %s\n' "$*" >&2; exit 1; }

# --- 1. cargo-lambda and zig, pinned, in their own virtualenv -------------------------------------------------------
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing $requirements into $venv"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
  echo "$want" >"$stamp"
fi
export PATH="$venv/bin:$PATH" # `cargo lambda` runs $venv/bin/cargo-lambda
# The zig of the pinned ziglang package, not whatever `zig` may be on the PATH.
CARGO_ZIGBUILD_ZIG_PATH=$("$venv/bin/python" -c \
  'import pathlib, ziglang; print(pathlib.Path(ziglang.__file__).with_name("zig"))')
export CARGO_ZIGBUILD_ZIG_PATH
[ -x "$CARGO_ZIGBUILD_ZIG_PATH" ] || die "no zig binary at $CARGO_ZIGBUILD_ZIG_PATH (ziglang package)"
say "$(cargo lambda --version | head -n1), zig $("$CARGO_ZIGBUILD_ZIG_PATH" version)"

# --- 2. readelf, for the architecture and glibc checks (binutils' readelf reads ELF files of any machine) ---------
if ! command -v readelf >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing binutils (readelf)"
    apt-get install -y -qq binutils >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq binutils; }
  fi
  command -v readelf >/dev/null || die "readelf not found: install binutils"
fi

# What the template deploys: the `Binary:` of each rust-cargolambda function.
mapfile -t template_bins < <(sed -n 's/^[[:space:]]*Binary:[[:space:]]*\([A-Za-z0-9_-]*\).*/\1/p' \
  "$infra_dir/template.yaml" | sort -u)
[ ${#template_bins[@]} -gt 0 ] || die "no 'Binary:' found in infra/template.yaml"

rust_target() { case $1 in arm64) echo aarch64-unknown-linux-gnu ;; x86_64) echo x86_64-unknown-linux-gnu ;; esac; }
elf_machine() { case $1 in arm64) echo AArch64 ;; x86_64) echo 'Advanced Micro Devices X86-64' ;; esac; }
# The highest GLIBC_x.y[.z] version the ELF file requires (its .gnu.version_r), or "none".
needed_glibc() {
  local v
  v=$(readelf -V -W "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -V | tail -n1)
  echo "${v:-none}"
}
version_le() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$1" ]; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

failed=0
report=()
for arch in "${arches[@]}"; do
  target=$(rust_target "$arch")
  lambda_dir=$CARGO_TARGET_DIR/lambda/$arch

  # --- 3. the Rust target, only when missing ------------------------------------------------------------------------
  if command -v rustup >/dev/null && ! (cd "$repo_dir" && rustup target list --installed) | grep -qx "$target"; then
    say "rustup target add $target"
    (cd "$repo_dir" && rustup target add "$target")
  fi

  # --- 4. the build --------------------------------------------------------------------------------------------------
  # A fresh lambda dir: a bin removed from the crate must not leave a stale bootstrap behind (the build itself is
  # incremental in $CARGO_TARGET_DIR; this only re-copies the binaries).
  rm -rf "$lambda_dir"
  say "cargo lambda build --release --$arch -p $package (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
  arch_start=$(date +%s)
  (cd "$repo_dir" && nice -n 10 cargo lambda build --release --locked "--${arch//_/-}" -p "$package" \
    --lambda-dir "$lambda_dir")
  say "$arch build: $(($(date +%s) - arch_start)) s"

  # --- 5. checks and sizes ----------------------------------------------------------------------------------------
  for bin in "${template_bins[@]}"; do
    [ -f "$lambda_dir/$bin/bootstrap" ] ||
      { echo "MISSING: infra/template.yaml deploys '$bin' but $package has no such bin ($arch)" >&2; failed=1; }
  done
  for bootstrap in "$lambda_dir"/*/bootstrap; do
    [ -f "$bootstrap" ] || continue
    bin=$(basename -- "$(dirname -- "$bootstrap")")
    machine=$(readelf -h "$bootstrap" | sed -n 's/^[[:space:]]*Machine:[[:space:]]*//p')
    if [ "$machine" != "$(elf_machine "$arch")" ]; then
      echo "WRONG ARCHITECTURE: $bootstrap is '$machine', expected '$(elf_machine "$arch")'" >&2
      failed=1
    fi
    glibc=$(needed_glibc "$bootstrap")
    if [ "$glibc" != none ] && ! version_le "$glibc" "$max_glibc"; then
      echo "GLIBC TOO NEW: $bin ($arch) needs GLIBC_$glibc, provided.al2023 has $max_glibc" >&2
      failed=1
    fi
    # The deployment package: bootstrap at the root, executable, fixed timestamp (same input, same zip).
    "$venv/bin/python" - "$bootstrap" "$bootstrap.zip" <<'PY'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = (0o100755 << 16)
info.create_system = 3  # Unix, so the mode bits are honoured
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
    raw=$(stat -c %s "$bootstrap")
    zipped=$(stat -c %s "$bootstrap.zip")
    report+=("$(printf '%-10s %-7s %-9s %-13s %-9s %-13s GLIBC_%s' "$bin" "$arch" "$raw" "($(mib "$raw"))" \
      "$zipped" "($(mib "$zipped"))" "$glibc")")
  done
done

echo
printf '%-10s %-7s %-23s %-23s %s\n' binary arch 'bootstrap (bytes)' 'bootstrap.zip (bytes)' 'glibc needed'
printf '%s\n' "${report[@]}"
echo "(limit: GLIBC_$max_glibc; artifacts in $CARGO_TARGET_DIR/lambda/<arch>/<binary>/)"
say "$([ "$failed" -eq 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start_s)) s"
exit "$failed"
