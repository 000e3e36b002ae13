// An echo server that shuts down gracefully: the Go twin of examples/graceful.rs. Build
// and run:
//
//	go run examples/go/graceful.go [addr [grace]]   # defaults: ":8080" "10s"
//
// grace is a Go duration ("10s", "500ms"). On SIGINT or SIGTERM the server
//  1. closes the listener, then prints "graceful: shutting down": new connections are
//     refused from then on;
//  2. lets the connections in flight go on being served (echoed) until their clients
//     close them, for up to the grace period;
//  3. if they all finished, prints "graceful: all connections finished"; otherwise
//     prints "graceful: grace period over, closing N connections" and closes them;
//  4. exits 0.
package main

import (
	"errors"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func handle(conn net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			if _, werr := conn.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // io.EOF or a real error: either way, done
			return
		}
	}
}

func main() {
	addr, grace := ":8080", 10*time.Second
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	log.SetFlags(0)
	if len(os.Args) > 2 {
		d, err := time.ParseDuration(os.Args[2])
		if err != nil {
			log.Fatal(err)
		}
		grace = d
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("graceful: listening on %v", ln.Addr())

	var (
		wg    sync.WaitGroup            // the connections being served
		mu    sync.Mutex                // guards conns
		conns = map[net.Conn]struct{}{} // to close what is left after the grace period
	)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		ln.Close() // stop accepting: wakes Accept below with net.ErrClosed
	}()

	var tempDelay time.Duration // how long to sleep on accept failure
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				break
			}
			if ne, ok := err.(net.Error); ok && ne.Temporary() {
				if tempDelay == 0 {
					tempDelay = 5 * time.Millisecond
				} else {
					tempDelay *= 2
				}
				if max := 1 * time.Second; tempDelay > max {
					tempDelay = max
				}
				log.Printf("accept error: %v; retrying in %v", err, tempDelay)
				time.Sleep(tempDelay)
				continue
			}
			log.Fatal(err)
		}
		tempDelay = 0
		mu.Lock()
		conns[conn] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			handle(conn)
			mu.Lock()
			delete(conns, conn)
			mu.Unlock()
			conn.Close()
		}()
	}

	// The listener is closed: new connections are refused from now on. Wait for the
	// connections in flight, up to the grace period.
	log.Print("graceful: shutting down")
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		log.Print("graceful: all connections finished")
	case <-time.After(grace):
		mu.Lock()
		log.Printf("graceful: grace period over, closing %d connections", len(conns))
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		<-done // the handlers return at once: their reads fail
	}
}
