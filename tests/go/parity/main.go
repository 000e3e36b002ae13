// Command parity prints what Go's net.Listen and net.DialTimeout answer for a table of
// inputs, one JSON object per line, so that gonet's tests can compare against real Go.
//
//	go run tests/go/parity/main.go tests/go/parity/datagram.go < tests/go/parity/inputs.tsv
//
// Input lines are OP<TAB>NETWORK<TAB>ADDRESS with OP "listen" or "dial", or one of the
// datagram, resolve and typed-call ops of datagram.go; blank lines and lines starting
// with '#' are skipped. Before reading, the program
//   - chdirs into a fresh temporary directory, so relative Unix socket paths are safe;
//   - holds a TCP listener on 127.0.0.1:0 for the whole run: "INUSE" in an address is
//     replaced by its port (a port that is taken, or a live server to dial);
//   - holds a Unix listener at the relative path "gonet-parity-live.sock";
//   - holds a UDP socket on 127.0.0.1:0 ("UDPINUSE" is its port), a unixgram socket at
//     "gonet-parity-gram-live.sock", and knows a UDP port where nothing listens
//     ("UDPFREE": bound by the kernel's choice, then closed).
//
// "TMP" at the start of an address is replaced by the temporary directory's path.
// Outputs are normalised back, so that they do not depend on the run: the temporary
// directory prints as "TMP" and the ports as "INUSE", "UDPINUSE", "UDPFREE" (when the
// input said so).
// Kernel-chosen values get a normalised twin field: addr_norm has the port replaced by
// "PORT" when the input port was 0 or empty, and an autobound Unix name ("@" + 5 hex
// digits) replaced by "@AUTO"; local_addr_norm is a dialed conn's local address with its
// port (always the kernel's choice) replaced by "PORT". The raw fields (addr, local_addr)
// are printed too, for the reader; tests/parity.rs compares every other field.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type result struct {
	Op            string `json:"op"`
	Network       string `json:"network"`
	Address       string `json:"address"`
	OK            bool   `json:"ok"`
	Addr          string `json:"addr,omitempty"`
	AddrNorm      string `json:"addr_norm,omitempty"`
	AddrNetwork   string `json:"addr_network,omitempty"`
	LocalNetwork  string `json:"local_network,omitempty"`
	LocalAddr     string `json:"local_addr,omitempty"`
	LocalAddrNorm string `json:"local_addr_norm,omitempty"`
	RemoteAddr    string `json:"remote_addr,omitempty"`
	From          string `json:"from,omitempty"`
	Err           string `json:"err,omitempty"`
}

var (
	tmpDir       string
	inusePort    string
	udpInusePort string
	udpFreePort  string
	autobind     = regexp.MustCompile(`^@[0-9a-f]{5}$`)
	trailPort    = regexp.MustCompile(`:[0-9]+$`)
)

func main() {
	// Go's own resolver (read /etc/hosts and /etc/services), never cgo's getaddrinfo: it
	// is what Go uses on a "hosts: files dns" system, and the only one whose error texts
	// do not depend on the host's libc (see README.md).
	net.DefaultResolver.PreferGo = true
	var err error
	if tmpDir, err = os.MkdirTemp("", "gonet-parity-"); err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmpDir)
	if err := os.Chdir(tmpDir); err != nil {
		fail(err)
	}
	inuse, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	defer inuse.Close()
	inusePort = strconv.Itoa(inuse.Addr().(*net.TCPAddr).Port)
	live, err := net.Listen("unix", "gonet-parity-live.sock")
	if err != nil {
		fail(err)
	}
	defer live.Close()
	udpInuse, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	defer udpInuse.Close()
	udpInusePort = strconv.Itoa(udpInuse.LocalAddr().(*net.UDPAddr).Port)
	free, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	udpFreePort = strconv.Itoa(free.LocalAddr().(*net.UDPAddr).Port)
	free.Close()
	gramLive, err := net.ListenPacket("unixgram", "gonet-parity-gram-live.sock")
	if err != nil {
		fail(err)
	}
	defer gramLive.Close()

	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		line := in.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			fail(fmt.Errorf("want OP<TAB>NETWORK<TAB>ADDRESS, got %q", line))
		}
		r := result{Op: f[0], Network: f[1], Address: f[2]}
		switch r.Op {
		case "listen":
			doListen(&r)
		case "dial":
			doDial(&r)
		default:
			op, ok := datagramOps[r.Op]
			if !ok {
				fail(fmt.Errorf("unknown op %q", r.Op))
			}
			op(&r)
		}
		if err := out.Encode(r); err != nil {
			fail(err)
		}
	}
	if err := in.Err(); err != nil {
		fail(err)
	}
}

func doListen(r *result) {
	ln, err := net.Listen(r.Network, substitute(r.Address))
	if err != nil {
		r.Err = normalise(r.Address, err.Error())
		return
	}
	defer ln.Close()
	r.OK = true
	r.Addr = normalise(r.Address, ln.Addr().String())
	r.AddrNorm = kernelChosen(r.Network, r.Address, r.Addr)
	r.AddrNetwork = ln.Addr().Network()
}

func doDial(r *result) {
	c, err := net.DialTimeout(r.Network, substitute(r.Address), 2*time.Second)
	if err != nil {
		r.Err = normalise(r.Address, err.Error())
		return
	}
	defer c.Close()
	r.OK = true
	r.LocalNetwork = c.LocalAddr().Network()
	r.LocalAddr = c.LocalAddr().String()
	// The local port of a dialed TCP conn is always the kernel's choice.
	r.LocalAddrNorm = trailPort.ReplaceAllString(r.LocalAddr, ":PORT")
	r.RemoteAddr = normalise(r.Address, c.RemoteAddr().String())
}

// substitute fills the placeholders INUSE and TMP into an input address.
func substitute(address string) string {
	if strings.HasPrefix(address, "TMP") {
		address = tmpDir + address[len("TMP"):]
	}
	address = strings.ReplaceAll(address, "UDPINUSE", udpInusePort)
	address = strings.ReplaceAll(address, "UDPFREE", udpFreePort)
	return strings.ReplaceAll(address, "INUSE", inusePort)
}

// normalise puts the placeholders back into an output string.
func normalise(address, s string) string {
	s = strings.ReplaceAll(s, tmpDir, "TMP")
	for _, p := range []struct{ name, port string }{
		{"UDPINUSE", udpInusePort},
		{"UDPFREE", udpFreePort},
		{"INUSE", inusePort},
	} {
		if mentions(address, p.name) {
			s = strings.ReplaceAll(s, ":"+p.port, ":"+p.name)
		}
	}
	return s
}

// mentions says whether address has the placeholder name ("INUSE" inside "UDPINUSE"
// does not count).
func mentions(address, name string) bool {
	if name == "INUSE" {
		address = strings.ReplaceAll(address, "UDPINUSE", "")
	}
	return strings.Contains(address, name)
}

// kernelChosen replaces what the kernel chose (a port for port 0, an autobind name for
// an empty Unix address) by PORT or @AUTO.
func kernelChosen(network, address, addr string) string {
	if strings.HasPrefix(network, "unix") {
		if address == "" && autobind.MatchString(addr) {
			return "@AUTO"
		}
		return addr
	}
	port := address // the text after the last colon, as the Rust side computes it
	if i := strings.LastIndex(address, ":"); i >= 0 {
		port = address[i+1:]
	} else if address != "" {
		return addr
	}
	if n, err := strconv.Atoi(port); port == "" || (err == nil && n == 0) {
		return trailPort.ReplaceAllString(addr, ":PORT")
	}
	return addr
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "parity:", err)
	os.Exit(2)
}
