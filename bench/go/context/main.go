// ns per context.WithCancel + cancel(), and per context.WithTimeout cancelled before it
// fires, on a long-lived cancellable parent: the Go twin of gonet's benches/context.rs,
// run beside it by bench/scenarios/context.sh.
//
//	go build -o go_context bench/go/context/main.go && ./go_context [-cycles N] [-batches B]
//
// Prints one line: cancel_ns=.. cancel_cpu_ns=.. timeout_ns=.. timeout_cpu_ns=..: per
// cycle, the median over B batches of N cycles (after one warm-up batch) of the wall time
// and of the process's CPU time (every thread's, the garbage collector's workers too).
package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"syscall"
	"time"
)

var sink context.Context

func main() {
	cycles := flag.Int("cycles", 200000, "cycles per batch")
	batches := flag.Int("batches", 9, "measured batches")
	flag.Parse()

	parent, cancelParent := context.WithCancel(context.Background())
	_ = parent.Done()

	cancelNs, cancelCPU := measure(*cycles, *batches, func() {
		ctx, cancel := context.WithCancel(parent)
		cancel()
		sink = ctx
	})
	timeoutNs, timeoutCPU := measure(*cycles, *batches, func() {
		ctx, cancel := context.WithTimeout(parent, time.Hour)
		cancel()
		sink = ctx
	})
	cancelParent()
	fmt.Printf("cancel_ns=%.1f cancel_cpu_ns=%.1f timeout_ns=%.1f timeout_cpu_ns=%.1f\n",
		cancelNs, cancelCPU, timeoutNs, timeoutCPU)
}

// measure returns the medians over batches batches (after a warm-up one) of the wall time
// and of the process CPU time, in ns, per call of f.
func measure(cycles, batches int, f func()) (float64, float64) {
	wall := make([]float64, 0, batches)
	cpu := make([]float64, 0, batches)
	for b := 0; b <= batches; b++ {
		start, cpuStart := time.Now(), cpuTime()
		for i := 0; i < cycles; i++ {
			f()
		}
		if b > 0 {
			wall = append(wall, float64(time.Since(start).Nanoseconds())/float64(cycles))
			cpu = append(cpu, float64((cpuTime()-cpuStart).Nanoseconds())/float64(cycles))
		}
	}
	return median(wall), median(cpu)
}

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

// cpuTime is the user + system CPU time of the whole process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
