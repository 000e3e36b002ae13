# bench/scenarios/udp.sh: sourced by bench/run.sh, which defines the helpers used here
# (start_server, stop_server, record, order, $CLIENT, $ROUNDS ...).
#
# --- udp: request/response datagrams against a UDP echo ------------------------------------
# The servers: gonet's examples/udp_echo.rs, its Go twin examples/go/udp_echo.go (one
# goroutine: ReadFrom, WriteTo), and bench/peers' tokio_udp_echo and may_udp_echo (one
# task / coroutine each). The client (`client udp`) keeps one 64-byte datagram in flight
# per socket, checks every echoed byte, and counts a datagram not back within 200 ms as
# lost (a loss, not a hang).
#   udp1:   one socket, ping-pong: the round trip itself.
#   udp100: 100 sockets: throughput, and server CPU per datagram.

build_udp() {
    (cd "$GONET_DIR" && CARGO_TARGET_DIR=$GONET_TARGET timeout 1800 cargo build --release -q --example udp_echo)
    (cd "$ROOT" && GOFLAGS=-mod=mod go build -o "$BIN/go_udp_echo" examples/go/udp_echo.go)
}

server_cmd_udp() {
    local key=$1 addr=127.0.0.1:$2
    case "$key" in
        gonet) echo "$GONET_BIN/udp_echo $addr" ;;
        go) echo "$BIN/go_udp_echo $addr" ;;
        may) echo "$PEERS/may_udp_echo $addr" ;;
        tokio) echo "$PEERS/tokio_udp_echo $addr" ;;
    esac
}

run_udp() {
    local conns scenario r key out
    for conns in 1 100; do
        scenario=udp$conns
        for r in $(seq 1 "$ROUNDS"); do
            for key in $(order "$r"); do
                if ! start_server udp "$key"; then
                    echo "scenario=$scenario server=$key round=$r skipped=start" >>"$RAW"
                    continue
                fi
                if out=$(timeout 180 "${CLI_PIN[@]}" "$CLIENT" udp "127.0.0.1:$PORT" --conns "$conns" \
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
}
