// Prints what Go's log package writes for a set of calls, one logger per case, in UTC
// with the clock normalised: tests/log.rs makes the same calls with gonet::log and
// compares the bytes. Every date becomes YYYY/MM/DD, every time hh:mm:ss, every
// microsecond field .uuuuuu, and Lshortfile's "file:line: " becomes "FILE:LINE: ".
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"regexp"
)

var (
	date  = regexp.MustCompile(`\d{4}/\d{2}/\d{2}`)
	clock = regexp.MustCompile(`\d{2}:\d{2}:\d{2}`)
	micro = regexp.MustCompile(`:ss\.\d{6}`)
	file  = regexp.MustCompile(`[A-Za-z_./]+\.go:\d+: `)
)

func show(name string, b *bytes.Buffer) {
	s := date.ReplaceAllString(b.String(), "YYYY/MM/DD")
	s = clock.ReplaceAllString(s, "hh:mm:ss")
	s = micro.ReplaceAllString(s, ":ss.uuuuuu")
	s = file.ReplaceAllString(s, "FILE:LINE: ")
	fmt.Printf("%s\t%q\n", name, s)
	b.Reset()
}

func main() {
	var b bytes.Buffer
	l := log.New(&b, "", log.LstdFlags|log.LUTC)
	l.Println("hello", "world", 42)
	show("std println", &b)
	l.Print("x=", 5, 6, "!", "a", 1.5, true)
	show("print spacing", &b)
	l.Printf("%d of %d", 1, 2)
	show("printf", &b)
	l.Print("ends in newline\n")
	show("newline kept", &b)
	l.Print("")
	show("empty", &b)
	l.Println()
	show("println nothing", &b)
	l.SetPrefix("[svc] ")
	l.Print("prefixed")
	show("prefix", &b)
	l.SetFlags(log.LstdFlags | log.LUTC | log.Lmsgprefix)
	l.Print("msgprefix")
	show("msgprefix", &b)
	l.SetFlags(log.LstdFlags | log.LUTC | log.Lmicroseconds | log.Lshortfile)
	l.Print("micro and file")
	show("micro file", &b)
	l.SetFlags(0)
	l.Print("no header")
	show("flags 0", &b)
	l.SetFlags(log.Ltime | log.LUTC)
	l.Print("time only")
	show("time only", &b)
	l.SetFlags(log.Ldate | log.LUTC | log.Lshortfile | log.Lmsgprefix)
	l.Println("date file msgprefix")
	show("date file msgprefix", &b)
	fmt.Printf("flags\t%d %d %d %d %d %d %d %d\n", log.Ldate, log.Ltime, log.Lmicroseconds,
		log.Llongfile, log.Lshortfile, log.LUTC, log.Lmsgprefix, log.LstdFlags)
	_ = os.Stdout
}
