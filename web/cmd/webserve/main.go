// Command webserve serves the web pad on its own, for development and the browser tests, until (and besides)
// `digitpad serve`: the embedded page (or a folder with -dir), application/wasm, gzip, and no websocket.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"digitpad/web"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "webserve:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("webserve", flag.ContinueOnError)
	addr := fl.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	dir := fl.String("dir", "", "serve this folder instead of the embedded page (e.g. web/static while editing)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	var files fs.FS = web.FS()
	if *dir != "" {
		files = os.DirFS(*dir)
	}
	if _, err := fs.Stat(files, "gen/app.wasm"); err != nil {
		slog.Warn("gen/app.wasm missing: run `make web` first", "err", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: web.Handler(files, web.Options{}), ReadHeaderTimeout: 10 * time.Second}
	// The URL line is read by the browser tests to find the port.
	fmt.Printf("serving the pad at http://%s/\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}
