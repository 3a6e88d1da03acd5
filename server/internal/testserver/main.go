// Command testserver runs `digitpad serve` (server.Main) as its own process, so tests can SIGKILL and SIGTERM a
// real server without depending on the CLI in cmd/digitpad.
//
// Besides the serve flags it takes --cpuprofile=FILE (anywhere among them): a CPU profile of the whole run,
// written on SIGINT/SIGTERM, for profiling under scripts/load (SERVER_FLAGS=--cpuprofile=/tmp/cpu.out).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"digitpad/server"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "testserver:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	for i, a := range args {
		if file, ok := strings.CutPrefix(a, "--cpuprofile="); ok {
			args = append(args[:i:i], args[i+1:]...)
			f, err := os.Create(file)
			if err != nil {
				return fmt.Errorf("cpu profile: %w", err)
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return fmt.Errorf("cpu profile: %w", err)
			}
			defer pprof.StopCPUProfile()
			break
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return server.Main(ctx, args, os.Stdout, os.Stderr)
}
