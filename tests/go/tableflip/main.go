// The error texts of cloudflare/tableflip (Debian's golang-github-cloudflare-tableflip-dev),
// one scenario per run, for tests/upgrade_texts.rs to compare with gonet's. TF_MODE names
// the scenario; a successor started by an upgrade runs this same program with the same
// environment and does what the scenario asks of it. The parent prints one line,
// "MODE: error text", then exits; "upgraded" and "draining" also read stdin to its end
// before exiting, so the harness decides when the parent is gone.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/cloudflare/tableflip"
)

func main() {
	mode := os.Getenv("TF_MODE")
	opts := tableflip.Options{UpgradeTimeout: 5 * time.Second}
	switch mode {
	case "pidfile":
		opts.PIDFile = "/nonexistent-gonet-dir/server.pid"
	case "hang":
		opts.UpgradeTimeout = 300 * time.Millisecond
	}
	upg, err := tableflip.New(opts)
	if err != nil {
		say(mode, err)
		return
	}
	if upg.HasParent() {
		successor(mode, upg)
		return
	}
	switch mode {
	case "single":
		_, err = tableflip.New(tableflip.Options{})
	case "notready":
		err = upg.Upgrade()
	case "pidfile":
		err = upg.Ready()
	case "stopped":
		_ = upg.Ready()
		upg.Stop()
		err = upg.Upgrade()
	case "upgraded":
		_ = upg.Ready()
		if err = upgrade(upg); err == nil {
			err = upg.Upgrade()
		}
	default: // the successor decides: exit0, exit7, killed, hang, draining
		_ = upg.Ready()
		err = upgrade(upg)
	}
	say(mode, err)
	if mode == "upgraded" || mode == "draining" {
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	}
}

// successor is the process an upgrade started.
func successor(mode string, upg *tableflip.Upgrader) {
	switch mode {
	case "exit0":
		os.Exit(0)
	case "exit7":
		os.Exit(7)
	case "killed":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	case "hang":
		time.Sleep(time.Hour) // killed at the upgrade timeout
	case "draining":
		// Ready, and at once asked to upgrade while the parent still runs.
		_ = upg.Ready()
		say("draining-successor", upgrade(upg))
	default: // upgraded: ready, then gone
		_ = upg.Ready()
	}
}

// upgrade is Upgrade once the Upgrader has seen Ready: tableflip's run loop takes Ready
// and an upgrade request in whichever order its select picks, so an Upgrade right after
// Ready may still read "process is not ready yet" (bounded: 2 s).
func upgrade(upg *tableflip.Upgrader) error {
	for i := 0; ; i++ {
		err := upg.Upgrade()
		if err == nil || err.Error() != "process is not ready yet" || i == 2000 {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

func say(mode string, err error) {
	if err == nil {
		fmt.Printf("%s: <nil>\n", mode)
	} else {
		fmt.Printf("%s: %s\n", mode, err)
	}
}
