// Command file prints what Go 1.19's net.FileListener, net.FileConn and the File
// methods say for each case tests/file.rs checks gonet against: one JSON object per
// line, {"case":"...","text":"..."}. Kernel-chosen ports print as PORT, and a file's
// name (whatever the caller named it: Go's f.Name()) as NAME where gonet cannot know
// it; /etc/hosts is named by its path on both sides.
//
//	go run tests/go/file/main.go [-unix @name]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
)

var port = regexp.MustCompile(`:[0-9]+\b`)

func emit(name, text string) {
	text = port.ReplaceAllString(text, ":PORT")
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		Case string `json:"case"`
		Text string `json:"text"`
	}{name, text})
}

func errText(err error, fileName string) string {
	if err == nil {
		return "<nil>"
	}
	s := err.Error()
	if fileName != "" {
		s = strings.Replace(s, "file+net "+fileName+":", "file+net NAME:", 1)
	}
	return s
}

func main() {
	unixName := flag.String("unix", "@gonet-file-parity", "the abstract name of the Unix listener")
	flag.Parse()
	hosts, _ := os.Open("/etc/hosts")
	_, err := net.FileListener(hosts)
	emit("listener of a regular file", errText(err, ""))
	_, err = net.FileConn(hosts)
	emit("conn of a regular file", errText(err, ""))

	bad := os.NewFile(uintptr(9999), "bad")
	_, err = net.FileListener(bad)
	emit("listener of a descriptor that is not open", errText(err, "bad"))

	pr, pw, _ := os.Pipe()
	_, err = net.FileConn(pr)
	emit("conn of a pipe", errText(err, pr.Name()))
	pr.Close()
	pw.Close()

	nl, _ := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW, 0)
	nlf := os.NewFile(uintptr(nl), "netlink")
	_, err = net.FileConn(nlf)
	emit("conn of a netlink socket", errText(err, "netlink"))
	_, err = net.FileListener(nlf)
	emit("listener of a netlink socket", errText(err, "netlink"))

	u, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	uf, _ := u.(*net.UDPConn).File()
	_, err = net.FileListener(uf)
	emit("listener of a UDP socket", errText(err, uf.Name()))

	ln, _ := net.Listen("tcp4", "127.0.0.1:0")
	lf, _ := ln.(*net.TCPListener).File()
	ln2, err := net.FileListener(lf)
	emit("listener of a TCP listener", fmt.Sprintf("%v %s %v", ln2.Addr(), ln2.Addr().Network(), err))
	ln.Close()
	_, err = ln.(*net.TCPListener).File()
	emit("file of a closed TCP listener", errText(err, ""))

	dual, _ := net.Listen("tcp", ":0")
	df, _ := dual.(*net.TCPListener).File()
	dual2, err := net.FileListener(df)
	emit("listener of a dual-stack listener", fmt.Sprintf("%v %s %v", dual2.Addr(), dual2.Addr().Network(), err))

	c, _ := net.Dial("tcp", ln2.Addr().String())
	cf, _ := c.(*net.TCPConn).File()
	c2, err := net.FileConn(cf)
	emit("conn of a TCP conn", fmt.Sprintf("%v %v %s %v", c2.LocalAddr(), c2.RemoteAddr(), c2.LocalAddr().Network(), err))
	c.Close()
	_, err = c.(*net.TCPConn).File()
	emit("file of a closed TCP conn", errText(err, ""))

	ul, _ := net.Listen("unix", *unixName)
	ulf, _ := ul.(*net.UnixListener).File()
	ul2, err := net.FileListener(ulf)
	emit("listener of a Unix listener", fmt.Sprintf("%v %s %v", ul2.Addr(), ul2.Addr().Network(), err))
	ul.Close()
	_, err = ul.(*net.UnixListener).File()
	emit("file of a closed Unix listener", errText(err, ""))

	uc, err := net.FileConn(uf)
	emit("conn of a UDP socket", fmt.Sprintf("%T %v %v %s %v", uc, uc.LocalAddr(), uc.RemoteAddr(), uc.LocalAddr().Network(), err))
	upc, err := net.FilePacketConn(uf)
	emit("packet conn of a UDP socket", fmt.Sprintf("%v %s %v", upc.LocalAddr(), upc.LocalAddr().Network(), err))
	u.Close()
	_, err = u.(*net.UDPConn).File()
	emit("file of a closed UDP socket", errText(err, ""))
	_, err = net.FilePacketConn(df)
	emit("packet conn of a TCP listener", errText(err, df.Name()))
	_, err = net.FilePacketConn(hosts)
	emit("packet conn of a regular file", errText(err, ""))
	gfds, _ := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	gpc, err := net.FilePacketConn(os.NewFile(uintptr(gfds[0]), "gram"))
	emit("packet conn of a unixgram socketpair", fmt.Sprintf("%q %s %v", gpc.LocalAddr().String(), gpc.LocalAddr().Network(), err))

	fds, _ := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET, 0)
	sp, err := net.FileConn(os.NewFile(uintptr(fds[0]), "pair"))
	emit("conn of a seqpacket socketpair", fmt.Sprintf("%q %q %s %v", sp.LocalAddr().String(), sp.RemoteAddr().String(), sp.LocalAddr().Network(), err))
}
