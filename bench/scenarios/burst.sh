# bench/scenarios/burst.sh: sourced by bench/run.sh, which defines the helpers used here
# (start_server, stop_server, record, order, $CLIENT, $ROUNDS ...).
#
# --- burst: 8,000 simultaneous dials -------------------------------------------------------
# TcpExtListenOverflows is machine-wide: other programs' overflows during a burst count too.
run_burst() {
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
}
