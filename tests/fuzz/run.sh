#!/usr/bin/env bash
# Fuzzes every parser of outside input (cargo-fuzz, libFuzzer): installs cargo-fuzz (pinned, idempotently),
# builds every target in one cargo invocation, seeds each corpus from the repository's fixtures and seeds/, runs
# each target, prints executions and exec/s per target, and exits non-zero if any target crashed (printing the
# reproducer and the command that replays it). See tests/fuzz/README.md.
#
# Usage: tests/fuzz/run.sh [--seconds N] [--runs N] [--build-only] [TARGET...]
#   --seconds N   time per target (default 5: the test command's short run)
#   --runs N      stop a target after N executions instead (the long run: --runs 10000000 --seconds 7200)
#   --build-only  install and build, then stop
#   TARGET...     only these targets (default: all)
# Every campaign runs under `nice -n 19`, so the machine's other builds keep priority.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

cargo_fuzz_version=0.13.2
fuzz_dir=tests/fuzz
# No AddressSanitizer: every wsdr crate forbids unsafe code, so ASan would only watch the dependencies' unsafe
# code (serde_json, encoding_rs, toml, url, p256), at twice the build time and half the speed. Debug assertions and
# overflow checks stay on (-a): an arithmetic overflow in a parser is a bug.
build_flags=(--fuzz-dir "$fuzz_dir" --sanitizer none --debug-assertions)
all_targets=(users_export describe_workspaces health_event status_envelope status_payload tray_config ldap_url
  lambda_reconcile_event lambda_publish_request)

seconds=5
runs=0
build_only=false
targets=()
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --build-only) build_only=true; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if [[ $(cargo +nightly fuzz --version 2>/dev/null) != "cargo-fuzz $cargo_fuzz_version" ]]; then
  cargo install cargo-fuzz --locked --version "$cargo_fuzz_version"
fi

# csv-core without coverage instrumentation (see rustc-wrapper.sh): users_export runs about 3 times faster.
export RUSTC_WRAPPER="$root/$fuzz_dir/rustc-wrapper.sh"
started=$(date +%s)
nice -n 19 cargo +nightly fuzz build "${build_flags[@]}"
echo "fuzz targets built in $(($(date +%s) - started)) s"
$build_only && exit 0

triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin_dir="${CARGO_TARGET_DIR:-$fuzz_dir/target}/$triple/release"

# Seeds: the fixtures each parser reads in the tests, plus the hand-written ones in seeds/<target>.
seed_files() {
  case $1 in
    users_export) ls tests/fixtures/users/*.csv tests/fixtures/users/*.gz tests/fixtures/example/users.csv ;;
    describe_workspaces) ls tests/fixtures/example/workspaces.json ;;
    health_event) ls tests/fixtures/health/*.json ;;
    status_envelope) ls backend/wsdr-protocol/tests/fixtures/status-golden.json ;;
    lambda_reconcile_event) ls tests/fixtures/reconcile-events/*.json ;;
  esac
  if [[ -d $fuzz_dir/seeds/$1 ]]; then ls "$fuzz_dir/seeds/$1"/*; fi
}

failed=()
summary=()
for target in "${targets[@]}"; do
  corpus=$fuzz_dir/corpus/$target
  artifacts=$fuzz_dir/artifacts/$target
  mkdir -p "$corpus" "$artifacts"
  while read -r seed; do cp "$seed" "$corpus/seed-$(basename "$seed")"; done < <(seed_files "$target")
  log=$fuzz_dir/artifacts/$target.log
  limits=(-max_total_time="$seconds")
  ((runs > 0)) && limits+=(-runs="$runs")
  printf '\n==> fuzz %s (%s)\n' "$target" "${limits[*]}"
  t0=$(date +%s.%N)
  status=0
  nice -n 19 "$bin_dir/$target" "$corpus" "${limits[@]}" -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  t1=$(date +%s.%N)
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  coverage=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  files=$(find "$corpus" -type f | wc -l)
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')
  line=$(printf '%-24s %12s execs %8s exec/s %6s s  corpus %5s files  %s' \
    "$target" "${executions:-?}" "${rate:-?}" "$wall" "$files" "$coverage")
  echo "$line"
  summary+=("$line")
  if ((status != 0)); then
    tail -40 "$log"
    reproducer=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    echo "FAILED: $target (exit $status); log $log"
    if [[ -n $reproducer ]]; then
      echo "  reproducer: $reproducer"
      echo "  replay:     cargo +nightly fuzz run ${build_flags[*]} $target $reproducer"
      echo "  minimize:   cargo +nightly fuzz tmin ${build_flags[*]} $target $reproducer"
    fi
    failed+=("$target")
  fi
done

printf '\n==> fuzz summary (%s s in all)\n' "$(($(date +%s) - started))"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz targets that crashed: ${failed[*]}" >&2
  exit 1
fi
