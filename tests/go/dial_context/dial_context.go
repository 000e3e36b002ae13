// Prints what Go's net package says when a context ends during a dial, a listen or a
// lookup, one case per line: "CASE<TAB>TEXT<TAB>canceled=B<TAB>deadline=B<TAB>timeout=B"
// for an error (errors.Is with context.Canceled and context.DeadlineExceeded, and the
// error's Timeout()), "CASE<TAB>ok VALUE" for a success. The port of the never-accepting
// listener is printed as PORT. tests/dial_context.rs computes the same lines with gonet
// and compares them. No packet leaves the machine: every address is on loopback, and
// every name is in /etc/hosts.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

var port string

func report(c string, err error) {
	type timeout interface{ Timeout() bool }
	var t timeout
	to := errors.As(err, &t) && t.Timeout()
	text := strings.ReplaceAll(fmt.Sprint(err), ":"+port, ":PORT")
	fmt.Printf("%s\t%s\tcanceled=%v\tdeadline=%v\ttimeout=%v\n", c, text,
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), to)
}

func ok(c string, v interface{}) {
	fmt.Printf("%s\tok %v\n", c, v)
}

// fullBacklog listens with a backlog of 0 on 127.0.0.1 and fills its one accept slot,
// so that further connects hang in SYN_SENT (tests/util's FullBacklog).
func fullBacklog() string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	must(err)
	must(syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	must(syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	must(err)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	_, err = net.DialTimeout("tcp", addr, 5*time.Second)
	must(err)
	return addr
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	hang := fullBacklog()
	port = hang[strings.LastIndex(hang, ":")+1:]

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	var d net.Dialer

	for _, c := range []struct{ name, network, address string }{
		{"dial canceled ip", "tcp", "127.0.0.1:80"},
		{"dial canceled ip6", "tcp", "[::1]:80"},
		{"dial canceled tcp4", "tcp4", "127.0.0.1:80"},
		{"dial canceled localhost", "tcp", "localhost:80"},
		{"dial canceled unix", "unix", "@gonet-parity-nonexistent"},
		{"dial canceled udp", "udp", "127.0.0.1:53"},
		{"dial canceled bad network", "tcpx", "127.0.0.1:80"},
		{"dial canceled missing address", "tcp", ""},
		{"dial canceled bad port", "tcp", "127.0.0.1:99999"},
	} {
		_, err := d.DialContext(canceled, c.network, c.address)
		report(c.name, err)
	}
	_, err := d.DialContext(expired, "tcp", "127.0.0.1:80")
	report("dial expired ip", err)
	_, err = d.DialContext(expired, "tcp", "localhost:80")
	report("dial expired localhost", err)
	past := net.Dialer{Deadline: time.Now().Add(-time.Second)}
	_, err = past.Dial("tcp", "127.0.0.1:80")
	report("dialer deadline passed ip", err)
	_, err = past.Dial("tcp", "localhost:80")
	report("dialer deadline passed localhost", err)

	// A context cancelled, or timing out, while the connect waits for the handshake.
	mid, cancelMid := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancelMid)
	_, err = d.DialContext(mid, "tcp", hang)
	report("dial canceled mid-connect", err)
	soon, cancelSoon := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = d.DialContext(soon, "tcp", hang)
	cancelSoon()
	report("dial deadline mid-connect", err)
	_, err = (&net.Dialer{Timeout: 50 * time.Millisecond}).Dial("tcp", hang)
	report("dialer timeout mid-connect", err)

	var lc net.ListenConfig
	_, err = lc.Listen(canceled, "tcp", "localhost:0")
	report("listen canceled localhost", err)
	_, err = lc.Listen(expired, "tcp", "localhost:0")
	report("listen expired localhost", err)
	ln, err := lc.Listen(canceled, "tcp", "127.0.0.1:0")
	must(err)
	ok("listen canceled ip", ln.Addr().Network())
	ln.Close()
	_, err = lc.ListenPacket(canceled, "udp", "localhost:0")
	report("listen packet canceled localhost", err)

	r := net.DefaultResolver
	_, err = r.LookupIPAddr(canceled, "localhost")
	report("lookup ip canceled", err)
	_, err = r.LookupIPAddr(expired, "localhost")
	report("lookup ip expired", err)
	_, err = r.LookupIPAddr(canceled, "256.0.0.1")
	report("lookup ip canceled not a name", err)
	_, err = r.LookupIPAddr(canceled, "")
	report("lookup ip canceled empty", err)
	ips, err := r.LookupIPAddr(canceled, "127.0.0.1")
	must(err)
	ok("lookup ip canceled literal", ips[0].IP)
	hosts, err := r.LookupHost(canceled, "localhost")
	must(err)
	ok("lookup host canceled localhost", hosts)
	_, err = r.LookupHost(canceled, "256.0.0.1")
	report("lookup host canceled not a name", err)
	p, err := r.LookupPort(canceled, "tcp", "http")
	must(err)
	ok("lookup port canceled", p)
}
