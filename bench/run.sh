#!/usr/bin/env bash
# gonet's benchmarks, side by side with Go, plain may and tokio, in one run on loopback.
#
#   bench/run.sh            full run  (3 rounds of every scenario, 10 s echo, wrk -d10s; ~30 minutes; one round ~11)
#   bench/run.sh --quick    quick run (1 round of 3 s echo, wrk -d3s; ~1-2 minutes after builds)
#
# Options:
#   --rounds N        rounds of every scenario (each figure: the median of its rounds)
#   --only LIST       comma-separated scenarios (bench/scenarios/NAME.sh): echo,http,idle,burst,udp
#   --pin             pin each server to CPU 0 and the client (and wrk) to CPU 1
#   --nice N          run every server and every client (wrk too) at niceness N (-20 is
#                     the strongest); see "Priority" below
#   --rt              run every server and client real-time (chrt -f 1); with --pin, the
#                     server-bound figures (see "Priority"); not for p99 or spin rows
#   --gonet-dir DIR   bench the gonet tree in DIR (a scratch copy) instead of this one
#   --out DIR         write RESULTS.md and chart.svg to DIR (default: bench/)
#   --no-build        use the binaries built by the previous run
#
# Environment: BENCH_CARGO_TARGET (the cargo target directory for
# bench/peers, shareable between checkouts; default bench/target/cargo).
#
# It installs what is missing (Debian's golang-go, wrk, iproute2 for nstat), builds the
# neutral client (bench/client), the peers (bench/peers, bench/go) and gonet's examples,
# then starts each server on its own loopback port, drives it, and stops it; every server
# is killed on exit, even on failure. Output: bench/RESULTS.md (machine, versions, date,
# load, the table of raw numbers and ratios) and bench/chart.svg.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
GONET_DIR=$ROOT
OUT=$HERE
MODE=full
ROUNDS=
ONLY=
PIN=0
NICE=
RT=0
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) MODE=quick ;;
        --full) MODE=full ;;
        --rounds) ROUNDS=$2; shift ;;
        --only) ONLY=$2; shift ;;
        --pin) PIN=1 ;;
        --nice) NICE=$2; shift ;;
        --rt) RT=1 ;;
        --gonet-dir) GONET_DIR=$(cd "$2" && pwd); shift ;;
        --out) mkdir -p "$2"; OUT=$(cd "$2" && pwd); shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
# Every scenario in bench/scenarios unless --only names some.
[ -n "$ONLY" ] || ONLY=$(cd "$HERE/scenarios" && ls -- *.sh | sed 's/\.sh$//' | paste -sd, -)
if [ "$MODE" = quick ]; then
    ECHO_SECS=3; ECHO_WARMUP=0.5; HTTP_SECS=3; : "${ROUNDS:=1}"
else
    ECHO_SECS=10; ECHO_WARMUP=1; HTTP_SECS=10; : "${ROUNDS:=3}"
fi
IDLE_CONNS=8000
BURST_CONNS=8000
CLIENT_THREADS=${CLIENT_THREADS:-1}

WORK=$HERE/target/run
BIN=$HERE/target/bin
LOGS=$WORK/logs
RAW=$WORK/raw.txt
META=$WORK/meta.txt
mkdir -p "$WORK" "$BIN" "$LOGS"
: >"$RAW"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
has() { [[ ",$ONLY," == *",$1,"* ]]; }

# --- scenarios: bench/scenarios/NAME.sh, one file each ------------------------------------
# A scenario file defines run_NAME; it may define build_NAME (called in the build step)
# and server_cmd_FAMILY (the command line of server KEY of a family of its own, on PORT).
for sc in ${ONLY//,/ }; do
    [ -f "$HERE/scenarios/$sc.sh" ] || { echo "run.sh: no scenario $sc (bench/scenarios/$sc.sh)" >&2; exit 2; }
    # shellcheck source=/dev/null
    . "$HERE/scenarios/$sc.sh"
done

# --- every server we start dies with us --------------------------------------------------
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -------------------------------------------------------------------------------
need=()
command -v go >/dev/null || need+=(golang-go)
command -v wrk >/dev/null || need+=(wrk)
command -v nstat >/dev/null || need+=(iproute2)
command -v ss >/dev/null || need+=(iproute2)
command -v taskset >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "run.sh: cargo is required" >&2; exit 1; }

# --- builds ------------------------------------------------------------------------------
# The peers build into one cargo target directory (BENCH_CARGO_TARGET, by
# default bench/target/cargo), which several checkouts of gonet may share.
BENCH_CARGO_TARGET=${BENCH_CARGO_TARGET:-$HERE/target/cargo}
# The client builds into this checkout's own target directory (a few seconds): in a shared
# one, cargo leaves release/gonet-bench-client as whichever checkout built it last when
# this checkout's build is already fresh, so a run could drive another tree's client.
CLIENT_TARGET=$HERE/target/client
CLIENT=$CLIENT_TARGET/release/gonet-bench-client
PEERS=$BENCH_CARGO_TARGET/release
if [ "$GONET_DIR" = "$ROOT" ]; then
    GONET_TARGET=$HERE/target/gonet
