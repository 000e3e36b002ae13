// Command ipnet answers for Go 1.19's IP-network calls, as tests/ipnet.rs compares
// gonet with them:
//
//	ipnet cidr    reads hex-encoded strings, one a line, and prints for each
//	              "ok IP NET ONES/BITS" or "err TEXT" (all hex-encoded) from
//	              net.ParseCIDR
//	ipnet ifaddrs prints net.InterfaceAddrs(), one "NETWORK STRING" a line
//
//	go run tests/go/ipnet/main.go cidr < inputs
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"os"
)

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	switch os.Args[1] {
	case "cidr":
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			b, err := hex.DecodeString(sc.Text())
			if err != nil {
				panic(err)
			}
			ip, n, err := net.ParseCIDR(string(b))
			if err != nil {
				fmt.Fprintf(w, "err %x\n", err.Error())
				continue
			}
			ones, bits := n.Mask.Size()
			fmt.Fprintf(w, "ok %x %x %x\n", ip.String(), n.String(), fmt.Sprintf("%d/%d", ones, bits))
		}
	case "ifaddrs":
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			panic(err)
		}
		for _, a := range addrs {
			fmt.Fprintf(w, "%s %s\n", a.Network(), a.String())
		}
	}
}
