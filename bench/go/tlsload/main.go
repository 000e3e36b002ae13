// Command tlsload drives the TLS benchmark (bench/scenarios/tls.sh) with Go's own
// crypto/tls client, the same client for every server measured:
//
//	tlsload gencert -dir D              writes D/ca.pem, D/cert.pem, D/key.pem (ECDSA P-256)
//	tlsload hs -addr A -ca F -c 32 -d 5s [-resume]
//	    full (or, with -resume, resumed) TLS 1.3 handshakes: each request is a new
//	    connection: dial, handshake, a 16-byte echo, close. Prints "hs=N secs=S hs_per_s=R
//	    resumed=M errors=E".
//	tlsload bulk -addr A -ca F -mib 64 [-conns K]
//	    K connections (default 1) at once, each writing MIB/K MiB while a second goroutine
//	    reads the echo back and checks every byte. Prints "bytes=N secs=S mib_per_s=R
//	    conns=K".
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tlsload:", err)
	os.Exit(1)
}

func writePEM(path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		fail(err)
	}
}

// gencert makes a CA and a server leaf for localhost and 127.0.0.1, both ECDSA P-256.
func gencert(dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tlsload CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		fail(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		fail(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	writePEM(filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER)
	writePEM(filepath.Join(dir, "cert.pem"), "CERTIFICATE", der)
	writePEM(filepath.Join(dir, "key.pem"), "PRIVATE KEY", keyDER)
}

func config(caFile string, resume bool) *tls.Config {
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		fail(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		fail(fmt.Errorf("no certificate in %s", caFile))
	}
	cfg := &tls.Config{
		RootCAs:          pool,
		ServerName:       "localhost",
		MinVersion:       tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.X25519},
	}
	if resume {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1024)
	}
	return cfg
}

func handshakes(addr, caFile string, conns int, d time.Duration, resume bool) {
	var total, resumed, errs int64
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One cache per worker: each resumes its own previous session, as a client
			// process reconnecting to its server does.
			cfg := config(caFile, resume)
			msg := []byte("0123456789abcdef")
			back := make([]byte, len(msg))
			for time.Now().Before(stop) {
				conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
				if err != nil {
					atomic.AddInt64(&errs, 1)
					continue
				}
				conn.SetDeadline(time.Now().Add(5 * time.Second))
				_, err = conn.Write(msg)
				if err == nil {
					_, err = io.ReadFull(conn, back)
				}
				if err != nil || !bytes.Equal(back, msg) {
					atomic.AddInt64(&errs, 1)
				} else {
					atomic.AddInt64(&total, 1)
					if conn.ConnectionState().DidResume {
						atomic.AddInt64(&resumed, 1)
					}
				}
				conn.Close()
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	fmt.Printf("hs=%d secs=%.3f hs_per_s=%.1f resumed=%d errors=%d\n", total, secs, float64(total)/secs, resumed, errs)
}

// bulk echoes mib MiB through the server over conns connections at once (mib/conns
// each), every byte checked; prints the total.
func bulk(addr, caFile string, mib, conns int) {
	cfg := config(caFile, false)
	each := (mib << 20) / conns
	start := time.Now()
	var wg sync.WaitGroup
	got := make([]int, conns)
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			got[c] = bulkOne(addr, cfg, each)
		}(c)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	total := 0
	for _, g := range got {
		total += g
	}
	fmt.Printf("bytes=%d secs=%.3f mib_per_s=%.1f conns=%d\n", total, secs, float64(total)/float64(1<<20)/secs, conns)
}

// bulkOne writes n bytes on one new connection and reads them back.
func bulkOne(addr string, cfg *tls.Config, n int) int {
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(120 * time.Second))
	chunk := make([]byte, 256<<10)
	for i := range chunk {
		chunk[i] = byte(i * 7 % 251)
	}
	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sent := 0; sent < n; {
			m := len(chunk)
			if n-sent < m {
				m = n - sent
			}
			if _, werr = conn.Write(chunk[:m]); werr != nil {
				return
			}
			sent += m
		}
	}()
	buf := make([]byte, 256<<10)
	got := 0
	for got < n {
		m, err := conn.Read(buf)
		checkEcho(buf[:m], chunk, got)
		got += m
		if err != nil {
			fail(fmt.Errorf("after %d bytes: %v", got, err))
		}
	}
	<-done
	if werr != nil {
		fail(werr)
	}
	return got
}

// checkEcho fails unless b is the echo of the repeated chunk from offset at on: every
// byte checked, a segment at a time (bytes.Equal), so that the client's check costs
// little beside the TLS work it measures.
func checkEcho(b, chunk []byte, at int) {
	for k := 0; k < len(b); {
		off := (at + k) % len(chunk)
		seg := len(chunk) - off
		if seg > len(b)-k {
			seg = len(b) - k
		}
		if !bytes.Equal(b[k:k+seg], chunk[off:off+seg]) {
			for i := 0; i < seg; i++ {
				if b[k+i] != chunk[off+i] {
					fail(fmt.Errorf("byte %d differs", at+k+i))
				}
			}
		}
		k += seg
	}
}

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: tlsload gencert|hs|bulk [flags]"))
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", ".", "gencert: where to write")
	addr := fs.String("addr", "127.0.0.1:8443", "server address")
	ca := fs.String("ca", "ca.pem", "CA certificate")
	conns := fs.Int("c", 32, "hs: concurrent workers")
	d := fs.Duration("d", 5*time.Second, "hs: how long")
	resume := fs.Bool("resume", false, "hs: resume sessions")
	mib := fs.Int("mib", 64, "bulk: MiB to send (and read back)")
	bulkConns := fs.Int("conns", 1, "bulk: connections sharing the MiB")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "gencert":
		gencert(*dir)
	case "hs":
		handshakes(*addr, *ca, *conns, *d, *resume)
	case "bulk":
		if *bulkConns < 1 {
			fail(fmt.Errorf("bulk: -conns must be at least 1"))
		}
		bulk(*addr, *ca, *mib, *bulkConns)
	default:
		fail(fmt.Errorf("unknown mode %q", os.Args[1]))
	}
}
