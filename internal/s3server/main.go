// Command s3server is a small S3-compatible server for tests and single-machine setups: gofakes3 with its bbolt
// file backend, listening on 127.0.0.1. It prints "s3server listening on http://ADDR" once ready and stops on
// SIGINT/SIGTERM or when its standard input closes (so a test's server dies with the test).
//
//	s3server -addr 127.0.0.1:0 -db /tmp/s3.db -bucket digitpad-registry
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "s3server:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	db := flag.String("db", "s3.db", "bbolt file holding the buckets")
	buckets := flag.String("bucket", "", "comma-separated buckets to create when missing")
	stdinEOF := flag.Bool("exit-on-stdin-eof", false, "stop when standard input closes")
	flag.Parse()
	be, err := s3bolt.NewFile(*db)
	if err != nil {
		return fmt.Errorf("open %s: %w", *db, err)
	}
	for _, b := range strings.Split(*buckets, ",") {
		if b = strings.TrimSpace(b); b == "" {
			continue
		}
		if ok, err := be.BucketExists(b); err != nil {
			return err
		} else if !ok {
			if err := be.CreateBucket(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
	}
	faker := gofakes3.New(be, gofakes3.WithLogger(gofakes3.DiscardLog()))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *stdinEOF {
		go func() { _, _ = io.Copy(io.Discard, os.Stdin); stop() }()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("s3server listening on http://%s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
