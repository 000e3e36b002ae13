# bench/scenarios/goroutines.sh: sourced by bench/run.sh, which defines the helpers used
# here (record, order, log, $ROUNDS, $GONET_DIR, $GONET_TARGET, $BIN ...).
#
# --- goroutines: a million goroutines parked on one channel, then released ----------------
# examples/goroutines.rs and its Go twin examples/go/goroutines.go, the same program: the
# `go` statement alone in a loop of one-off spawns (each goroutine done before the next),
# a burst of GOROUTINES goroutines started back to back until all are parked (time, RSS
# and page tables per goroutine, kernel mappings), and closing the channel until all have
# finished. No client and no socket: each program measures itself and prints one line on
# stderr. (may and tokio have no twin: their columns stay empty.)
GOROUTINES=${GOROUTINES:-1000000}

build_goroutines() {
    (cd "$GONET_DIR" && CARGO_TARGET_DIR=$GONET_TARGET timeout 1800 cargo build --release -q --example goroutines)
    (cd "$ROOT" && GOFLAGS=-mod=mod go build -o "$BIN/go_goroutines" examples/go/goroutines.go)
}

run_goroutines() {
    local r key bin out
    [ "$MODE" = quick ] && GOROUTINES=${GOROUTINES_QUICK:-200000}
    for r in $(seq 1 "$ROUNDS"); do
        for key in $(order "$r"); do
            case "$key" in
                gonet) bin=$GONET_BIN/goroutines ;;
                go) bin=$BIN/go_goroutines ;;
                *) continue ;;
            esac
            if [ ! -x "$bin" ]; then
                echo "scenario=goroutines server=$key round=$r skipped=build" >>"$RAW"
                continue
            fi
            # The program's stderr line: "goroutines: n=... key=value ..."
            if out=$(timeout 900 "${SRV_PIN[@]}" "$bin" "$GOROUTINES" 2>&1 >/dev/null | sed -n 's/^goroutines: //p' | tail -1) && [ -n "$out" ]; then
                record goroutines "$key" "$r" "$out"
            else
                echo "scenario=goroutines server=$key round=$r skipped=run" >>"$RAW"
            fi
        done
    done
}
