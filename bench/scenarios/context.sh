# bench/scenarios/context.sh: sourced by bench/run.sh, which defines the helpers used here
# (record, order, log, $ROUNDS, $MODE, $GONET_DIR, $GONET_TARGET, $BIN ...).
#
# --- context: what a request's context costs ------------------------------------------------
# benches/context.rs and its Go twin bench/go/context/main.go, the same program: on a
# long-lived cancellable parent whose done channel is watched (a request's context),
# `with_cancel` + `cancel()` and `with_timeout(1h)` + `cancel()` before it fires, in
# batches of CONTEXT_CYCLES cycles; per cycle, the median over the batches of the wall
# time and of the process's CPU time (Go's garbage collector's workers included). No
# client and no socket: each program measures itself and prints one line. (may and tokio
# have no twin: their columns stay empty.)
CONTEXT_CYCLES=${CONTEXT_CYCLES:-200000}
CONTEXT_BATCHES=${CONTEXT_BATCHES:-9}

build_context() {
    local exe
    # The bench's executable has a hashed name under deps/: cargo's JSON messages say which.
    exe=$(cd "$GONET_DIR" && CARGO_TARGET_DIR=$GONET_TARGET timeout 1800 cargo build --release -q --bench context --message-format=json |
        grep '"name":"context"' | grep -o '"executable":"[^"]*"' | sed 's/^"executable":"//; s/"$//' | tail -1)
    [ -n "$exe" ] && cp "$exe" "$BIN/gonet_context"
    (cd "$ROOT/bench/go/context" && GOFLAGS=-mod=mod go build -o "$BIN/go_context" main.go)
}

run_context() {
    local r key bin out cycles=$CONTEXT_CYCLES batches=$CONTEXT_BATCHES
    [ "$MODE" = quick ] && { cycles=${CONTEXT_CYCLES_QUICK:-100000}; batches=5; }
    for r in $(seq 1 "$ROUNDS"); do
        for key in $(order "$r"); do
            case "$key" in
                gonet) bin=("$BIN/gonet_context" --cycles "$cycles" --batches "$batches") ;;
                go) bin=("$BIN/go_context" -cycles "$cycles" -batches "$batches") ;;
                *) continue ;;
            esac
            if [ ! -x "${bin[0]}" ]; then
                echo "scenario=context server=$key round=$r skipped=build" >>"$RAW"
                continue
            fi
            # One line: cancel_ns=.. cancel_cpu_ns=.. timeout_ns=.. timeout_cpu_ns=..
            if out=$(timeout 300 "${SRV_PIN[@]}" "${bin[@]}" | grep '^cancel_ns=' | tail -1) && [ -n "$out" ]; then
                record context "$key" "$r" "$out"
            else
                echo "scenario=context server=$key round=$r skipped=run" >>"$RAW"
            fi
        done
    done
}
