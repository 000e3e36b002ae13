#!/usr/bin/env bash
# A/B profile of echo servers under the neutral client: round trips/s, server CPU per
# round trip, and (with perf) system calls and context switches per round trip.
#
#   bench/profile.sh [--conns N] [--secs S] [--rounds R] [--record DIR] NAME=BINARY ...
#
# Each BINARY is started as `BINARY 127.0.0.1:PORT` (gonet's examples/echo, the peers in
# bench/peers, bench/target/bin/go_echo, or an echo built from a scratch copy of gonet).
# Servers run one after another, in an order rotated each round; each figure printed at
# the end is the median over the rounds. --record DIR also writes a `perf record -g`
# profile of each server's last round to DIR/NAME.perf (read it with
# `perf report -i DIR/NAME.perf --no-children --sort dso,sym`).
# Needs bench/client built (bench/run.sh does it) and perf (Debian: linux-perf).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_CARGO_TARGET=${BENCH_CARGO_TARGET:-$HERE/target/cargo}
CLIENT=$BENCH_CARGO_TARGET/release/gonet-bench-client
CONNS=100
SECS=5
ROUNDS=3
RECORD=
SERVERS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --conns) CONNS=$2; shift ;;
        --secs) SECS=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        --record) RECORD=$2; mkdir -p "$RECORD"; shift ;;
        *=*) SERVERS+=("$1") ;;
        *) echo "profile.sh: bad argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ ${#SERVERS[@]} -gt 0 ] || { sed -n '2,16p' "$0"; exit 2; }
[ -x "$CLIENT" ] || (cd "$HERE/client" && CARGO_TARGET_DIR=$BENCH_CARGO_TARGET cargo build --release -q)
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
HAVE_PERF=0
perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1 && HAVE_PERF=1

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

OUTF=$(mktemp)
PORT=19700
n=${#SERVERS[@]}
for r in $(seq 1 "$ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do
        spec=${SERVERS[$(((i + r) % n))]}
        name=${spec%%=*}
        bin=${spec#*=}
        PORT=$((PORT + 1))
        while ss -Htan "( sport = :$PORT )" | grep -q .; do PORT=$((PORT + 1)); done
        "$bin" "127.0.0.1:$PORT" >/dev/null 2>&1 &
        pid=$!
        PIDS+=("$pid")
        for _ in $(seq 1 100); do ss -Hltn "( sport = :$PORT )" | grep -q . && break; sleep 0.05; done
        sleep 0.2
        "$CLIENT" echo "127.0.0.1:$PORT" --conns "$CONNS" --secs "$SECS" --warmup 1 --pid "$pid" >"$OUTF.c" &
        cpid=$!
        perf_out=""
        if [ "$HAVE_PERF" = 1 ]; then
            sleep 1.2
            if [ -n "$RECORD" ] && [ "$r" = "$ROUNDS" ]; then
                perf record -q -F 999 -g -o "$RECORD/$name.perf" -p "$pid" -- sleep $((SECS - 1)) >/dev/null 2>&1 || true
            else
                perf_out=$(perf stat -x, -e raw_syscalls:sys_enter,sched:sched_switch -p "$pid" -- sleep $((SECS - 1)) 2>&1 >/dev/null || true)
            fi
        fi
        wait "$cpid"
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        line=$(cat "$OUTF.c")
        rtps=$(sed -n 's/.*rtps=\([0-9.]*\).*/\1/p' <<<"$line")
        cpu=$(sed -n 's/.*srv_cpu_us_per_rt=\([0-9.]*\).*/\1/p' <<<"$line")
        sys=$(awk -F, '/raw_syscalls:sys_enter/ {print $1}' <<<"$perf_out")
        sw=$(awk -F, '/sched:sched_switch/ {print $1}' <<<"$perf_out")
        # perf counted over SECS-1 seconds of the measured window
        awk -v n="$name" -v r="$r" -v rt="$rtps" -v c="$cpu" -v s="${sys:-0}" -v w="${sw:-0}" -v d="$((SECS - 1))" \
            'BEGIN { printf "%s round=%s rtps=%.0f cpu_us_per_rt=%.3f syscalls_per_rt=%.3f switches_per_rt=%.4f\n", n, r, rt, c, (rt > 0 ? s / (rt * d) : 0), (rt > 0 ? w / (rt * d) : 0) }' |
            tee -a "$OUTF"
    done
done
echo "--- medians over $ROUNDS round(s), $CONNS conns, ${SECS}s; load: $(uptime | sed 's/.*load/load/')"
awk '{
    name = $1
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[name, kv[1], ++cnt[name, kv[1]]] = kv[2]; keys[kv[1]] = 1 }
    names[name] = 1
} END {
    for (name in names) {
        line = sprintf("%-14s", name)
        split("rtps cpu_us_per_rt syscalls_per_rt switches_per_rt", order, " ")
        for (k = 1; k <= 4; k++) {
            key = order[k]; m = cnt[name, key]
            for (i = 1; i <= m; i++) a[i] = v[name, key, i]
            for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
            med = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
            line = line sprintf(" %s=%s", key, med)
        }
        print line
    }
}' "$OUTF" | sort
rm -f "$OUTF" "$OUTF.c"
