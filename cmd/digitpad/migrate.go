package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"digitpad/server/store/open"
)

// runMigrate applies the store's pending schema migrations and exits: the Kubernetes migration Job
// (deploy/k8s/base/job-migrate.yaml) runs it before a rollout. Opening a store migrates it (PostgreSQL under an
// advisory lock, so replicas starting at the same time wait rather than race).
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "migrate --db sqlite:FILE|postgres://...", stderr)
	dsn := fs.String("db", "", "store to migrate: sqlite:FILE | postgres://...")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("migrate: want --db DSN and no arguments")
	}
	kind, _, err := open.Parse(*dsn)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	s, err := open.Open(ctx, *dsn)
	if err != nil {
		return fmt.Errorf("migrate %s store: %w", kind, err)
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("migrate: close: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s store migrated\n", kind)
	return err
}
