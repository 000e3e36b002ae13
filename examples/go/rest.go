// A small JSON REST service with net/http: the Go twin of examples/rest.rs. Build and run:
//
//	go run examples/go/rest.go [addr [grace]]   # defaults: ":8082" "10s"
//	curl -i -d '{"name":"apple","qty":3}' localhost:8082/items
//	curl -i localhost:8082/items ; curl -i localhost:8082/items/1
//	curl -i -X DELETE localhost:8082/items/1
//
// The routes, as Go 1.22's ServeMux patterns write them (examples/rest.rs registers
// exactly these patterns):
//
//	GET    /items        200: the items in id order, [{"id":1,"name":"apple","qty":3}]
//	POST   /items        201, Location: /items/ID: the new item; 400 on a body that is
//	                     not an item in JSON, a missing name or a negative qty; 413 past
//	                     64 KiB of body
//	GET    /items/{id}   200: the item; 404 if there is none; 400 if id is no number
//	DELETE /items/{id}   204; 404 if there is none
//
// Go 1.19 has no method or wildcard patterns, so this twin registers "/items" and
// "/items/" and routes by hand, giving the answers Go 1.22's mux gives: 405 with an Allow
// header for another method (GET patterns serve HEAD too, so Allow names it), and
// "404 page not found" for a path no pattern matches ("/items/", "/items/1/x"). (One
// case differs: an escaped slash, /items/a%2Fb, is a 400 there and a 404 here.)
//
// Every response is logged, Go's log format: "2009/11/10 23:00:00 GET /items 200 42"
// (method, request URI, status, body bytes). On SIGINT or SIGTERM the server stops
// accepting, prints "rest: shutting down", lets the requests in flight finish (up to
// grace), prints "rest: stopped" and exits 0; past grace it exits 1 with
// "rest: shutdown: context deadline exceeded".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxBody is the most a POST body may hold.
const maxBody = 64 << 10

type item struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Qty  int    `json:"qty"`
}

// store holds the items in memory, behind a mutex: handlers run concurrently.
type store struct {
	mu     sync.Mutex
	items  map[int]item
	nextID int
}

func newStore() *store {
	return &store{items: map[int]item{}, nextID: 1}
}

// writeJSON sends v as JSON with status code: one line and a newline, as
// json.Encoder writes it.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// GET /items
func (s *store) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	items := make([]item, 0, len(s.items))
	for _, it := range s.items {
		items = append(items, it)
	}
	s.mu.Unlock()
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	writeJSON(w, http.StatusOK, items)
}

// POST /items
func (s *store) create(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		writeError(w, http.StatusBadRequest, "cannot read the request body")
		return
	}
	var in struct {
		Name string `json:"name"`
		Qty  int    `json:"qty"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, `want {"name": string, "qty": integer}`)
		return
	}
	if in.Name == "" {
		writeError(w, http.StatusBadRequest, "name is required")
		return
	}
	if in.Qty < 0 {
		writeError(w, http.StatusBadRequest, "qty must not be negative")
		return
	}
	s.mu.Lock()
	it := item{ID: s.nextID, Name: in.Name, Qty: in.Qty}
	s.items[it.ID] = it
	s.nextID++
	s.mu.Unlock()
	w.Header().Set("Location", "/items/"+strconv.Itoa(it.ID))
	writeJSON(w, http.StatusCreated, it)
}

// GET /items/{id}
func (s *store) get(w http.ResponseWriter, r *http.Request, idText string) {
	id, err := strconv.Atoi(idText) // Go 1.22: strconv.Atoi(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "id must be a number")
		return
	}
	s.mu.Lock()
	it, ok := s.items[id]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "no such item")
		return
	}
	writeJSON(w, http.StatusOK, it)
}

// DELETE /items/{id}
func (s *store) delete(w http.ResponseWriter, r *http.Request, idText string) {
	id, err := strconv.Atoi(idText)
	if err != nil {
		writeError(w, http.StatusBadRequest, "id must be a number")
		return
	}
	s.mu.Lock()
	_, ok := s.items[id]
	delete(s.items, id)
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "no such item")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// What Go 1.22's mux answers a method no pattern for the path has.
func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
}

// "/items": Go 1.22's "GET /items" and "POST /items".
func (s *store) routeItems(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.list(w, r)
	case http.MethodPost:
		s.create(w, r)
	default:
		methodNotAllowed(w, "GET, HEAD, POST")
	}
}

// "/items/": Go 1.22's "GET /items/{id}" and "DELETE /items/{id}".
func (s *store) routeItem(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/items/")
	if id == "" || strings.Contains(id, "/") { // {id} is one non-empty segment
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.get(w, r, id)
	case http.MethodDelete:
		s.delete(w, r, id)
	default:
		methodNotAllowed(w, "DELETE, GET, HEAD")
	}
}

// statusRecorder is a ResponseWriter that remembers the status code and counts the body
// bytes, for the log line.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (rec *statusRecorder) WriteHeader(code int) {
	rec.status = code
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *statusRecorder) Write(b []byte) (int, error) {
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += n
	return n, err
}

// logging logs every request once its handler has answered it.
func logging(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.Printf("%s %s %d %d", r.Method, r.RequestURI, rec.status, rec.bytes)
	})
}

func main() {
	addr, grace := ":8082", 10*time.Second
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	if len(os.Args) > 2 {
		d, err := time.ParseDuration(os.Args[2])
		if err != nil {
			log.Fatal(err)
		}
		grace = d
	}

	s := newStore()
	mux := http.NewServeMux()
	mux.HandleFunc("/items", s.routeItems)
	mux.HandleFunc("/items/", s.routeItem)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: logging(mux), ReadHeaderTimeout: 5 * time.Second}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() {
		<-sigs
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()

	log.Printf("rest: listening on %v", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	// Serve returns as soon as Shutdown has closed the listener; Shutdown goes on
	// waiting for the requests in flight.
	log.Print("rest: shutting down")
	if err := <-done; err != nil {
		log.Fatalf("rest: shutdown: %v", err)
	}
	log.Print("rest: stopped")
}
