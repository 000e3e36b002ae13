# bench/scenarios/tls.sh: sourced by bench/run.sh, which defines the helpers used here
# (start_server, stop_server, record, order, $ROUNDS ...).
#
# --- tls: examples/tls_echo.rs against its Go twin, driven by Go's crypto/tls client ------
# One certificate (ECDSA P-256, from bench/go/tlsload gencert) for both servers; every
# handshake is TLS 1.3 with X25519. Three measurements per server and round:
#   hs       full handshakes/s: 32 workers, each request a new connection (dial,
#            handshake, 16-byte echo, close) for TLS_SECS s
#   resumed  the same with a session cache per worker (TLS 1.3 tickets)
#   bulk     one connection, 64 MiB written and echoed back, every byte checked
#   bulk4    the same 64 MiB over 4 connections at once (16 MiB each): on two cores the
#            client and server share, the server's CPU per byte sets the rate
# Server CPU per handshake is the server's CPU over the run / handshakes done; for bulk,
# the server's CPU for the whole 64 MiB echo (128 MiB through its TLS stack), the figure
# to read: the rate moves with whatever else the machine runs. Both servers are up for
# the bulk part and their echoes alternate, TLS_BULK_REPS of each per round (5 quick,
# 7 full); a round records the medians.
TLS_SECS=${TLS_SECS:-5}
[ "$MODE" = quick ] && TLS_SECS=3

build_tls() {
    (cd "$GONET_DIR" && CARGO_TARGET_DIR=$GONET_TARGET timeout 1800 cargo build --release -q --example tls_echo)
    (cd "$ROOT" && GOFLAGS=-mod=mod go build -o "$BIN/go_tls_echo" examples/go/tls_echo.go)
    (cd "$HERE/go/tlsload" && GOFLAGS=-mod=mod go build -o "$BIN/tlsload" main.go)
}

server_cmd_tls() {
    local key=$1 port=$2 addr=127.0.0.1:$2 dir=$WORK/tls
    case "$key" in
        gonet) echo "$GONET_BIN/tls_echo $addr $dir/cert.pem $dir/key.pem" ;;
        go) echo "$BIN/go_tls_echo $addr $dir/cert.pem $dir/key.pem" ;;
    esac
}

# A server's CPU time so far, in ns: the sum over its threads of
# /proc/PID/task/TID/schedstat's first field (utime + stime in /proc/PID/stat count
# 10 ms ticks, too coarse for a 64 MiB echo of about 100 ms).
tls_cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; }

# Each thread's "TID RUN_NS WAIT_NS" so far (schedstat: time on a CPU, time runnable
# but waiting for one). tls_busiest_wait BEFORE AFTER: the wait, in ms, of the thread
# that ran most in between (the one carrying the echo; a sum over threads would add the
# waits of monitor threads that only wake now and then): on a shared or pinned core,
# what sets the bulk rate besides the CPU.
tls_sched() { for t in /proc/"$1"/task/*; do echo "${t##*/} $(cut -d' ' -f1,2 "$t"/schedstat 2>/dev/null)"; done; }
tls_busiest_wait() {
    awk 'NR == FNR { r[$1] = $2; w[$1] = $3; next }
        { d = $2 - r[$1]; if (d > best) { best = d; wait = $3 - w[$1] } }
        END { printf "%.1f", wait / 1e6 }' <(echo "$1") <(echo "$2")
}

# tls_hs PID [-resume]: one handshake run against PORT; prints tlsload's line, then the
# server's CPU per handshake in µs.
tls_hs() {
    local pid=$1 t0 t1 out
    shift
    t0=$(tls_cpu_ns "$pid")
    out=$(timeout 120 "${TLS_LOAD[@]}" hs "$@" -addr "127.0.0.1:$PORT" -ca "$WORK/tls/ca.pem" -c 32 -d "${TLS_SECS}s") || return 1
    t1=$(tls_cpu_ns "$pid")
    echo "$out"
    awk -v a="$t0" -v b="$t1" -v line="$out" 'BEGIN { split(line, f, /[ =]/); n = f[2]; if (n > 0) printf "%.1f\n", (b - a) / 1e3 / n; else print "nan" }'
}

