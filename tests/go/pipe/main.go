// Command pipe prints what Go 1.19's net.Pipe answers in each case tests/pipe.rs checks
// gonet against: one JSON object per line, {"case":"...","text":"..."}, the text being
// "n=N err=ERROR" (or a value) for each call.
//
//	go run tests/go/pipe/main.go
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
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

func res(n int, err error) string {
	s := "<nil>"
	if err != nil {
		s = err.Error()
	}
	return fmt.Sprintf("n=%d err=%s", n, s)
}

func main() {
	a, b := net.Pipe()
	emit("local addr", fmt.Sprintf("%s %s", a.LocalAddr().Network(), a.LocalAddr()))
	emit("remote addr", fmt.Sprintf("%s %s", a.RemoteAddr().Network(), a.RemoteAddr()))

	// One write, read in three pieces.
	go func() { b.Write([]byte("hello, pipe")) }()
	buf := make([]byte, 5)
	n1, _ := a.Read(buf)
	p1 := string(buf[:n1])
	n2, _ := a.Read(buf)
	p2 := string(buf[:n2])
	n3, _ := a.Read(buf)
	p3 := string(buf[:n3])
	emit("a write read in pieces", fmt.Sprintf("%q %q %q", p1, p2, p3))

	a.SetReadDeadline(time.Now())
	emit("read past the deadline", res(a.Read(buf)))
	a.SetReadDeadline(time.Time{})
	a.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	n, err := a.Write([]byte("nobody reads"))
	emit("write past the deadline", res(n, err))
	var ne net.Error
	emit("deadline error is a timeout", fmt.Sprint(errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded)))
	a.SetWriteDeadline(time.Time{})

	// A write cut short by the reader's side closing, after part of it was read.
	done := make(chan string)
	go func() { done <- res(a.Write([]byte("0123456789"))) }()
	small := make([]byte, 4)
	b.Read(small)
	b.Close()
	emit("write cut by a close on the other end", <-done)

	emit("read after the other end closed", res(a.Read(buf)))
	emit("write after the other end closed", res(a.Write([]byte("x"))))
	emit("set deadline after the other end closed", fmt.Sprint(a.SetDeadline(time.Now())))
	emit("read after this end closed", res(b.Read(buf)))
	emit("write after this end closed", res(b.Write([]byte("x"))))
	emit("close twice", fmt.Sprint(b.Close(), b.Close()))
	emit("closed pipe error", fmt.Sprint(errors.Is(io.ErrClosedPipe, net.ErrClosed)))

	// A parked read woken by a close of its own end, and of the other end.
	c, d := net.Pipe()
	got := make(chan string)
	go func() { got <- res(c.Read(buf)) }()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	emit("parked read, own end closed", <-got)
	go func() { got <- res(d.Write([]byte("x"))) }()
	time.Sleep(20 * time.Millisecond)
	d.Close()
	emit("parked write, own end closed", <-got)

	e, f := net.Pipe()
	go func() { got <- res(e.Read(buf)) }()
	time.Sleep(20 * time.Millisecond)
	f.Close()
	emit("parked read, other end closed", <-got)

	// A zero-length write completes when a read takes it.
	g, h := net.Pipe()
	go func() { got <- res(g.Write(nil)) }()
	time.Sleep(20 * time.Millisecond)
	emit("zero-length read takes a zero-length write", res(h.Read(nil)))
	emit("zero-length write", <-got)
}
