# bench/scenarios/echo.sh: sourced by bench/run.sh, which defines the helpers used here
# (start_server, stop_server, record, order, $CLIENT, $ROUNDS ...).
#
# --- echo: 64-byte ping-pong at 100 and 5,000 connections ---------------------------------
# echo100pin: 100 conns again with the server pinned to CPU 0 and the client to CPU 1, so
# every server runs one worker thread on a core of its own (no cross-thread wake-ups).
run_echo() {
    for spec in 100:0 5000:0 100:1; do
        conns=${spec%%:*}
        pinned=${spec#*:}
        scenario=echo$conns
        cli_pin=("${CLI_PIN[@]}")
        if [ "$pinned" = 1 ]; then
            scenario=echo${conns}pin
            cli_pin=("${PRIO[@]}" taskset -c 1)
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
}
