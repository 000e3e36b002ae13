// The classic broadcast chat server: the Go twin of examples/chat.rs. Build and run:
//
//	go run examples/go/chat.go [addr]   # addr defaults to ":8000"
//	nc localhost 8000                   # in two or more terminals
//
// The first line a client sends is its nickname; every other line goes to everyone as
// "nick: text"; "/quit" leaves. See examples/chat.rs for the whole protocol.
package main

import (
	"bufio"
	"io"
	"log"
	"net"
	"os"
	"sort"
	"strings"
	"time"
)

// A client as the broadcaster sees it.
type client struct {
	nick string
	ch   chan<- string // the client's outgoing lines, written by its clientWriter
}

// The broadcaster's three inputs, handed to every connection's handler.
type hub struct {
	entering chan<- *client
	leaving  chan<- *client
	messages chan<- string
}

func broadcaster(entering, leaving <-chan *client, messages <-chan string) {
	clients := make(map[*client]bool)
	for {
		select {
		case msg := <-messages:
			broadcast(clients, msg)
		case cli := <-entering:
			nicks := []string{cli.nick}
			for c := range clients {
				nicks = append(nicks, c.nick)
			}
			sort.Strings(nicks)
			deliver(cli, "* welcome, "+cli.nick+"; online: "+strings.Join(nicks, ", ")+"\n")
			broadcast(clients, "* "+cli.nick+" joined\n")
			clients[cli] = true
		case cli := <-leaving:
			if clients[cli] {
				delete(clients, cli)
				close(cli.ch) // its writer finishes the lines queued so far, then stops
				broadcast(clients, "* "+cli.nick+" left\n")
			}
		}
	}
}

// broadcast sends msg to every client.
func broadcast(clients map[*client]bool, msg string) {
	for cli := range clients {
		deliver(cli, msg)
	}
}

// deliver queues msg for one client without ever blocking the broadcaster.
func deliver(cli *client, msg string) {
	select {
	case cli.ch <- msg:
	default: // its queue is full: drop the line rather than stall the room
		log.Printf("%s: too slow, a line was dropped", cli.nick)
	}
}

func handleConn(conn net.Conn, h hub) {
	defer conn.Close()
	ch := make(chan string, 64)
	done := make(chan struct{})
	go clientWriter(conn, ch, done)
	ch <- "your nick?\n"
	input := bufio.NewScanner(conn)
	if !input.Scan() {
		close(ch)
		<-done
		return
	}
	nick := strings.TrimSpace(input.Text())
	if nick == "" {
		nick = conn.RemoteAddr().String()
	}
	cli := &client{nick, ch}
	h.entering <- cli
	for input.Scan() {
		line := input.Text()
		if line == "/quit" {
			break
		}
		h.messages <- nick + ": " + line + "\n"
	}
	if err := input.Err(); err != nil {
		log.Printf("%v: %v", conn.RemoteAddr(), err)
	}
	h.leaving <- cli
	<-done // the broadcaster closed ch and the writer flushed what was queued
}

func clientWriter(conn net.Conn, ch <-chan string, done chan<- struct{}) {
	defer close(done)
	for msg := range ch {
		if _, err := io.WriteString(conn, msg); err != nil {
			// A dead client: close the conn, which ends its reader too.
			log.Printf("%v: %v", conn.RemoteAddr(), err)
			conn.Close()
			for range ch { // let the broadcaster close ch as usual
			}
			return
		}
	}
}

func main() {
	addr := ":8000"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	log.SetFlags(0)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("chat: listening on %v", ln.Addr())

	entering := make(chan *client)
	leaving := make(chan *client)
	messages := make(chan string)
	h := hub{entering, leaving, messages}
	go broadcaster(entering, leaving, messages)

	var tempDelay time.Duration // how long to sleep on accept failure
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Temporary() {
				if tempDelay == 0 {
					tempDelay = 5 * time.Millisecond
				} else {
					tempDelay *= 2
				}
				if max := 1 * time.Second; tempDelay > max {
					tempDelay = max
				}
				log.Printf("accept error: %v; retrying in %v", err, tempDelay)
				time.Sleep(tempDelay)
				continue
			}
			log.Fatal(err)
		}
		tempDelay = 0
		go handleConn(conn, h)
	}
}
