// Command testserver runs `digitpad serve` (server.Main) as its own process, so tests can SIGKILL and SIGTERM a
// real server without depending on the CLI in cmd/digitpad.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"digitpad/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := server.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testserver:", err)
		os.Exit(1)
	}
}
