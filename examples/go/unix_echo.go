// The echo server on a Unix socket: the Go twin of examples/unix_echo.rs. Build and run:
//
//	go run examples/go/unix_echo.go [path]   # path defaults to /tmp/gonet-echo.sock
//	nc -U /tmp/gonet-echo.sock
//
// On SIGINT or SIGTERM it closes the listener, which removes the socket file, and exits
// 0. A stale socket file makes Listen fail with "bind: address already in use" (exit 1).
package main

import (
	"errors"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func handle(conn net.Conn) {
	defer conn.Close()
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
	path := "/tmp/gonet-echo.sock"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	log.SetFlags(0)
	ln, err := net.Listen("unix", path)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("unix_echo: listening on %v", ln.Addr())

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		log.Print("unix_echo: shutting down")
		ln.Close() // wakes Accept below; removes the socket file
	}()

	var tempDelay time.Duration // how long to sleep on accept failure
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
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
		go handle(conn)
	}
}
