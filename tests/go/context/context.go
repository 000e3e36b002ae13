// Prints what Go's context package (and net's use of it) says, one case per line:
// "CASE<TAB>TEXT<TAB>canceled=B<TAB>deadline=B<TAB>timeout=B" for errors (errors.Is with
// context.Canceled and context.DeadlineExceeded, and net.Error's Timeout()), and
// "CASE<TAB>NAME" for the String() of contexts. tests/context.rs computes the same lines
// with gonet and compares them.
package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

func report(c string, err error) {
	type timeout interface{ Timeout() bool }
	var t timeout
	to := errors.As(err, &t) && t.Timeout()
	fmt.Printf("%s\t%v\tcanceled=%v\tdeadline=%v\ttimeout=%v\n", c, err,
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), to)
}

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	report("err canceled", ctx.Err())
	tctx, tcancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer tcancel()
	<-tctx.Done()
	report("err deadline", tctx.Err())
	report("Canceled", context.Canceled)
	report("DeadlineExceeded", context.DeadlineExceeded)

	c1, a := context.WithCancel(context.Background())
	defer a()
	c2, b := context.WithCancel(c1)
	defer b()
	t1, t := context.WithCancel(context.TODO())
	defer t()
	for _, n := range []struct {
		c   string
		ctx context.Context
	}{
		{"name background", context.Background()},
		{"name todo", context.TODO()},
		{"name with_cancel", c1},
		{"name nested", c2},
		{"name todo with_cancel", t1},
	} {
		fmt.Printf("%s\t%v\n", n.c, n.ctx)
	}
}
