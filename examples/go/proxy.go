// A TCP proxy: the Go twin of examples/proxy.rs. Build and run:
//
//	go run examples/go/proxy.go [listen [upstream]]   # defaults: ":8082" "127.0.0.1:8080"
//
// For each client it dials the upstream and copies both ways with io.Copy, one goroutine
// per direction. When one side ends its stream, the other connection's writing side is
// shut down (CloseWrite) and the copy the other way goes on; an I/O error closes both.
package main

import (
	"io"
	"log"
	"net"
	"os"
	"sync"
	"time"
)

// pipe copies src to dst until EOF, then half-closes dst; on an error, it closes both so
// the copy the other way stops too.
func pipe(dst, src net.Conn) {
	if _, err := io.Copy(dst, src); err != nil {
		log.Printf("%v -> %v: %v", src.RemoteAddr(), dst.RemoteAddr(), err)
		src.Close()
		dst.Close()
		return
	}
	dst.(*net.TCPConn).CloseWrite()
}

func handle(client net.Conn, upstream string) {
	defer client.Close()
	server, err := net.Dial("tcp", upstream)
	if err != nil {
		log.Print(err)
		return
	}
	defer server.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pipe(server, client) }()
	go func() { defer wg.Done(); pipe(client, server) }()
	wg.Wait()
}

func main() {
	addr, upstream := ":8082", "127.0.0.1:8080"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	if len(os.Args) > 2 {
		upstream = os.Args[2]
	}
	log.SetFlags(0)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("proxy: listening on %v", ln.Addr())
	log.Printf("proxy: forwarding to %s", upstream)

	var tempDelay time.Duration // how long to sleep on accept failure
	for {
		client, err := ln.Accept()
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
		go handle(client, upstream)
	}
}