else
    GONET_TARGET=$GONET_DIR/target/bench
fi
GONET_BIN=$GONET_TARGET/release/examples
HAVE_GONET_HTTP=0
[ -f "$GONET_DIR/examples/http.rs" ] && HAVE_GONET_HTTP=1
if [ "$BUILD" = 1 ]; then
    log "building the client and the peers (release)"
    (cd "$HERE/client" && CARGO_TARGET_DIR=$CLIENT_TARGET timeout 900 cargo build --release -q)
    (cd "$HERE/peers" && CARGO_TARGET_DIR=$BENCH_CARGO_TARGET timeout 1800 cargo build --release -q)
    log "building gonet's examples from $GONET_DIR (release)"
    examples=(--example echo)
    [ "$HAVE_GONET_HTTP" = 1 ] && examples+=(--example http)
    if ! (cd "$GONET_DIR" && CARGO_TARGET_DIR=$GONET_TARGET timeout 1800 cargo build --release -q "${examples[@]}"); then
        if [ "$HAVE_GONET_HTTP" = 1 ]; then
            log "gonet's http example did not build: benching echo only"
            HAVE_GONET_HTTP=0
            (cd "$GONET_DIR" && CARGO_TARGET_DIR=$GONET_TARGET timeout 1800 cargo build --release -q --example echo)
        else
            exit 1
        fi
    fi
    log "building the Go peers ($(go version | awk '{print $3}'))"
    (cd "$ROOT" && GOFLAGS=-mod=mod go build -o "$BIN/go_echo" examples/go/echo.go)
    (cd "$HERE/go/http" && GOFLAGS=-mod=mod go build -o "$BIN/go_http" main.go)
    for sc in ${ONLY//,/ }; do
        if declare -F "build_$sc" >/dev/null; then
            log "building for scenario $sc"
            "build_$sc"
        fi
    done
fi
[ -x "$GONET_BIN/http" ] || HAVE_GONET_HTTP=0

# --- limits ------------------------------------------------------------------------------
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# Priority (--nice N): on a machine shared with other work (builds of other checkouts,
# at niceness 0 or 10), the servers' threads and wrk's thread get a fair scheduler's share
# among everything runnable, so requests/s measures the machine's load as much as the
# server (a server whose threads sleep and wake more gets more of that share). --nice -20
# gives the measured pair (the server under test and its client) a weight of 88,761
# against 1,024 for niceness 0 (110 for 10): they take the cores whenever they are
# runnable, and the others run when they are not. It applies to every server, Go's,
# may's, tokio's and gonet's alike, and to every client, so it changes no ratio by itself;
# it only takes the other work out of the way. It is not real-time priority (chrt): under
# SCHED_FIFO the kernel's real-time throttling (sched_rt_runtime_us, 950 ms in every
# second) stalls a busy server for 50 ms each second, which shows as p99.
#
# Even at niceness -20 a woken thread can wait for the task on its core to finish its
# slice, so on a loaded machine neither the server nor wrk keeps its core busy: with
# --pin at niceness -20 both servers and wrk ran at 40-45% of their cores (PROFILE.md
# section 8), i.e. the figure is wake-up latency, not the server. --rt --pin (SCHED_FIFO,
# server on CPU 0, client on CPU 1) preempts at once: there the server is at the
# throttling limit (95% of CPU 0), the server is what is measured, and req/s ratios
# match the inverse CPU-per-request ratios within a few percent. Its p99 is the
# throttling's 50 ms stall, not the server's: read p99 from a run without --rt. --rt
# must not drive a server that spins (the spin scenario): it would hold its core at 95%
# for the whole run, and the machine's other work would get the rest.
PRIO=()
[ -n "$NICE" ] && PRIO=(nice -n "$NICE")
[ "$RT" = 1 ] && PRIO=(chrt -f 1)
SRV_PIN=("${PRIO[@]}")
CLI_PIN=("${PRIO[@]}")
if [ "$PIN" = 1 ]; then
    SRV_PIN=("${PRIO[@]}" taskset -c 0)
    CLI_PIN=("${PRIO[@]}" taskset -c 1)
fi

# The command line of server KEY for scenario family FAMILY (echo|http) on PORT.
server_cmd() {
    local family=$1 key=$2 port=$3 addr=127.0.0.1:$3
    if declare -F "server_cmd_$family" >/dev/null; then
        "server_cmd_$family" "$key" "$port"
        return
    fi
    case "$family/$key" in
        echo/gonet) echo "$GONET_BIN/echo $addr" ;;
        echo/go) echo "$BIN/go_echo $addr" ;;
        echo/may) echo "$PEERS/may_echo $addr" ;;
        echo/tokio) echo "$PEERS/tokio_echo $addr" ;;
        http/gonet) [ "$HAVE_GONET_HTTP" = 1 ] && echo "$GONET_BIN/http $addr" ;;
        http/go) echo "$BIN/go_http $addr" ;;
        http/may) echo "$PEERS/minihttp_hello $addr" ;;
        http/tokio) echo "$PEERS/axum_hello $addr" ;;
    esac
}

