// A million goroutines: N goroutines started one after another, each parked on one
// channel until main closes it. The Go twin of examples/goroutines.rs; run with:
//
//	go run examples/go/goroutines.go [n]   # n defaults to 1000000
//
// stdout: "N goroutines parked", "N goroutines finished"; stderr: what it measured
// (see examples/goroutines.rs).
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// statusBytes returns a field of /proc/self/status, in bytes.
func statusBytes(key string) uint64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key) {
			f := strings.Fields(l[len(key):])
			if len(f) > 0 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func mapCount() int {
	b, _ := os.ReadFile("/proc/self/maps")
	return strings.Count(string(b), "\n")
}

func main() {
	n := 1000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}

	// One-off: each goroutine runs and is done before the next one starts.
	const oneOff = 10000
	done := make(chan struct{})
	var inGo time.Duration
	t0 := time.Now()
	for i := 0; i < oneOff; i++ {
		t := time.Now()
		go func() { done <- struct{}{} }()
		inGo += time.Since(t)
		<-done
	}
	oneOffTime := time.Since(t0)

	// A burst: n goroutines parked at once on one channel.
	rss0, pte0 := statusBytes("VmRSS:"), statusBytes("VmPTE:")
	release := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	t1 := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-release // parked until the channel is closed
			finished.Done()
		}()
	}
	started.Wait()
	burst := time.Since(t1)
	rss1, pte1 := statusBytes("VmRSS:"), statusBytes("VmPTE:")
	maps := mapCount()
	fmt.Printf("%d goroutines parked\n", n)

	t2 := time.Now()
	close(release)
	finished.Wait()
	releaseTime := time.Since(t2)
	fmt.Printf("%d goroutines finished\n", n)

	per := func(d time.Duration, k int) int64 {
		if k < 1 {
			k = 1
		}
		return d.Nanoseconds() / int64(k)
	}
	nn := uint64(n)
	if nn < 1 {
		nn = 1
	}
	fmt.Fprintf(os.Stderr, "goroutines: n=%d oneoff_go_ns=%d oneoff_rt_ns=%d burst_ns=%d rss_per_goroutine=%d pte_per_goroutine=%d maps=%d release_ms=%d\n",
		n, per(inGo, oneOff), per(oneOffTime, oneOff), per(burst, n),
		(rss1-rss0)/nn, (pte1-pte0)/nn, maps, releaseTime.Milliseconds())
}
