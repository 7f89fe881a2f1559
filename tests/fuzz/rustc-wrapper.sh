#!/usr/bin/env bash
# RUSTC_WRAPPER for the fuzz build (run.sh sets it): compiles csv-core without coverage instrumentation.
# csv-core builds its DFA on every csv::Reader (each parse_users call): input-independent code that, traced by
# libFuzzer's compare hooks, took most of users_export's time. The flag must come after cargo-fuzz's RUSTFLAGS
# (LLVM takes the last value of a repeated option), which a per-package profile rustflag does not.
rustc=$1
shift
for arg in "$@"; do
  if [[ $arg == csv_core ]]; then
    exec "$rustc" "$@" -Cllvm-args=-sanitizer-coverage-level=0
  fi
done
exec "$rustc" "$@"