NEXT_PORT=19100
free_port() {
    while ss -Htuan "( sport = :$NEXT_PORT or dport = :$NEXT_PORT )" | grep -q .; do
        NEXT_PORT=$((NEXT_PORT + 1))
    done
    PORT=$NEXT_PORT
    NEXT_PORT=$((NEXT_PORT + 1))
}

SERVER_PID=
# start_server FAMILY KEY [PINNED]: sets PORT and SERVER_PID, waits until it listens.
# PINNED=1 runs the server under `taskset -c 0` (one core: Go, may and tokio all size
# their worker pools from the affinity mask, so each runs one worker thread).
start_server() {
    local family=$1 key=$2 pinned=${3:-0} cmd i
    local pin=("${SRV_PIN[@]}")
    [ "$pinned" = 1 ] && pin=("${PRIO[@]}" taskset -c 0)
    free_port
    cmd=$(server_cmd "$family" "$key" "$PORT") || true
    [ -n "$cmd" ] || return 1
    # shellcheck disable=SC2086 # cmd is "binary addr"
    RUST_LOG=warn "${pin[@]}" $cmd >"$LOGS/$family-$key-$PORT.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for i in $(seq 1 200); do
        # Listening TCP sockets and bound UDP ones (the udp scenario's servers).
        if ss -Hltun "( sport = :$PORT )" | grep -q .; then
            sleep 0.2 # let it settle (Go's runtime, may's pool)
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    log "$family/$key did not start listening on $PORT; see $LOGS/$family-$key-$PORT.log"
    stop_server
    return 1
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# record SCENARIO KEY ROUND OUTPUT
record() {
    echo "scenario=$1 server=$2 round=$3 $4" >>"$RAW"
    log "$1 $2 r$3: $4"
}

# The servers in an order rotated by round, so no server always goes first.
order() {
    local r=$1 all=(gonet go may tokio) i
    for i in 0 1 2 3; do echo "${all[$(((i + r) % 4))]}"; done
}

nstat_get() { nstat -saz "$1" 2>/dev/null | awk -v k="$1" '$1 == k {print $2}' | head -1; }

UPTIME_START=$(uptime)
T_START=$(date +%s)

# --- run the scenarios, in --only order --------------------------------------------------
for sc in ${ONLY//,/ }; do
    "run_$sc"
done

# --- report ------------------------------------------------------------------------------
lockver() { awk -v n="$2" '$0 == "name = \"" n "\"" {getline; gsub(/version = |"/, ""); print; exit}' "$1" 2>/dev/null; }
gonet_rev=$(git -C "$GONET_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$GONET_DIR" diff --quiet HEAD -- src examples 2>/dev/null || gonet_rev="$gonet_rev + uncommitted changes in src/ or examples/"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC') ($MODE mode: echo ${ECHO_SECS} s after ${ECHO_WARMUP} s warm-up, wrk -t1 -c100 -d${HTTP_SECS}s, $ROUNDS round(s); $(( $(date +%s) - T_START )) s)"
    echo "machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r), somaxconn $(cat /proc/sys/net/core/somaxconn)"
    echo "client: bench/client, $CLIENT_THREADS thread(s), epoll; $( [ "$PIN" = 1 ] && echo 'server pinned to CPU 0, client to CPU 1' || echo 'no CPU pinning: client and server share both cores')$( [ -n "$NICE" ] && [ "$RT" = 0 ] && echo "; every server and client at niceness $NICE")$( [ "$RT" = 1 ] && echo "; every server and client real-time (chrt -f 1): p99 includes the kernel's RT throttling")"
    echo "load: at start \`${UPTIME_START# }\`; at end \`$(uptime | sed 's/^ //')\` (other work on the machine shows here)"
    echo "gonet: $gonet_rev, may $(lockver "$GONET_DIR/Cargo.lock" may), $(rustc --version)"
    echo "peers: may $(lockver "$HERE/peers/Cargo.lock" may), may_minihttp $(lockver "$HERE/peers/Cargo.lock" may_minihttp), tokio $(lockver "$HERE/peers/Cargo.lock" tokio), axum $(lockver "$HERE/peers/Cargo.lock" axum), $(go version | awk '{print $3}') (Debian golang-go), $(wrk -v 2>&1 | head -1 | awk '{print "wrk " $2}')"
    [ "$HAVE_GONET_HTTP" = 1 ] || echo "gonet http: examples/http.rs is not there yet; its column stays empty"
} >"$META"
"$CLIENT" report "$RAW" "$META" "$OUT/RESULTS.md" "$OUT/chart.svg"
log "wrote $OUT/RESULTS.md and $OUT/chart.svg"
sed -n '/^| metric/,/^$/p' "$OUT/RESULTS.md"
