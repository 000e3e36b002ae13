// What github.com/pires/go-proxyproto (Debian's golang-github-pires-go-proxyproto-dev)
// makes of PROXY protocol headers, for tests/proxyproto.rs to compare gonet's parser and
// writer with. Built in GOPATH mode against /usr/share/gocode.
//
// stdin: one request per line.
//
//	parse HEX              -> proxyproto.Read over the bytes; prints
//	                          "ok v=V cmd=CMD af=AF src=SRC dst=DST tlvs=HEX n=TAKEN"
//	                          or "err TEXT"
//	format V SRC DST       -> HeaderProxyFromAddrs(V, SRC, DST).Format(); SRC and DST are
//	                          tcp:HOST:PORT, udp:HOST:PORT or unix:NAME; prints "ok HEX" or
//	                          "err TEXT"
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	proxyproto "github.com/pires/go-proxyproto"
)

func addr(s string) net.Addr {
	kind, rest, _ := strings.Cut(s, ":")
	switch kind {
	case "tcp":
		a, err := net.ResolveTCPAddr("tcp", rest)
		if err != nil {
			panic(err)
		}
		return a
	case "udp":
		a, err := net.ResolveUDPAddr("udp", rest)
		if err != nil {
			panic(err)
		}
		return a
	case "unix":
		return &net.UnixAddr{Name: rest, Net: "unix"}
	}
	panic("bad address " + s)
}

func str(a net.Addr) string {
	if a == nil {
		return "-"
	}
	return a.Network() + ":" + a.String()
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "parse":
			raw := []byte{}
			if len(f) > 1 {
				var err error
				if raw, err = hex.DecodeString(f[1]); err != nil {
					panic(err)
				}
			}
			src := bytes.NewReader(raw)
			r := bufio.NewReader(src)
			h, err := proxyproto.Read(r)
			if err != nil {
				fmt.Printf("err %s\n", err)
				continue
			}
			taken := len(raw) - r.Buffered() - src.Len()
			raw2, _ := proxyproto.JoinTLVs(mustTLVs(h))
			fmt.Printf("ok v=%d cmd=%#x af=%#x src=%s dst=%s tlvs=%s n=%d\n", h.Version,
				byte(h.Command), byte(h.TransportProtocol), str(h.SourceAddr),
				str(h.DestinationAddr), hex.EncodeToString(raw2), taken)
		case "format":
			v, _ := strconv.Atoi(f[1])
			h := proxyproto.HeaderProxyFromAddrs(byte(v), addr(f[2]), addr(f[3]))
			b, err := h.Format()
			if err != nil {
				fmt.Printf("err %s\n", err)
				continue
			}
			fmt.Printf("ok %s\n", hex.EncodeToString(b))
		default:
			panic("bad request " + f[0])
		}
	}
}

func mustTLVs(h *proxyproto.Header) []proxyproto.TLV {
	t, err := h.TLVs()
	if err != nil {
		return nil
	}
	return t
}
