// Command echoclient is the independent cross-check for `stress echo`: N connections,
// each doing ping-pong of -size bytes (every echoed byte checked) until -d has passed,
// written with Go's standard library only. It prints one JSON object:
//
//	{"conns":50,"ok_conns":50,"round_trips":123456,"errors":0,"elapsed_s":3.001,"rps":41137.9}
//
// rps is round trips divided by the wall time of the whole run (dialing included), the
// same definition `stress` uses.
//
//	go run tests/go/echoclient/main.go -addr 127.0.0.1:8080 -c 50 -d 3s -size 64
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

type result struct {
	Conns      int     `json:"conns"`
	OkConns    int     `json:"ok_conns"`
	RoundTrips int64   `json:"round_trips"`
	Errors     int64   `json:"errors"`
	ElapsedS   float64 `json:"elapsed_s"`
	Rps        float64 `json:"rps"`
	FirstError string  `json:"first_error,omitempty"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "server address: host:port, or a Unix socket path")
	conns := flag.Int("c", 50, "connections")
	dur := flag.Duration("d", 3*time.Second, "how long to run")
	size := flag.Int("size", 64, "bytes per message")
	timeout := flag.Duration("timeout", 5*time.Second, "deadline for a dial or one round trip")
	flag.Parse()

	network := "tcp"
	if strings.Contains(*addr, "/") || strings.HasPrefix(*addr, "@") {
		network = "unix"
	}
	start := time.Now()
	end := start.Add(*dur)
	var (
		mu       sync.Mutex
		res      = result{Conns: *conns}
		wg       sync.WaitGroup
		firstErr error
	)
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			var n, errs int64
			ok := false
			defer func() {
				mu.Lock()
				res.RoundTrips += n
				res.Errors += errs
				if ok {
					res.OkConns++
				}
				mu.Unlock()
			}()
			fail := func(err error) {
				errs++
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
			d := net.Dialer{Timeout: *timeout}
			c, err := d.Dial(network, *addr)
			if err != nil {
				fail(err)
				return
			}
			defer c.Close()
			out := make([]byte, *size)
			in := make([]byte, *size)
			for seq := 0; time.Now().Before(end); seq++ {
				for j := range out {
					out[j] = byte(id + seq + j)
				}
				c.SetDeadline(time.Now().Add(*timeout))
				if _, err := c.Write(out); err != nil {
					fail(err)
					return
				}
				if _, err := io.ReadFull(c, in); err != nil {
					fail(err)
					return
				}
				if !bytes.Equal(in, out) {
					fail(fmt.Errorf("mismatch"))
					return
				}
				n++
			}
			ok = true
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	res.ElapsedS = elapsed.Seconds()
	res.Rps = float64(res.RoundTrips) / elapsed.Seconds()
	if firstErr != nil {
		res.FirstError = firstErr.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		os.Exit(1)
	}
}
