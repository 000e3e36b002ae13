// The classic Go echo server: the program gonet's Rust echo example is a line-for-line
// twin of. Build and run with:
//
//	go run examples/go/echo.go [addr]   # addr defaults to ":8080"
//
// Accept errors are handled as net/http's Server.Serve does: on a temporary error
// (EMFILE, ECONNABORTED, ...) back off 5ms, doubling up to 1s, and retry; on any other
// error, exit.
package main

import (
	"log"
	"net"
	"os"
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
	addr := ":8080"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	log.SetFlags(0)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("echo: listening on %v", ln.Addr())

	var tempDelay time.Duration // how long to sleep on accept failure
	for {
		conn, err := ln.Accept()
		if err != nil {
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
