// The net/http app of tests/http_parity.rs, in Go: the same routes as the Rust twin in
// that file (parity_handler), so the same raw requests get the same bytes back.
//
//	go run ./tests/go/httpparity   # prints "httpparity: listening on 127.0.0.1:PORT"
package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

func handler(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello, World!")
	case r.URL.Path == "/json":
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"message":"Hello, World!"}`))
	case r.URL.Path == "/sniff":
		io.WriteString(w, "<html><body>sniffed</body></html>")
	case r.URL.Path == "/big":
		w.Write([]byte(strings.Repeat("x", 5000)))
	case r.URL.Path == "/many":
		for i := 0; i < 100; i++ {
			io.WriteString(w, strings.Repeat(strconv.Itoa(i%10), 50))
		}
	case r.URL.Path == "/exact2048":
		w.Write([]byte(strings.Repeat("e", 2048)))
	case r.URL.Path == "/echo":
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read error: "+err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "len=%d body=%q", len(b), b)
	case r.URL.Path == "/noread":
		io.WriteString(w, "did not read")
	case r.URL.Path == "/panic":
		panic("boom")
	case r.URL.Path == "/flush":
		io.WriteString(w, "first ")
		w.(http.Flusher).Flush()
		io.WriteString(w, "second")
	case r.URL.Path == "/error":
		http.Error(w, "I'm a teapot, really", http.StatusTeapot)
	case r.URL.Path == "/redirect":
		http.Redirect(w, r, "target?x=1", http.StatusFound)
	case r.URL.Path == "/redirect-post":
		http.Redirect(w, r, "/elsewhere", http.StatusSeeOther)
	case r.URL.Path == "/notfound":
		http.NotFound(w, r)
	case r.URL.Path == "/cl":
		w.Header().Set("Content-Length", "5")
		io.WriteString(w, "hello")
	case r.URL.Path == "/cl-short":
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "hello")
	case r.URL.Path == "/cl-bad":
		w.Header().Set("Content-Length", "abc")
		io.WriteString(w, "hello")
	case r.URL.Path == "/early-hints":
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		io.WriteString(w, "after hints")
	case r.URL.Path == "/empty":
	case r.URL.Path == "/nocontent":
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/notmodified":
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Etag", `"x"`)
		w.WriteHeader(http.StatusNotModified)
	case r.URL.Path == "/created":
		w.Header().Set("Location", "/items/1")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "made")
	case r.URL.Path == "/odd-status":
		w.WriteHeader(299)
		io.WriteString(w, "odd")
	case r.URL.Path == "/superfluous":
		w.WriteHeader(202)
		w.WriteHeader(500)
		io.WriteString(w, "accepted")
	case r.URL.Path == "/late-header":
		w.WriteHeader(200)
		w.Header().Set("X-Late", "not sent")
		io.WriteString(w, "late")
	case r.URL.Path == "/close":
		w.Header().Set("Connection", "close")
		io.WriteString(w, "closing")
	case r.URL.Path == "/te-chunked":
		w.Header().Set("Transfer-Encoding", "chunked")
		io.WriteString(w, "self-chunked")
	case r.URL.Path == "/nodate":
		w.Header()["Date"] = nil
		io.WriteString(w, "no date")
	case r.URL.Path == "/multi":
		w.Header().Add("X-B", "2")
		w.Header().Add("X-A", "1")
		w.Header().Add("X-A", "one")
		w.Header().Set("x-lower", "canon")
		io.WriteString(w, "multi")
	case r.URL.Path == "/form":
		err := r.ParseForm()
		keys := make([]string, 0, len(r.Form))
		for k := range r.Form {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "err=%v\n", err)
		for _, k := range keys {
			fmt.Fprintf(w, "%s=%q\n", k, r.Form[k])
		}
		fmt.Fprintf(w, "post=%d\n", len(r.PostForm))
	case r.URL.Path == "/maxbytes":
		r.Body = http.MaxBytesReader(w, r.Body, 8)
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		fmt.Fprintf(w, "ok %q", b)
	case r.URL.Path == "/trailer":
		fmt.Fprintf(w, "before=%s", trailerString(r.Trailer))
		_, declared := r.Header["Trailer"]
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, " body=%q err=%v after=%s header-trailer=%v", b, err, trailerString(r.Trailer), declared)
	case r.URL.Path == "/ctx":
		fmt.Fprintf(w, "err=%v", r.Context().Err())
	case strings.HasPrefix(r.URL.Path, "/timeout/"):
		timeouts[r.URL.Path].ServeHTTP(w, r)
	case r.URL.Path == "/bodyafter":
		io.ReadAll(r.Body)
		r.Body.Close()
		_, err := r.Body.Read(make([]byte, 1))
		fmt.Fprintf(w, "%v", err)
	default:
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "method=%s uri=%s path=%q rawpath=%q query=%q proto=%s %d.%d host=%s cl=%d te=%v close=%v\n",
			r.Method, r.RequestURI, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Proto, r.ProtoMajor, r.ProtoMinor,
			r.Host, r.ContentLength, r.TransferEncoding, r.Close)
		for _, k := range keys {
			fmt.Fprintf(w, "%s: %q\n", k, r.Header[k])
		}
	}
}

// trailerString prints a trailer as its sorted keys with their values.
func trailerString(t http.Header) string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("[")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%q", k, t[k])
	}
	b.WriteString("]")
	return b.String()
}

// The TimeoutHandler routes: a handler that answers in time, one that does not (with
// and without a message), one that sets a status and a header.
var timeouts = map[string]http.Handler{
	"/timeout/fast": http.TimeoutHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Inner", "1")
		io.WriteString(w, "fast")
	}), 5*time.Second, "too slow\n"),
	"/timeout/code": http.TimeoutHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/made")
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "made")
	}), 5*time.Second, ""),
	"/timeout/slow": http.TimeoutHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		io.WriteString(w, "late")
	}), 50*time.Millisecond, "too slow\n"),
	"/timeout/default": http.TimeoutHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}), 50*time.Millisecond, ""),
}

func main() {
	log.SetFlags(0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "httpparity: listening on %v\n", ln.Addr())
	srv := &http.Server{Handler: http.HandlerFunc(handler)}
	log.Fatal(srv.Serve(ln))
}
