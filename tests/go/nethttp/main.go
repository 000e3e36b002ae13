// Command nethttp prints what Go's net/http handlers answer (ServeMux, FileServer,
// ServeFile, ServeContent, cookies) for a table of inputs, one JSON object per line, so
// that gonet's tests can compare against real Go. No sockets: every request goes
// through httptest.NewRecorder, the same way gonet's side goes through its recorder.
//
//	go run tests/go/nethttp/main.go MODE [DIR] < inputs
//
// Modes and their input lines (fields separated by TABs; blank and '#' lines skipped):
//
//	mux        METHOD HOST TARGET          the mux of registerMux below
//	fs         METHOD TARGET HEADERS       FileServer(Dir(DIR)); HEADERS is "K: V|K: V"
//	servefile  METHOD TARGET NAME HEADERS  ServeFile(w, r, DIR+"/"+NAME)
//	setcookie  NAME VALUE PATH DOMAIN EXPIRES MAXAGE FLAGS SAMESITE
//	           EXPIRES is Unix seconds or "-"; FLAGS holds 's' (Secure), 'h' (HttpOnly);
//	           SAMESITE is 0-4 (Go's SameSite values); "-" is an empty PATH or DOMAIN
//	cookies    COOKIE-HEADER-LINE          Request.Cookies() of that Cookie header
//	readset    SET-COOKIE-LINE             Response.Cookies() of that Set-Cookie line
//
// Two more modes serve over a real socket instead: "serve-mux" (the mux above) and
// "serve-fs DIR" (FileServer(Dir(DIR))) listen on 127.0.0.1:0, print the address on
// a line, and serve until standard input closes. "bench-mux N" times N requests
// through a 120-pattern mux for each of three paths, as tests/http_mux.rs does.
//
// Responses print as {"code","header","body"} with the header as sorted "Key: value"
// lines; cookie modes print {"out"}.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// registerMux registers what tests/http_mux.rs registers on gonet's ServeMux: patterns
// whose meaning Go 1.19 and Go 1.22 share.
func registerMux(mux *http.ServeMux) {
	for _, p := range []string{
		"/exact",
		"/tree/",
		"/tree/sub/",
		"/a/b",
		"/a/b/",
		"/über/",
		"example.com/",
		"example.com/host/",
		"api.example.com/v1/",
		"/x.y/z",
	} {
		p := p
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Pattern", p)
			fmt.Fprintf(w, "pattern %s path %s query %s\n", p, r.URL.Path, r.URL.RawQuery)
		})
	}
}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// benchMux: the mux of tests/http_mux.rs's routing test ({id} becomes a prefix pattern,
// Go 1.19 having no wildcards), n requests per path.
func benchMux(n int) {
	mux := http.NewServeMux()
	nop := func(http.ResponseWriter, *http.Request) {}
	for i := 0; i < 40; i++ {
		mux.HandleFunc(fmt.Sprintf("/api/v1/resource%d/", i), nop)
		mux.HandleFunc(fmt.Sprintf("/static%d/", i), nop)
		mux.HandleFunc(fmt.Sprintf("/page%d", i), nop)
	}
	w := &discard{http.Header{}}
	for _, target := range []string{"/page17", "/static23/css/site.css", "/api/v1/resource31/12345"} {
		r := httptest.NewRequest("GET", target, nil)
		mux.ServeHTTP(w, r)
		t := time.Now()
		for i := 0; i < n; i++ {
			mux.ServeHTTP(w, r)
		}
		fmt.Printf("go route %s: %v per request\n", target, time.Since(t)/time.Duration(n+1))
	}
}

func headerText(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	return b.String()
}

func printRec(rec *httptest.ResponseRecorder) {
	res := rec.Result()
	out, _ := json.Marshal(map[string]string{
		"code":   strconv.Itoa(res.StatusCode),
		"header": headerText(res.Header),
		"body":   rec.Body.String(),
	})
	fmt.Println(string(out))
}

func request(method, target, headers string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	if headers != "" && headers != "-" {
		for _, kv := range strings.Split(headers, "|") {
			k, v, _ := strings.Cut(kv, ": ")
			r.Header.Add(k, v)
		}
	}
	return r
}

func main() {
	mode := os.Args[1]
	dir := ""
	if len(os.Args) > 2 {
		dir = os.Args[2]
	}
	mux := http.NewServeMux()
	registerMux(mux)
	fileServer := http.FileServer(http.Dir(dir))
	if mode == "bench-mux" {
		n, _ := strconv.Atoi(dir)
		benchMux(n)
		return
	}
	if mode == "serve-mux" || mode == "serve-fs" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(ln.Addr().String())
		var h http.Handler = mux
		if mode == "serve-fs" {
			h = fileServer
		}
		go http.Serve(ln, h)
		io.Copy(io.Discard, os.Stdin)
		return
	}

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		line := in.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		switch mode {
		case "mux":
			r := httptest.NewRequest(f[0], f[2], nil)
			r.Host = f[1]
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, r)
			printRec(rec)
		case "fs":
			rec := httptest.NewRecorder()
			fileServer.ServeHTTP(rec, request(f[0], f[1], f[2]))
			printRec(rec)
		case "servefile":
			rec := httptest.NewRecorder()
			http.ServeFile(rec, request(f[0], f[1], f[3]), dir+"/"+f[2])
			printRec(rec)
		case "setcookie":
			dash := func(s string) string {
				if s == "-" {
					return ""
				}
				return s
			}
			c := &http.Cookie{Name: f[0], Value: f[1], Path: dash(f[2]), Domain: dash(f[3])}
			if f[4] != "-" {
				secs, _ := strconv.ParseInt(f[4], 10, 64)
				c.Expires = time.Unix(secs, 0)
			}
			c.MaxAge, _ = strconv.Atoi(f[5])
			c.Secure = strings.Contains(f[6], "s")
			c.HttpOnly = strings.Contains(f[6], "h")
			ss, _ := strconv.Atoi(f[7])
			c.SameSite = http.SameSite(ss)
			out, _ := json.Marshal(map[string]string{"out": c.String()})
			fmt.Println(string(out))
		case "cookies":
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", f[0])
			var parts []string
			for _, c := range r.Cookies() {
				parts = append(parts, c.Name+"="+c.Value)
			}
			out, _ := json.Marshal(map[string]string{"out": strings.Join(parts, "\n")})
			fmt.Println(string(out))
		case "readset":
			res := &http.Response{Header: http.Header{"Set-Cookie": {f[0]}}}
			var parts []string
			for _, c := range res.Cookies() {
				exp := "-"
				if !c.Expires.IsZero() {
					exp = strconv.FormatInt(c.Expires.Unix(), 10)
				}
				parts = append(parts, fmt.Sprintf("name=%q value=%q path=%q domain=%q expires=%s raw_expires=%q max_age=%d secure=%t http_only=%t same_site=%d unparsed=%q",
					c.Name, c.Value, c.Path, c.Domain, exp, c.RawExpires, c.MaxAge, c.Secure, c.HttpOnly, int(c.SameSite), c.Unparsed))
			}
			out, _ := json.Marshal(map[string]string{"out": strings.Join(parts, "\n")})
			fmt.Println(string(out))
		default:
			fmt.Fprintf(os.Stderr, "unknown mode %q\n", mode)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
