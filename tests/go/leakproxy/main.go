// Command leakproxy measures what Go does with the descriptors of a proxy whose copy
// goroutines leak: the Go half of tests/close.rs. In one process it runs an echo
// upstream, a proxy whose handler takes the first copy's report, closes both conns and
// returns while both copy goroutines stay parked holding them, and -conns clients that
// each send "ping", read it back through the proxy and reset the connection (SO_LINGER
// 0). It prints one line:
//
//	handled=5000 leaked_goroutines=10000 extra_fds=0
//
// extra_fds is the open descriptors once every handler has returned, minus those before
// the first client: Go's Close releases the descriptor whatever else holds the Conn.
//
//	go run tests/go/leakproxy/main.go -conns 5000
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func fdCount() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		panic(err)
	}
	return len(ents)
}

func echo(c net.Conn) {
	defer c.Close()
	io.Copy(c, c)
}

func handle(client net.Conn, upstream string, leak <-chan struct{}, leaked *int64) {
	defer client.Close()
	server, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer server.Close()
	done := make(chan struct{}, 2)
	for _, p := range [][2]net.Conn{{server, client}, {client, server}} {
		dst, src := p[0], p[1]
		go func() {
			io.Copy(dst, src)
			done <- struct{}{}
			atomic.AddInt64(leaked, 1)
			<-leak // leaked, holding dst and src
			atomic.AddInt64(leaked, -1)
		}()
	}
	<-done
}

func main() {
	conns := flag.Int("conns", 5000, "connections to reset")
	clients := flag.Int("clients", 8, "clients dialing at once")
	flag.Parse()

	up, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			c, err := up.Accept()
			if err != nil {
				return
			}
			go echo(c)
		}
	}()
	px, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	leak := make(chan struct{})
	var leaked, handled int64
	baseline := fdCount()
	go func() {
		for {
			c, err := px.Accept()
			if err != nil {
				return
			}
			go func() {
				handle(c, up.Addr().String(), leak, &leaked)
				atomic.AddInt64(&handled, 1)
			}()
		}
	}()

	var next int64
	var wg sync.WaitGroup
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) <= int64(*conns) {
				c, err := net.DialTimeout("tcp", px.Addr().String(), 10*time.Second)
				if err != nil {
					panic(err)
				}
				c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Write([]byte("ping")); err != nil {
					panic(err)
				}
				buf := make([]byte, 4)
				if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
					panic(fmt.Sprint("echo through the proxy: ", err))
				}
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}
		}()
	}
	wg.Wait()
	for end := time.Now().Add(60 * time.Second); atomic.LoadInt64(&handled) < int64(*conns) && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	// The upstream's echo goroutines see end of stream and close their side: give them
	// the same bounded time the gonet test gives itself.
	extra := fdCount() - baseline
	for end := time.Now().Add(30 * time.Second); extra > 0 && time.Now().Before(end); extra = fdCount() - baseline {
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Printf("handled=%d leaked_goroutines=%d extra_fds=%d\n",
		atomic.LoadInt64(&handled), atomic.LoadInt64(&leaked), extra)
	close(leak)
}
