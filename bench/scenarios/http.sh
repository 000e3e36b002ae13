# bench/scenarios/http.sh: sourced by bench/run.sh, which defines the helpers used here
# (start_server, stop_server, record, order, $CLIENT, $ROUNDS ...).
#
# --- http: examples/http.rs (gonet::net::http) against its Go twin examples/go/http.go
# (net/http), examples/minihttp.rs (may_minihttp) and axum (bench/peers axum_hello), the
# same two routes on each: GET / ("Hello, World!", text/plain) and GET /json (a
# serde_json / encoding/json object). Every server runs its runtime's default worker
# count (2 here: GOMAXPROCS, may's workers, tokio's multi-thread runtime).
#
#   http        hello, wrk -t1 -c100
#   httpjson    /json, wrk -t1 -c100
#   http1k      hello, wrk -t1 -c1000
#   httpjson1k  /json, wrk -t1 -c1000
#   httppipe    hello, wrk -t1 -c100, 16 requests pipelined per write (bench/pipeline.lua)
#   httpidle    server RSS per idle keep-alive connection: HTTP_IDLE_CONNS connections,
#               each having been served one GET / (bench/client httpidle)
# Server CPU per request is the server's utime+stime over wrk's run / requests done.
# HTTP_CASES (comma-separated, default all of the above) picks some of them.
HTTP_CASES=${HTTP_CASES:-http,httpjson,http1k,httpjson1k,httppipe,httpidle}
HTTP_IDLE_CONNS=${HTTP_IDLE_CONNS:-5000}

build_http() {
    (cd "$GONET_DIR" && CARGO_TARGET_DIR=$GONET_TARGET timeout 1800 cargo build --release -q --example minihttp)
    (cd "$ROOT" && GOFLAGS=-mod=mod go build -o "$BIN/go_http_twin" examples/go/http.go)
}

server_cmd_http() {
    local key=$1 addr=127.0.0.1:$2
    case "$key" in
        gonet) [ "$HAVE_GONET_HTTP" = 1 ] && echo "$GONET_BIN/http $addr" ;;
        go) echo "$BIN/go_http_twin $addr" ;;
        may) echo "$GONET_BIN/minihttp $addr" ;;
        tokio) echo "$PEERS/axum_hello $addr" ;;
    esac
}

http_has() { [[ ",$HTTP_CASES," == *",$1,"* ]]; }

# http_wrk CASE KEY ROUND CONNS PATH [LUA]: one wrk run against the running server.
http_wrk() {
    local case=$1 key=$2 r=$3 conns=$4 path=$5 lua=${6:-} out
    local url=http://127.0.0.1:$PORT$path
    local args=(--latency -t1 -c"$conns" -d"${HTTP_SECS}s" --timeout 10s)
    if [ -n "$lua" ]; then
        args+=(-s "$lua" "$url" -- 16) # the script's arguments come after the URL
    else
        args+=("$url")
    fi
    [ "$MODE" = full ] && timeout 30 "${CLI_PIN[@]}" wrk -t1 -c"$conns" -d1s "$url" >/dev/null 2>&1 || true
    if out=$(timeout 120 "${CLI_PIN[@]}" "$CLIENT" wrk "$SERVER_PID" "${args[@]}"); then
        record "$case" "$key" "$r" "$out"
    else
        echo "scenario=$case server=$key round=$r skipped=wrk" >>"$RAW"
    fi
}

run_http() {
    local r key
    for r in $(seq 1 "$ROUNDS"); do
        for key in $(order "$r"); do
            if ! start_server http "$key"; then
                local c
                for c in ${HTTP_CASES//,/ }; do
                    echo "scenario=$c server=$key round=$r skipped=$([ "$key" = gonet ] && echo no-examples/http.rs || echo start)" >>"$RAW"
                done
                continue
            fi
            http_has http && http_wrk http "$key" "$r" 100 /
            http_has httpjson && http_wrk httpjson "$key" "$r" 100 /json
            http_has httppipe && http_wrk httppipe "$key" "$r" 100 / "$HERE/pipeline.lua"
            http_has http1k && http_wrk http1k "$key" "$r" 1000 /
            http_has httpjson1k && http_wrk httpjson1k "$key" "$r" 1000 /json
            # A fresh server for the idle count, so the load runs' memory is not in it.
            stop_server
            if http_has httpidle; then
                if ! start_server http "$key"; then
                    echo "scenario=httpidle server=$key round=$r skipped=start" >>"$RAW"
                    continue
                fi
                if out=$(timeout 180 "${CLI_PIN[@]}" "$CLIENT" httpidle "127.0.0.1:$PORT" --conns "$HTTP_IDLE_CONNS" --pid "$SERVER_PID"); then
                    record httpidle "$key" "$r" "$out"
                else
                    echo "scenario=httpidle server=$key round=$r skipped=client" >>"$RAW"
                fi
                stop_server
            fi
        done
    done
}
