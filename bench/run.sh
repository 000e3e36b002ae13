#!/usr/bin/env bash
# gonet's benchmarks, side by side with Go, plain may and tokio, in one run on loopback.
#
#   bench/run.sh            full run  (3 rounds of every scenario, 10 s echo, wrk -d10s; ~12 minutes)
#   bench/run.sh --quick    quick run (1 round of 3 s echo, wrk -d3s; ~1-2 minutes after builds)
#
# Options:
#   --rounds N        rounds of every scenario (each figure: the median of its rounds)
#   --only LIST       comma-separated subset of: echo,http,idle,burst
#   --pin             pin each server to CPU 0 and the client (and wrk) to CPU 1
#   --gonet-dir DIR   bench the gonet tree in DIR (a scratch copy) instead of this one
#   --out DIR         write RESULTS.md and chart.svg to DIR (default: bench/)
#   --no-build        use the binaries built by the previous run
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
ONLY=echo,http,idle,burst
PIN=0
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) MODE=quick ;;
        --full) MODE=full ;;
        --rounds) ROUNDS=$2; shift ;;
        --only) ONLY=$2; shift ;;
        --pin) PIN=1 ;;
        --gonet-dir) GONET_DIR=$(cd "$2" && pwd); shift ;;
        --out) mkdir -p "$2"; OUT=$(cd "$2" && pwd); shift ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
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
CLIENT=$HERE/client/target/release/gonet-bench-client
PEERS=$HERE/peers/target/release
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
    (cd "$HERE/client" && timeout 900 cargo build --release -q)
    (cd "$HERE/peers" && timeout 1800 cargo build --release -q)
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
fi
[ -x "$GONET_BIN/http" ] || HAVE_GONET_HTTP=0

# --- limits ------------------------------------------------------------------------------
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

SRV_PIN=()
CLI_PIN=()
if [ "$PIN" = 1 ]; then
    SRV_PIN=(taskset -c 0)
    CLI_PIN=(taskset -c 1)
fi

