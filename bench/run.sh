#!/usr/bin/env bash
# Builds the benchmark in release mode and runs it.
#
#   bench/run.sh [--quick] [--reps N] [--no-node] [--only W,..]   the server comparison
#   bench/run.sh --core [...]                                     also the pure-core micro-benchmark
#
# See bench/README.md for how to read the output.
set -euo pipefail
cd "$(dirname "$0")/.."
core=0
args=()
for a in "$@"; do
    if [ "$a" = "--core" ]; then core=1; else args+=("$a"); fi
done
cargo build --release -p sansnet-bench --bins
./target/release/sansnet-bench "${args[@]}"
if [ "$core" = 1 ]; then
    cargo bench -p sansnet-bench --bench core
fi
