// The UDP echo server: the Go twin of examples/udp_echo.rs. Every datagram goes back to
// its sender, whole. Build and run with:
//
//	go run examples/go/udp_echo.go [addr]   # addr defaults to ":8080" (UDP)
//	nc -u 127.0.0.1 8080
//
// One loop serves every client. A failed send is logged and the loop goes on; a failed
// read ends the program (exit 1).
package main

import (
	"log"
	"net"
	"os"
)

func main() {
	addr := ":8080"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	log.SetFlags(0)
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("udp_echo: listening on %v", pc.LocalAddr())
	buf := make([]byte, 65536) // room for the largest datagram
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := pc.WriteTo(buf[:n], addr); err != nil {
			log.Printf("write: %v", err)
		}
	}
}
