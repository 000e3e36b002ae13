// Command dnstexts prints the error texts of Go 1.19's resolvers for tests/dns_errors.rs,
// without a query leaving the machine: one JSON object per line, {"case","text"}.
//
//   - "pure ...": the pure-Go resolver (Go's default with "hosts: files dns"), its
//     queries sent to a fake DNS server on loopback that this program runs (Dial
//     overridden), which answers by name: nx.test NXDOMAIN, empty.test NOERROR with no
//     records, servfail.test SERVFAIL, refused.test REFUSED, lame.test a lame referral,
//     silent.test nothing (the lookup's context ends after 300 ms). The Server in the
//     texts is still the first nameserver of /etc/resolv.conf, as Go names it.
//   - "invalid ...": names that are not domain names, refused before any query by the
//     default resolver.
//
//	go run tests/go/dnstexts/main.go
package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"strings"
	"time"
)

func emit(name, text string) {
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		Case string `json:"case"`
		Text string `json:"text"`
	}{name, text})
}

// qname reads the question name of a DNS query (after the 12-byte header).
func qname(q []byte) string {
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		n := int(q[i])
		if i+1+n > len(q) {
			break
		}
		labels = append(labels, string(q[i+1:i+1+n]))
		i += 1 + n
	}
	return strings.ToLower(strings.Join(labels, "."))
}

// answer makes the reply to q: the header with QR set and flags for the case, the
// question echoed, no records.
func answer(q []byte, name string) []byte {
	if len(q) < 12 {
		return nil
	}
	r := append([]byte(nil), q...)
	r[2] = 0x80 | (q[2] & 0x01) // QR, RD copied
	r[3] = 0x80                  // RA
	var rcode byte
	switch {
	case strings.HasPrefix(name, "nx."):
		rcode = 3
	case strings.HasPrefix(name, "servfail."):
		rcode = 2
	case strings.HasPrefix(name, "refused."):
		rcode = 5
	case strings.HasPrefix(name, "lame."):
		r[3] = 0 // no RA, not authoritative, no answer: a lame referral
	}
	r[3] |= rcode
	// QDCOUNT as asked, ANCOUNT, NSCOUNT, ARCOUNT zero.
	r[6], r[7], r[8], r[9], r[10], r[11] = 0, 0, 0, 0, 0, 0
	return r
}

func serve(pc net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		name := qname(buf[:n])
		if strings.HasPrefix(name, "silent.") {
			continue
		}
		if r := answer(buf[:n], name); r != nil {
			pc.WriteTo(r, from)
		}
	}
}

func main() {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go serve(pc)
	fake := pc.LocalAddr().String()
	r := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", fake)
		},
	}
	for _, name := range []string{"nx.test", "empty.test", "servfail.test", "refused.test", "lame.test", "silent.test"} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := r.LookupIPAddr(ctx, name)
		cancel()
		text := "<nil>"
		if err != nil {
			text = err.Error()
		}
		emit("pure "+name, text)
		if dns, ok := err.(*net.DNSError); ok {
			emit("pure "+name+" flags", strings.Join([]string{
				"notfound=" + boolText(dns.IsNotFound),
				"temporary=" + boolText(dns.IsTemporary),
				"timeout=" + boolText(dns.IsTimeout),
			}, " "))
		}
	}
	for _, name := range []string{"a..b", "-a.b", "a-.b", "256.0.0.1", "1.2.3", strings.Repeat("a", 64) + ".b", strings.Repeat("a.", 127) + "bb", "x y.test"} {
		_, err := net.LookupHost(name)
		text := "<nil>"
		if err != nil {
			text = err.Error()
		}
		emit("invalid "+name, text)
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
