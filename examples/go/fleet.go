// A fleet of echo servers on one port: the Go twin of examples/fleet.rs. Build and run:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run examples/go/fleet.go ADDR WORKERS [--proxy-protocol]
//
// (github.com/pires/go-proxyproto from Debian's golang-github-pires-go-proxyproto-dev.)
//
// It starts WORKERS copies of itself (the same executable, re-exec'd with FLEET_WORKER
// set), each listening on ADDR with SO_REUSEPORT set by a ListenConfig.Control hook; the
// kernel spreads the connections over them. Every accepted connection first gets one
// line, "remote=<the client's address as the worker sees it> pid=<the worker's pid>",
// and is then echoed until the client closes it. With --proxy-protocol every connection
// must open with a PROXY protocol header (go-proxyproto, the REQUIRE policy), and
// remote= is the client's address it carries.
//
// With port 0 the first worker picks the port and the others join it. The parent prints
// "fleet: worker I pid P" for each worker, then "fleet: listening on ADDR" once all of
// them listen. On SIGINT or SIGTERM it stops the workers (each closes its listener and
// lets its connections finish, 5 s of grace) and prints "fleet: stopped"; a worker that
// dies on its own is reported ("fleet: worker I pid P exited: STATUS").
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
)

const workerEnv = "FLEET_WORKER"
const proxyFlag = "--proxy-protocol"
const grace = 5 * time.Second

// soReuseport is SO_REUSEPORT on Linux (golang.org/x/sys/unix.SO_REUSEPORT; the syscall
// package does not have it).
const soReuseport = 0xf

func main() {
	log.SetFlags(0)
	if os.Getenv(workerEnv) != "" {
		if len(os.Args) < 2 {
			log.Fatal("fleet worker: no address")
		}
		worker(os.Args[1], len(os.Args) > 2 && os.Args[2] == proxyFlag)
		return
	}
	proxy := len(os.Args) == 4 && os.Args[3] == proxyFlag
	if len(os.Args) != 3 && !proxy {
		log.Fatal("usage: fleet ADDR WORKERS [" + proxyFlag + "]")
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 || n > 256 {
		log.Fatalf("fleet: WORKERS must be 1 to 256, not %q", os.Args[2])
	}
	parent(os.Args[1], n, proxy)
}

type exited struct {
	i      int
	pid    int
	status string
}

func parent(addr string, n int, proxy bool) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	exits := make(chan exited, n)

	var procs []*os.Process
	listening := addr
	for i := 0; i < n; i++ {
		cmd, at, err := startWorker(i, listening, proxy)
		if err != nil {
			stop(procs)
			log.Fatalf("fleet: worker %d: %v", i, err)
		}
		log.Printf("fleet: worker %d pid %d", i, cmd.Process.Pid)
		procs = append(procs, cmd.Process)
		listening = at
		go func(i int, cmd *exec.Cmd) {
			err := cmd.Wait()
			status := cmd.ProcessState.String()
			if cmd.ProcessState == nil {
				status = err.Error()
			}
			exits <- exited{i, cmd.Process.Pid, status}
		}(i, cmd)
	}
	log.Printf("fleet: listening on %s", listening)

	running, stopping := n, false
	for running > 0 {
		select {
		case <-sigs:
			if !stopping {
				stopping = true
				stop(procs)
			}
		case e := <-exits:
			running--
			if !stopping {
				log.Printf("fleet: worker %d pid %d exited: %s", e.i, e.pid, e.status)
			}
		}
	}
	log.Print("fleet: stopped")
}

// startWorker starts worker i on addr and waits for the address it listens on (its
// first line on stdout).
func startWorker(i int, addr string, proxy bool) (*exec.Cmd, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	args := []string{addr}
	if proxy {
		args = append(args, proxyFlag)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", workerEnv, i))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if at := strings.TrimSpace(line); at != "" {
		return cmd, at, nil
	}
	cmd.Wait()
	return nil, "", fmt.Errorf("exited before listening: %v", cmd.ProcessState)
}

func stop(procs []*os.Process) {
	for _, p := range procs {
		p.Signal(syscall.SIGTERM)
	}
}

func handle(conn net.Conn) {
	if pc, ok := conn.(*proxyproto.Conn); ok {
		// The header is read on first use: a connection without a valid one is closed
		// unanswered (go-proxyproto would otherwise greet it with the balancer's address).
		if _, err := pc.Read(nil); err != nil {
			return
		}
	}
	fmt.Fprintf(conn, "remote=%v pid=%d\n", conn.RemoteAddr(), os.Getpid())
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

func worker(addr string, proxy bool) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReuseport, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr())
	if proxy {
		ln = &proxyproto.Listener{Listener: ln, Policy: func(net.Addr) (proxyproto.Policy, error) {
			return proxyproto.REQUIRE, nil
		}}
	}

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	go func() {
		<-sigs
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			break
		}
		if err != nil {
			log.Printf("accept error: %v", err)
			time.Sleep(5 * time.Millisecond)
			continue
		}
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
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		<-done
	}
}
