// Command tlspeer is Go's crypto/tls on one end of a connection, for gonet's TLS interop
// and parity tests: a server or a client configured from flags, printing what Go saw
// (the handshake's error text, or what was negotiated) as one JSON object per connection.
//
//	tlspeer server -cert c.pem -key k.pem [-cert2 c2.pem -key2 k2.pem] [-n 1] ...
//	    prints "LISTEN 127.0.0.1:PORT", then one line per connection, and echoes each
//	    connection's data (after a successful handshake) until the peer closes it.
//	tlspeer client -addr A [-ca ca.pem] [-name N] ... [-send hello]
//	    prints one line per dial: the handshake's outcome and the echo of -send.
//	tlspeer keypair -cert c.pem -key k.pem
//	    prints what tls.LoadX509KeyPair says.
//	tlspeer httpsserver -cert c.pem -key k.pem
//	    net/http's Server.ServeTLS: prints "LISTEN 127.0.0.1:PORT", then answers every
//	    request with what the request's TLS state says.
//	tlspeer httpsget -url U -ca ca.pem [-n 2]
//	    net/http's client: GETs U -n times (one keep-alive connection), prints one line
//	    per response.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

type outcome struct {
	Err      string   `json:"err"`
	ReadErr  string   `json:"read_err"`
	Version  string   `json:"version"`
	Cipher   string   `json:"cipher"`
	ALPN     string   `json:"alpn"`
	SNI      string   `json:"sni"`
	PeerCN   string   `json:"peer_cn"`
	PeerDNS  []string `json:"peer_dns"`
	Resumed  bool     `json:"resumed"`
	Echo     string   `json:"echo"`
	Received int      `json:"received"`
}

func emit(o outcome) {
	b, _ := json.Marshal(o)
	fmt.Println(string(b))
}

func version(s string) uint16 {
	switch s {
	case "12":
		return tls.VersionTLS12
	case "13":
		return tls.VersionTLS13
	}
	return 0
}

func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func ciphers(s string) []uint16 {
	var out []uint16
	for _, c := range list(s) {
		v, err := strconv.ParseUint(c, 0, 16)
		if err != nil {
			fail(err)
		}
		out = append(out, uint16(v))
	}
	return out
}

