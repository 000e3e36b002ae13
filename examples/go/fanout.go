// Fan-out dials with errgroup.WithContext: the Go twin of examples/fanout.rs. Run with:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run examples/go/fanout.go [-timeout 5s] ADDR...
//
// (golang.org/x/sync/errgroup: Debian's golang-golang-x-sync-dev.)
//
// Every ADDR is a backend that sends one status line when a client connects: "OK ..." or
// "ERR ...". fanout dials them all at once and reads each one's line; the first backend
// that fails (a refused dial, an "ERR" line, an EOF) cancels the group's context, and
// that ends the other dials and reads at once. It prints one line per ADDR, in order (its
// status line, or what stopped it), then "all N backends OK" (exit 0) or "fanout: " and
// the first error (exit 1).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// aLongTimeAgo is a deadline in the past: a read waiting on a connection with it wakes up
// at once (net/http's idiom for cancelling a blocked read).
var aLongTimeAgo = time.Unix(1, 0)

// status dials addr and reads its status line; ctx ends both.
func status(ctx context.Context, addr string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// Go 1.21: stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(aLongTimeAgo) })
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			conn.SetReadDeadline(aLongTimeAgo)
		case <-done:
		}
	}()
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err() // the read was woken by the cancel
		}
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "OK") {
		return line, errors.New(addr + ": " + line)
	}
	return line, nil
}

func main() {
	timeout := flag.Duration("timeout", 5*time.Second, "the deadline for the whole fan-out")
	flag.Parse()
	addrs := flag.Args()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	results := make([]string, len(addrs))
	for i, addr := range addrs {
		i, addr := i, addr
		g.Go(func() error {
			line, err := status(ctx, addr)
			if err != nil && line == "" {
				line = err.Error()
			}
			results[i] = line
			return err
		})
	}
	err := g.Wait()
	for i, addr := range addrs {
		fmt.Printf("%s %s\n", addr, results[i])
	}
	if err != nil {
		fmt.Printf("fanout: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("all %d backends OK\n", len(addrs))
}