# tls_bulk PID PORT CONNS: one 64 MiB echo; prints "MIB_PER_S SERVER_CPU_MS
# SERVER_WAIT_MS" (the last: the run-queue wait of its busiest thread).
tls_bulk() {
    local t0 t1 s0 s1 out
    t0=$(tls_cpu_ns "$1") s0=$(tls_sched "$1")
    out=$(timeout 120 "${TLS_LOAD[@]}" bulk -addr "127.0.0.1:$2" -ca "$WORK/tls/ca.pem" -mib 64 -conns "$3") || return 1
    t1=$(tls_cpu_ns "$1") s1=$(tls_sched "$1")
    awk -v a="$t0" -v b="$t1" -v w="$(tls_busiest_wait "$s0" "$s1")" -v r="$(tls_field mib_per_s "$out")" 'BEGIN { printf "%s %.1f %s\n", r, (b - a) / 1e6, w }'
}

# The median of the numbers on stdin (one a line).
tls_median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Bulk echoes per server and round (each figure recorded: the median of them).
TLS_BULK_REPS=${TLS_BULK_REPS:-7}
[ "$MODE" = quick ] && TLS_BULK_REPS=5

run_tls() {
    [ -x "$BIN/tlsload" ] || build_tls
    "$BIN/tlsload" gencert -dir "$WORK/tls"
    TLS_LOAD=("$BIN/tlsload")
    [ ${#CLI_PIN[@]} -gt 0 ] && TLS_LOAD=("${CLI_PIN[@]}" "$BIN/tlsload")
    local r key i c line
    local -A hs res pid port bulk
    for r in $(seq 1 "$ROUNDS"); do
        # Handshakes: one server at a time (each saturates the machine).
        for key in $(order "$r"); do
            hs[$key]= res[$key]=
            start_server tls "$key" || continue
            hs[$key]=$(tls_hs "$SERVER_PID") || hs[$key]=
            res[$key]=$(tls_hs "$SERVER_PID" -resume) || res[$key]=
            stop_server
        done
        # Bulk: both servers up at once, their echoes taking turns (gonet, Go, Go,
        # gonet, ...), so each pair of samples is seconds apart and the machine's swings
        # (other work, frequency) fall on both alike; the medians of the turns are
        # recorded. Only the server measured is busy: the other one idles.
        pid=() port=() bulk=()
        for key in gonet go; do
            start_server tls "$key" || continue
            pid[$key]=$SERVER_PID port[$key]=$PORT
            SERVER_PID=
        done
        for i in $(seq 1 "$TLS_BULK_REPS"); do
            local turn=(gonet go)
            [ $(((r + i) % 2)) = 1 ] && turn=(go gonet)
            for key in "${turn[@]}"; do
                [ -n "${pid[$key]:-}" ] || continue
                for c in 1 4; do
                    line=$(tls_bulk "${pid[$key]}" "${port[$key]}" "$c") || continue
                    bulk[$key.$c]+="$line"$'\n'
                done
            done
        done
        for key in gonet go; do
            [ -n "${pid[$key]:-}" ] || continue
            SERVER_PID=${pid[$key]}
            stop_server
        done
        for key in gonet go; do
            if [ -z "${hs[$key]:-}" ] || [ -z "${res[$key]:-}" ] || [ -z "${bulk[$key.1]:-}" ] || [ -z "${bulk[$key.4]:-}" ]; then
                echo "scenario=tls server=$key round=$r skipped=client" >>"$RAW"
                continue
            fi
            local h1 h2 r1 r2
            log "tls $key r$r bulk turns (MiB/s, server CPU ms, run-queue wait ms of its busiest thread): 1 conn: $(paste -sd, <<<"${bulk[$key.1]%$'\n'}"); 4 conns: $(paste -sd, <<<"${bulk[$key.4]%$'\n'}")"
            h1=$(head -1 <<<"${hs[$key]}") h2=$(tail -1 <<<"${hs[$key]}")
            r1=$(head -1 <<<"${res[$key]}") r2=$(tail -1 <<<"${res[$key]}")
            record tls "$key" "$r" "hs_per_s=$(tls_field hs_per_s "$h1") srv_cpu_us_per_hs=$h2 hs_errors=$(tls_field errors "$h1") resumed_per_s=$(tls_field hs_per_s "$r1") resumed=$(tls_field resumed "$r1") srv_cpu_us_per_resumed=$r2 mib_per_s=$(awk NF <<<"${bulk[$key.1]}" | cut -d' ' -f1 | tls_median) srv_cpu_ms_bulk=$(awk NF <<<"${bulk[$key.1]}" | cut -d' ' -f2 | tls_median) mib4_per_s=$(awk NF <<<"${bulk[$key.4]}" | cut -d' ' -f1 | tls_median) srv_cpu_ms_bulk4=$(awk NF <<<"${bulk[$key.4]}" | cut -d' ' -f2 | tls_median) bulk_reps=$TLS_BULK_REPS"
        done
    done
}

tls_field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2}'; }
