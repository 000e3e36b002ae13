// Command overflow is Go's side of tests/goroutines.rs's overflow check: a goroutine
// that recurses until its stack runs out. Go 1.19 prints
//
//	runtime: goroutine stack exceeds 1000000000-byte limit
//	runtime: sp=0x... stack=[0x..., 0x...]
//	fatal error: stack overflow
//
// then the stacks, and exits with status 2; the test compares gonet's first lines and
// exit status with these.
//
//	go run tests/go/overflow/overflow.go
package main

import "fmt"

// recurse keeps 256 bytes of its own in every frame, as the Rust test's does.
func recurse(n int) int {
	var buf [256]byte
	buf[n%256] = byte(n)
	return recurse(n+1) + int(buf[0])
}

func main() {
	done := make(chan int)
	go func() { done <- recurse(0) }()
	fmt.Println(<-done)
}
