#!/usr/bin/env bash
# Repeatable user-space instruction counts of the TLS bulk echo, gonet and Go side by
# side (valgrind's callgrind), the figure that the load on a shared machine cannot move.
#
#   bench/tls_callgrind.sh [--mib A,B] [NAME=BINARY ...]
#
# Each server (`BINARY ADDR CERT KEY`: examples/tls_echo.rs or its Go twin) runs under
# callgrind twice, echoing A MiB and then B MiB (default 16,48) over one connection
# driven by bench/go/tlsload bulk. The difference of the two totals is the cost of B-A
# MiB echoed, free of start-up (aws-lc's entropy seeding alone is ~420 M instructions
# under valgrind) and of the handshake; it is printed per 16 MiB echoed, split into
# AES-GCM, memcpy and the rest.
#
# Defaults: gonet=$CARGO_TARGET_DIR/release/examples/tls_echo (or target/...; build it
# with `cargo build --release --example tls_echo`) and go=examples/go/tls_echo.go, built
# here with CGO_ENABLED=0 and run with GODEBUG=asyncpreemptoff=1: callgrind 3.19 aborts
# on Go's preemption signals and on cgo's thread start. gonet runs with
# GONETDEBUG=sysmon=0 (its monitor's ticks would be counted too).
#
# Read the memcpy column with care: valgrind counts a `rep movsb` (glibc's memcpy from
# 4 KiB up on this machine) as one instruction per byte, where Go's memmove runs AVX
# loops of 32 bytes a step, so memcpy weighs far more here than on the hardware (perf's
# cpu-clock samples put it at about 5% of gonet's server time: bench/PROFILE.md §7).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
MIBS=16,48
SERVERS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --mib) MIBS=$2; shift ;;
        *=*) SERVERS+=("$1") ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "tls_callgrind.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
command -v valgrind >/dev/null || { echo "tls_callgrind.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/tls_callgrind.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
(cd "$HERE/go/tlsload" && GOFLAGS=-mod=mod go build -o "$WORK/tlsload" main.go)
"$WORK/tlsload" gencert -dir "$WORK"
if [ ${#SERVERS[@]} -eq 0 ]; then
    (cd "$ROOT" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$WORK/go_tls_echo" examples/go/tls_echo.go)
    SERVERS=("gonet=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/tls_echo" "go=$WORK/go_tls_echo")
fi

# The self cost (instructions) of each function in a callgrind profile: "COUNT NAME".
costs() { callgrind_annotate --auto=no --threshold=100 "$1" | awk '/^ *[0-9,]+ \(/ { n = $1; gsub(/,/, "", n); $1 = $2 = ""; print n, $0 }'; }

# run NAME BINARY MIB: one callgrind profile of a MIB echo, at $WORK/NAME-MIB.out.
PORT=19400
run() {
    local name=$1 bin=$2 mib=$3 pid i
    PORT=$((PORT + 1))
    GODEBUG=asyncpreemptoff=1 GONETDEBUG=sysmon=0 RUST_LOG=warn \
        valgrind --tool=callgrind --callgrind-out-file="$WORK/$name-$mib.out" \
        "$bin" "127.0.0.1:$PORT" "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/$name-$mib.log" 2>&1 &
    pid=$!
    for i in $(seq 1 600); do
        ss -Hltn "( sport = :$PORT )" | grep -q . && break
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name-$mib.log" >&2; return 1; }
        sleep 0.1
    done
    timeout 600 "$WORK/tlsload" bulk -addr "127.0.0.1:$PORT" -ca "$WORK/ca.pem" -mib "$mib" >/dev/null
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
}

A=${MIBS%,*} B=${MIBS#*,}
printf '%-8s %14s %10s %10s %10s   (M instructions per 16 MiB echoed, %s-%s MiB)\n' server total aes-gcm memcpy rest "$B" "$A"
for s in "${SERVERS[@]}"; do
    name=${s%%=*} bin=${s#*=}
    run "$name" "$bin" "$A"
    run "$name" "$bin" "$B"
    { costs "$WORK/$name-$A.out" | sed 's/^/a /'; costs "$WORK/$name-$B.out" | sed 's/^/b /'; } |
        awk -v name="$name" -v mib=$((B - A)) '
            { sign = ($1 == "b") ? 1 : -1; v = sign * $2; name_ = tolower($0)
              if (name_ ~ /program totals/) { tot += v; next }
              if (name_ ~ /memcpy|memmove/) mem += v
              else if (name_ ~ /aes|gcm|ghash/) aes += v }
            END { f = 16 / mib / 1e6
                  printf "%-8s %14.1f %10.1f %10.1f %10.1f\n", name, tot * f, aes * f, mem * f, (tot - aes - mem) * f }'
done
