// The Go twin of examples/spin_echo.rs: a line echo server whose handler loops forever on
// the line SPIN. Go's scheduler preempts the spinning goroutine (asynchronous preemption,
// Go 1.14+), so the other connections are served. Run with:
//
//	go run examples/go/spin_echo.go [addr]   # addr defaults to ":8080"
package main

import (
	"bufio"
	"log"
	"net"
	"os"
)

var sink uint64

// spin is the bug: a loop with no I/O, no channel, no lock, no sleep.
func spin() {
	x := uint64(0)
	for {
		x++
		sink = x
	}
}

func handle(conn net.Conn) {
	defer conn.Close()
	scanner := bufio.NewScanner(conn)
	for scanner.Scan() {
		if scanner.Text() == "SPIN" {
			spin()
		}
		if _, err := conn.Write(append(scanner.Bytes(), '\n')); err != nil {
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
	log.Printf("spin: listening on %v", ln.Addr())
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go handle(conn)
	}
}
