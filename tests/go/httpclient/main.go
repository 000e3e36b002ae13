// Go's net/http client (and plain sockets) against a server under test, for
// tests/http_interop.rs.
//
//	httpclient get URL            # prints "STATUS\nBODY" of one GET, body echoed
//	httpclient post URL BODY      # POST BODY (chunked: unknown length), prints the same
//	httpclient hold ADDR N        # holds N keep-alive connections, each used twice;
//	                              # prints "held N" or the first error
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func show(resp *http.Response, err error) {
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n%s", resp.StatusCode, b)
}

func hold(addr string, n int) {
	conns := make([]net.Conn, 0, n)
	readers := make([]*bufio.Reader, 0, n)
	deadline := time.Now().Add(120 * time.Second)
	req := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			fmt.Printf("dial %d: %v\n", i, err)
			os.Exit(1)
		}
		c.SetDeadline(deadline)
		conns = append(conns, c)
		readers = append(readers, bufio.NewReader(c))
	}
	for round := 0; round < 2; round++ {
		for i, c := range conns {
			if _, err := io.WriteString(c, req); err != nil {
				fmt.Printf("write %d: %v\n", i, err)
				os.Exit(1)
			}
		}
		for i, r := range readers {
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				fmt.Printf("read %d round %d: %v\n", i, round, err)
				os.Exit(1)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				fmt.Printf("status %d on %d\n", resp.StatusCode, i)
				os.Exit(1)
			}
		}
	}
	fmt.Printf("held %d\n", len(conns))
}

func main() {
	http.DefaultClient.Timeout = 30 * time.Second
	switch os.Args[1] {
	case "get":
		show(http.Get(os.Args[2]))
	case "post":
		// A reader of unknown length: Go's client sends it chunked.
		body := io.MultiReader(strings.NewReader(os.Args[3]))
		show(http.Post(os.Args[2], "text/plain", body))
	case "hold":
		n, _ := strconv.Atoi(os.Args[3])
		hold(os.Args[2], n)
	}
}