func pool(file string) *x509.CertPool {
	if file == "" {
		return nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		fail(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		fail(fmt.Errorf("no certificates in %s", file))
	}
	return p
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tlspeer:", err)
	os.Exit(2)
}

func state(o *outcome, st tls.ConnectionState) {
	o.Version = versionName(st.Version)
	o.Cipher = tls.CipherSuiteName(st.CipherSuite)
	o.ALPN = st.NegotiatedProtocol
	o.SNI = st.ServerName
	o.Resumed = st.DidResume
	if len(st.PeerCertificates) > 0 {
		o.PeerCN = st.PeerCertificates[0].Subject.CommonName
		o.PeerDNS = st.PeerCertificates[0].DNSNames
	}
}

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: tlspeer server|client|keypair [flags]"))
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "server: address")
	addr := fs.String("addr", "", "client: address")
	cert := fs.String("cert", "", "certificate PEM file")
	key := fs.String("key", "", "key PEM file")
	cert2 := fs.String("cert2", "", "server: a second certificate")
	key2 := fs.String("key2", "", "server: its key")
	ca := fs.String("ca", "", "client: RootCAs; server: ClientCAs")
	name := fs.String("name", "", "client: ServerName")
	insecure := fs.Bool("insecure", false, "client: InsecureSkipVerify")
	minV := fs.String("min", "", "MinVersion: 12 or 13")
	maxV := fs.String("max", "", "MaxVersion: 12 or 13")
	alpn := fs.String("alpn", "", "NextProtos, comma-separated")
	clientAuth := fs.Int("clientauth", 0, "server: ClientAuth (0-4)")
	forceCert := fs.Bool("forcecert", false, "client: always send -cert (GetClientCertificate)")
	cipherList := fs.String("ciphers", "", "CipherSuites, comma-separated numbers")
	n := fs.Int("n", 1, "connections to serve or dials to make")
	timeout := fs.Duration("timeout", 10*time.Second, "handshake deadline")
	send := fs.String("send", "hello", "client: bytes to send and read back")
	resume := fs.Bool("resume", false, "client: a ClientSessionCache shared by the dials")
	plainDial := fs.Bool("noname", false, "client: tls.Client with no ServerName (not tls.Dial)")
	url := fs.String("url", "", "httpsget: the URL")
	fs.Parse(os.Args[2:])

	cfg := &tls.Config{
		MinVersion:   version(*minV),
		MaxVersion:   version(*maxV),
		NextProtos:   list(*alpn),
		CipherSuites: ciphers(*cipherList),
	}
	switch os.Args[1] {
	case "keypair":
		_, err := tls.LoadX509KeyPair(*cert, *key)
		o := outcome{}
		if err != nil {
			o.Err = err.Error()
		}
		emit(o)
	case "server":
		c, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			fail(err)
		}
		cfg.Certificates = []tls.Certificate{c}
		if *cert2 != "" {
			c2, err := tls.LoadX509KeyPair(*cert2, *key2)
			if err != nil {
				fail(err)
			}
			cfg.Certificates = append(cfg.Certificates, c2)
		}
		cfg.ClientAuth = tls.ClientAuthType(*clientAuth)
		cfg.ClientCAs = pool(*ca)
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			fail(err)
		}
		fmt.Println("LISTEN", ln.Addr().String())
		for i := 0; i < *n; i++ {
			raw, err := ln.Accept()
			if err != nil {
				fail(err)
			}
			conn := tls.Server(raw, cfg)
			conn.SetDeadline(time.Now().Add(*timeout))
			o := outcome{}
			if err := conn.Handshake(); err != nil {
				o.Err = err.Error()
				emit(o)
				conn.Close()
				continue
			}
			conn.SetDeadline(time.Time{})
			state(&o, conn.ConnectionState())
			// Echo until the peer closes, then report (the first read error, if any).
			buf := make([]byte, 64*1024)
			for {
				m, err := conn.Read(buf)
				o.Received += m
				if m > 0 {
					if _, werr := conn.Write(buf[:m]); werr != nil {
						break
					}
				}
				if err != nil {
					if err != io.EOF {
						o.ReadErr = err.Error()
					}
					break
				}
			}
			emit(o)
			conn.Close()
		}
	case "client":
		cfg.RootCAs = pool(*ca)
		cfg.ServerName = *name
		cfg.InsecureSkipVerify = *insecure
		if *cert != "" {
			c, err := tls.LoadX509KeyPair(*cert, *key)
			if err != nil {
				fail(err)
			}
			if *forceCert {
				cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
					return &c, nil
				}
			} else {
				cfg.Certificates = []tls.Certificate{c}
			}
		}
		if *resume {
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
		}
		for i := 0; i < *n; i++ {
			o := outcome{}
			var conn *tls.Conn
			var err error
			d := &net.Dialer{Timeout: *timeout}
			if *plainDial {
				var raw net.Conn
				raw, err = d.Dial("tcp", *addr)
				if err == nil {
					conn = tls.Client(raw, cfg)
					raw.SetDeadline(time.Now().Add(*timeout))
					err = conn.Handshake()
				}
			} else {
				conn, err = tls.DialWithDialer(d, "tcp", *addr, cfg)
			}
			if err != nil {
				o.Err = err.Error()
				emit(o)
				if conn != nil {
					conn.Close()
				}
				continue
			}
			conn.SetDeadline(time.Now().Add(*timeout))
			if _, err := conn.Write([]byte(*send)); err != nil {
				o.ReadErr = err.Error()
			} else {
				back := make([]byte, len(*send))
				if _, err := io.ReadFull(conn, back); err != nil {
					o.ReadErr = err.Error()
				} else {
					o.Echo = string(back)
				}
			}
			state(&o, conn.ConnectionState())
			emit(o)
			conn.Close()
		}
	case "httpsserver":
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			fail(err)
		}
		fmt.Println("LISTEN", ln.Addr().String())
		srv := &http.Server{Handler: http.HandlerFunc(tlsInfo)}
		fail(srv.ServeTLS(ln, *cert, *key))
	case "httpsget":
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool(*ca)}}}
		for i := 0; i < *n; i++ {
			resp, err := client.Get(*url)
			if err != nil {
				fmt.Println("error:", err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Printf("%s %s %s\n", resp.Status, resp.Proto, body)
		}
	default:
		fail(fmt.Errorf("unknown mode %q", os.Args[1]))
	}
}

// tlsInfo answers with what r.TLS says, the same words gonet's test handler uses.
func tlsInfo(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil {
		fmt.Fprint(w, "no TLS")
		return
	}
	fmt.Fprintf(w, "%s sni=%s alpn=%s", versionName(r.TLS.Version), r.TLS.ServerName, r.TLS.NegotiatedProtocol)
}
