# bench/scenarios/spin.sh: sourced by bench/run.sh, which defines the helpers used here
# (start_server, stop_server, record, $CLIENT, $ROUNDS ...).
#
# --- spin: a handler that never parks, and 1,000 fresh connections -------------------------
# The servers: gonet's examples/spin_echo.rs and its Go twin examples/go/spin_echo.go, a
# line echo whose handler loops forever on the line SPIN. The client (`client spin`) makes
# 1 (spin1) or 2 (spin2, as many as gonet's default workers here) handlers spin, then dials
# 1,000 fresh connections one after another: how many are answered within 2 s, and how
# fast. Go preempts the spinning goroutines; gonet's sysmon contains them (runtime/).
# Plain may and tokio have no twin here.

build_spin() {
    (cd "$GONET_DIR" && CARGO_TARGET_DIR=$GONET_TARGET timeout 1800 cargo build --release -q --example spin_echo)
    (cd "$ROOT" && GOFLAGS=-mod=mod go build -o "$BIN/go_spin_echo" examples/go/spin_echo.go)
}

server_cmd_spin() {
    local key=$1 addr=127.0.0.1:$2
    case "$key" in
        gonet) echo "$GONET_BIN/spin_echo $addr" ;;
        go) echo "$BIN/go_spin_echo $addr" ;;
    esac
}

run_spin() {
    local n scenario r key out
    for n in 1 2; do
        scenario=spin$n
        for r in $(seq 1 "$ROUNDS"); do
            for key in gonet go; do
                # Each server runs two workers (GOMAXPROCS=2): the spin2 case is "every
                # worker stuck" on any machine.
                if ! GOMAXPROCS=2 start_server spin "$key"; then
                    echo "scenario=$scenario server=$key round=$r skipped=start" >>"$RAW"
                    continue
                fi
                if out=$(timeout 300 "${CLI_PIN[@]}" "$CLIENT" spin "127.0.0.1:$PORT" --spinners "$n" --conns 1000); then
                    record "$scenario" "$key" "$r" "$out"
                else
                    echo "scenario=$scenario server=$key round=$r skipped=client" >>"$RAW"
                fi
                stop_server
            done
        done
    done
}
