#!/usr/bin/env bash
# User-space instructions per request of an HTTP server binary, under callgrind, over a
# fixed count of HTTP/1.1 keep-alive GETs (bench/go/getn): repeatable to about 0.2%,
# where a time-bounded wrk run swings by 1-2% with the background work per second.
#
#   bench/callgrind_http.sh BINARY [PATH] [REQUESTS] [CONNS]    (default / 50000 10)
#
# The server runs as `BINARY 127.0.0.1:PORT` (examples/http.rs, examples/minihttp.rs);
# instrumentation is on only for the counted requests, after 5,000 of warm-up.
# CALLGRIND_ARGS adds valgrind options (e.g. --dump-instr=yes). Needs valgrind and go.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$1
P=${2:-/}
N=${3:-50000}
C=${4:-10}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$HERE/go/getn" && GOFLAGS=-mod=mod go build -o "$WORK/getn" main.go)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
OUT=$WORK/callgrind.out
# shellcheck disable=SC2086
valgrind --tool=callgrind ${CALLGRIND_ARGS:-} --instr-atstart=no --callgrind-out-file="$OUT" \
    "$BIN" "$ADDR" >/dev/null 2>"$WORK/valgrind.log" &
VPID=$!
for _ in $(seq 100); do
    curl -s -o /dev/null "http://$ADDR/" && break
    sleep 0.2
done
"$WORK/getn" -a "$ADDR" -p "$P" -n 5000 -c "$C" >/dev/null
callgrind_control -i on "$VPID" >/dev/null
DONE=$(timeout 300 "$WORK/getn" -a "$ADDR" -p "$P" -n "$N" -c "$C")
callgrind_control -i off "$VPID" >/dev/null
kill "$VPID"
wait "$VPID" 2>/dev/null || true
TOTAL=$(callgrind_annotate "$OUT" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
[ -n "${KEEP:-}" ] && cp "$OUT" "$KEEP"
echo "$(basename "$BIN") $P requests=$DONE instructions=$TOTAL per_request=$((TOTAL / DONE))"
