# bench/scenarios/idle.sh: sourced by bench/run.sh, which defines the helpers used here
# (start_server, stop_server, record, order, $CLIENT, $ROUNDS ...).
#
# --- idle: server RSS per held connection at 8,000 idle connections ------------------------
run_idle() {
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
}