# The command line of server KEY for scenario family FAMILY (echo|http) on PORT.
server_cmd() {
    local family=$1 key=$2 port=$3 addr=127.0.0.1:$3
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
    while ss -Htan "( sport = :$NEXT_PORT or dport = :$NEXT_PORT )" | grep -q .; do
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
    [ "$pinned" = 1 ] && pin=(taskset -c 0)
    free_port
    cmd=$(server_cmd "$family" "$key" "$PORT") || true
    [ -n "$cmd" ] || return 1
    # shellcheck disable=SC2086 # cmd is "binary addr"
    RUST_LOG=warn "${pin[@]}" $cmd >"$LOGS/$family-$key-$PORT.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for i in $(seq 1 200); do
        if ss -Hltn "( sport = :$PORT )" | grep -q .; then
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

# --- echo: 64-byte ping-pong at 100 and 5,000 connections ---------------------------------
# echo100pin: 100 conns again with the server pinned to CPU 0 and the client to CPU 1, so
# every server runs one worker thread on a core of its own (no cross-thread wake-ups).
if has echo; then
    for spec in 100:0 5000:0 100:1; do
        conns=${spec%%:*}
        pinned=${spec#*:}
        scenario=echo$conns
        cli_pin=("${CLI_PIN[@]}")
        if [ "$pinned" = 1 ]; then
            scenario=echo${conns}pin
            cli_pin=(taskset -c 1)
        fi
        for r in $(seq 1 "$ROUNDS"); do
            for key in $(order "$r"); do
                if ! start_server echo "$key" "$pinned"; then
                    echo "scenario=$scenario server=$key round=$r skipped=start" >>"$RAW"
                    continue
                fi
                if out=$(timeout 180 "${cli_pin[@]}" "$CLIENT" echo "127.0.0.1:$PORT" --conns "$conns" \
                    --secs "$ECHO_SECS" --warmup "$ECHO_WARMUP" --threads "$CLIENT_THREADS" \
                    --pid "$SERVER_PID"); then
                    record "$scenario" "$key" "$r" "$out"
                else
                    echo "scenario=$scenario server=$key round=$r skipped=client" >>"$RAW"
                fi
                stop_server
            done
        done
    done
fi

# --- http: wrk -t1 -c100 against hello-world servers --------------------------------------
if has http; then
    for r in $(seq 1 "$ROUNDS"); do
        for key in $(order "$r"); do
            if ! start_server http "$key"; then
                echo "scenario=http server=$key round=$r skipped=$([ "$key" = gonet ] && echo no-examples/http.rs || echo start)" >>"$RAW"
                continue
            fi
            url=http://127.0.0.1:$PORT/
            [ "$MODE" = full ] && timeout 30 "${CLI_PIN[@]}" wrk -t1 -c100 -d1s "$url" >/dev/null 2>&1 || true
            if out=$(timeout 120 "${CLI_PIN[@]}" "$CLIENT" wrk "$SERVER_PID" --latency -t1 -c100 -d"${HTTP_SECS}s" "$url"); then
                record http "$key" "$r" "$out"
            else
                echo "scenario=http server=$key round=$r skipped=wrk" >>"$RAW"
            fi
            stop_server
        done
    done
fi

# --- idle: server RSS per held connection at 8,000 idle connections ------------------------
if has idle; then
    for r in $(seq 1 "$ROUNDS"); do
        for key in $(order "$r"); do
            if ! start_server echo "$key"; then
                echo "scenario=idle server=$key round=$r skipped=start" >>"$RAW"
                continue
            fi
            if out=$(timeout 180 "${CLI_PIN[@]}" "$CLIENT" idle "127.0.0.1:$PORT" --conns "$IDLE_CONNS" --pid "$SERVER_PID"); then
                record idle "$key" "$r" "$out"
            else
                echo "scenario=idle server=$key round=$r skipped=client" >>"$RAW"
            fi
            stop_server
        done
    done
fi

# --- burst: 8,000 simultaneous dials -------------------------------------------------------
# TcpExtListenOverflows is machine-wide: other programs' overflows during a burst count too.
if has burst; then
    for r in $(seq 1 "$ROUNDS"); do
        for key in $(order "$r"); do
            if ! start_server echo "$key"; then
                echo "scenario=burst server=$key round=$r skipped=start" >>"$RAW"
                continue
            fi
            ov0=$(nstat_get TcpExtListenOverflows); dr0=$(nstat_get TcpExtListenDrops)
            if out=$(timeout 120 "${CLI_PIN[@]}" "$CLIENT" burst "127.0.0.1:$PORT" --conns "$BURST_CONNS" --timeout-s 30); then
                ov1=$(nstat_get TcpExtListenOverflows); dr1=$(nstat_get TcpExtListenDrops)
                record burst "$key" "$r" "$out overflows=$((${ov1:-0} - ${ov0:-0})) listen_drops=$((${dr1:-0} - ${dr0:-0}))"
            else
                echo "scenario=burst server=$key round=$r skipped=client" >>"$RAW"
            fi
            stop_server
            sleep 1 # let the 8,000 closes drain before the next server
        done
    done
fi

# --- report ------------------------------------------------------------------------------
lockver() { awk -v n="$2" '$0 == "name = \"" n "\"" {getline; gsub(/version = |"/, ""); print; exit}' "$1" 2>/dev/null; }
gonet_rev=$(git -C "$GONET_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$GONET_DIR" diff --quiet HEAD -- src examples 2>/dev/null || gonet_rev="$gonet_rev + uncommitted changes in src/ or examples/"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC') ($MODE mode: echo ${ECHO_SECS} s after ${ECHO_WARMUP} s warm-up, wrk -t1 -c100 -d${HTTP_SECS}s, $ROUNDS round(s); $(( $(date +%s) - T_START )) s)"
    echo "machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r), somaxconn $(cat /proc/sys/net/core/somaxconn)"
    echo "client: bench/client, $CLIENT_THREADS thread(s), epoll; $( [ "$PIN" = 1 ] && echo 'server pinned to CPU 0, client to CPU 1' || echo 'no CPU pinning: client and server share both cores')"
    echo "load: at start \`${UPTIME_START# }\`; at end \`$(uptime | sed 's/^ //')\` (other work on the machine shows here)"
    echo "gonet: $gonet_rev, may $(lockver "$GONET_DIR/Cargo.lock" may), $(rustc --version)"
    echo "peers: may $(lockver "$HERE/peers/Cargo.lock" may), may_minihttp $(lockver "$HERE/peers/Cargo.lock" may_minihttp), tokio $(lockver "$HERE/peers/Cargo.lock" tokio), axum $(lockver "$HERE/peers/Cargo.lock" axum), $(go version | awk '{print $3}') (Debian golang-go), $(wrk -v 2>&1 | head -1 | awk '{print "wrk " $2}')"
    [ "$HAVE_GONET_HTTP" = 1 ] || echo "gonet http: examples/http.rs is not there yet; its column stays empty"
} >"$META"
"$CLIENT" report "$RAW" "$META" "$OUT/RESULTS.md" "$OUT/chart.svg"
log "wrote $OUT/RESULTS.md and $OUT/chart.svg"
sed -n '/^| metric/,/^$/p' "$OUT/RESULTS.md"
