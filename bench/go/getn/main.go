// Command getn sends a fixed number of HTTP/1.1 keep-alive GETs (only a Host field, as
// wrk's), -n in all over -c connections, one request at a time on each, and prints how
// many it completed. A fixed count, where wrk runs for a fixed time, makes per-request
// counts repeatable: bench/callgrind_http.sh divides the server's instructions by it.
//
//	getn -a 127.0.0.1:8081 -p /json -n 50000 -c 10
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
)

func main() {
	addr := flag.String("a", "127.0.0.1:8081", "addr")
	path := flag.String("p", "/", "path")
	n := flag.Int("n", 100000, "requests")
	c := flag.Int("c", 10, "conns")
	flag.Parse()
	req := []byte("GET " + *path + " HTTP/1.1\r\nHost: " + *addr + "\r\n\r\n")
	var wg sync.WaitGroup
	per := *n / *c
	errs := make(chan error, *c)
	for i := 0; i < *c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", *addr)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			for j := 0; j < per; j++ {
				if _, err := conn.Write(req); err != nil {
					errs <- err
					return
				}
				cl := -1
				for {
					line, err := r.ReadSlice('\n')
					if err != nil {
						errs <- err
						return
					}
					if len(line) <= 2 {
						break
					}
					if bytes.HasPrefix(line, []byte("Content-Length: ")) {
						cl, _ = strconv.Atoi(string(bytes.TrimSpace(line[16:])))
					}
				}
				if _, err := io.CopyN(io.Discard, r, int64(cl)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	default:
	}
	fmt.Println(per * *c)
}
