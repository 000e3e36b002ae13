// Go net/http hello world: the HTTP peer gonet is measured against.
//
//	go build -o go_http bench/go/http/main.go && ./go_http 127.0.0.1:8080
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	addr := "127.0.0.1:8080"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	hello := []byte("Hello, world!")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(hello)
	})
	log.Printf("go_http: listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
