// Command padserver runs the real digitpad server (package server, SQLite store in a temporary folder, the
// shipped model) with the web pad from a folder, for the browser tests of server mode and outbox sync. It
// prints "serving the pad at URL" and stops on SIGTERM. Once `digitpad serve` exists it is the same wiring.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"digitpad/assets"
	"digitpad/server"
	"digitpad/server/store/open"
	"digitpad/web"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "padserver:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("padserver", flag.ContinueOnError)
	addr := fl.String("addr", "127.0.0.1:0", "listen address")
	dir := fl.String("dir", "web/static", "the pad's folder")
	db := fl.String("db", "", "store DSN (default: SQLite in a temporary folder)")
	token := fl.String("token", "", "bearer token for the admin routes (empty: admin locked)")
	openFeedback := fl.Bool("open-feedback", true, "accept feedback without a token or device credential")
	variant := fl.String("variant", "int8", "the shipped model variant the server starts with (int8: the page's)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *db == "" {
		tmp, err := os.MkdirTemp("", "digitpad-padserver-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*db = "sqlite:" + filepath.Join(tmp, "pad.db")
	}
	st, err := open.Open(ctx, *db)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	srv, err := server.New(server.Config{
		Addr: *addr, Store: st, OpenPredict: true, OpenFeedback: *openFeedback, Token: *token,
		Web: web.Handler(os.DirFS(*dir), web.Options{WS: "/v1/ws"}),
	})
	if err != nil {
		return err
	}
	// By default the variant the page ships (mk/web.mk WEB_MODEL), so page and server start on one model.
	if err := srv.SetModel(assets.Variant(*variant)); err != nil {
		return fmt.Errorf("set model: %w", err)
	}
	if err := srv.Open(); err != nil {
		return err
	}
	fmt.Printf("serving the pad at %s/\n", srv.URL())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
