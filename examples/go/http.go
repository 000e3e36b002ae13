// Hello world over HTTP with net/http: the Go twin of examples/http.rs. Build and run:
//
//	go run examples/go/http.go [addr]   # addr defaults to ":8081"
//	curl -i localhost:8081/ ; curl -i localhost:8081/json ; curl -i localhost:8081/nope
package main

import (
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"os"
)

type message struct {
	Message string `json:"message"`
}

func main() {
	addr := ":8081"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	log.SetFlags(0)

	mux := http.NewServeMux()
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		body, err := json.Marshal(message{"Hello, World!"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r) // 404, text/plain; charset=utf-8: "404 page not found\n"
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello, World!")
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("http: listening on %v", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}
