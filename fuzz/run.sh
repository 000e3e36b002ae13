#!/usr/bin/env bash
# Fuzzes gonet's parsers for a bounded time: fuzz/run.sh [SECONDS] [TARGET] (default 60
# seconds of parse_addr; mux_pattern, http_range, parse_request, tls_records and
# proxyproto are the others).
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
# A second argument picks another target (fuzz/Cargo.toml lists them); its seeds are in
# fuzz/seeds-TARGET.
target="${2:-parse_addr}"
seeds="fuzz/seeds"
max_len=128
if [ "$target" != parse_addr ]; then
    seeds="fuzz/seeds-$target"
    max_len=512
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: no nightly toolchain (rustup toolchain install nightly)" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: cargo-fuzz is missing (cargo install cargo-fuzz)" >&2
    exit 2
fi
corpus="target/fuzz-corpus/$target"
mkdir -p "$corpus"
exec cargo +nightly fuzz run --fuzz-dir fuzz --sanitizer none --release "$target" \
    "$corpus" "$seeds" -- -max_total_time="$secs" -max_len="$max_len" -timeout=10
