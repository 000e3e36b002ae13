#!/usr/bin/env bash
# Fuzzes gonet's address parsing for a bounded time: fuzz/run.sh [SECONDS] (default 60).
#
# Needs the nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz
# Starts from the seeds in fuzz/seeds (Go's table inputs); what it discovers goes to a
# scratch corpus under target/, not into the repository. No sanitizer: the code is safe
# Rust, and the point is panics (a failed assertion or a panic is a crash, and its input
# is saved under fuzz/artifacts/parse_addr/).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: no nightly toolchain (rustup toolchain install nightly)" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: cargo-fuzz is missing (cargo install cargo-fuzz)" >&2
    exit 2
fi
corpus="target/fuzz-corpus/parse_addr"
mkdir -p "$corpus"
exec cargo +nightly fuzz run --fuzz-dir fuzz --sanitizer none --release parse_addr \
    "$corpus" fuzz/seeds -- -max_total_time="$secs" -max_len=128 -timeout=10
