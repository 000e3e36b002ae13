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
# Server CPU per handshake is the server's utime+stime over the run / handshakes done;
# for bulk, the server's CPU for the whole 64 MiB echo (128 MiB through its TLS stack).
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

# The server's CPU time so far, in ns: the sum over its threads of
# /proc/PID/task/TID/schedstat's first field (utime + stime in /proc/PID/stat count
# 10 ms ticks, too coarse for a 64 MiB echo of about 100 ms).
tls_cpu_ns() { cat /proc/"$SERVER_PID"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; }

run_tls() {
    [ -x "$BIN/tlsload" ] || build_tls
    "$BIN/tlsload" gencert -dir "$WORK/tls"
    local r key out hs res bulk bulk4 t0 t1 cpu_hs cpu_res cpu_bulk cpu_bulk4
    for r in $(seq 1 "$ROUNDS"); do
        for key in $(order "$r"); do
            if ! start_server tls "$key"; then
                echo "scenario=tls server=$key round=$r skipped=start" >>"$RAW"
                continue
            fi
            local load=("$BIN/tlsload")
            [ ${#CLI_PIN[@]} -gt 0 ] && load=("${CLI_PIN[@]}" "$BIN/tlsload")
            t0=$(tls_cpu_ns)
            hs=$(timeout 120 "${load[@]}" hs -addr "127.0.0.1:$PORT" -ca "$WORK/tls/ca.pem" -c 32 -d "${TLS_SECS}s") || hs=
            t1=$(tls_cpu_ns)
            cpu_hs=$(awk -v a="$t0" -v b="$t1" -v line="$hs" 'BEGIN { split(line, f, /[ =]/); n = f[2]; if (n > 0) printf "%.1f", (b - a) / 1e3 / n; else print "nan" }')
            t0=$(tls_cpu_ns)
            res=$(timeout 120 "${load[@]}" hs -resume -addr "127.0.0.1:$PORT" -ca "$WORK/tls/ca.pem" -c 32 -d "${TLS_SECS}s") || res=
            t1=$(tls_cpu_ns)
            cpu_res=$(awk -v a="$t0" -v b="$t1" -v line="$res" 'BEGIN { split(line, f, /[ =]/); n = f[2]; if (n > 0) printf "%.1f", (b - a) / 1e3 / n; else print "nan" }')
            t0=$(tls_cpu_ns)
            bulk=$(timeout 120 "${load[@]}" bulk -addr "127.0.0.1:$PORT" -ca "$WORK/tls/ca.pem" -mib 64) || bulk=
            t1=$(tls_cpu_ns)
            cpu_bulk=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
            t0=$(tls_cpu_ns)
            bulk4=$(timeout 120 "${load[@]}" bulk -addr "127.0.0.1:$PORT" -ca "$WORK/tls/ca.pem" -mib 64 -conns 4) || bulk4=
            t1=$(tls_cpu_ns)
            cpu_bulk4=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
            if [ -n "$hs" ] && [ -n "$res" ] && [ -n "$bulk" ] && [ -n "$bulk4" ]; then
                record tls "$key" "$r" "hs_per_s=$(tls_field hs_per_s "$hs") srv_cpu_us_per_hs=$cpu_hs hs_errors=$(tls_field errors "$hs") resumed_per_s=$(tls_field hs_per_s "$res") resumed=$(tls_field resumed "$res") srv_cpu_us_per_resumed=$cpu_res mib_per_s=$(tls_field mib_per_s "$bulk") srv_cpu_ms_bulk=$cpu_bulk mib4_per_s=$(tls_field mib_per_s "$bulk4") srv_cpu_ms_bulk4=$cpu_bulk4"
            else
                echo "scenario=tls server=$key round=$r skipped=client" >>"$RAW"
            fi
            stop_server
        done
    done
}

tls_field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2}'; }
