// Package scaleout is the registry backend for several replicas: metadata in PostgreSQL (pgx), files in S3
// (registry/s3blob). Replicas see each other's changes at once through LISTEN/NOTIFY (every change notifies
// channel digitpad_registry on commit), and through the polled change sequence should that connection drop.
package scaleout

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"digitpad/registry"
	"digitpad/registry/internal/sqlmeta"
	"digitpad/registry/s3blob"
)

// migrationLock is the PostgreSQL advisory lock id that serialises schema creation by replicas starting at once.
const migrationLock = `SELECT pg_advisory_xact_lock(7261001)`

// Open connects to PostgreSQL (dsn: postgres://... or key=value form) and the bucket (blobURL: s3://BUCKET/PREFIX)
// and creates the registry tables when missing. It does not bootstrap; see registry.Registry.Bootstrap.
func Open(ctx context.Context, dsn, blobURL string, opt registry.Options) (*registry.Registry, error) {
	if blobURL == "" {
		return nil, fmt.Errorf("%w: a PostgreSQL registry needs a blob store URL (s3://BUCKET/PREFIX)", registry.ErrInvalid)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open registry database: %w", err)
	}
	db.SetMaxOpenConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open registry database: %w", err)
	}
	if err := sqlmeta.Migrate(ctx, db, migrationLock); err != nil {
		db.Close()
		return nil, err
	}
	blobs, err := s3blob.Open(ctx, blobURL)
	if err != nil {
		db.Close()
		return nil, err
	}
	if opt.Describe == "" {
		opt.Describe = "postgres + " + blobURL
	}
	sm := sqlmeta.New(db, nil)
	sm.Notify = notifyChannel
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return registry.New(&meta{Meta: sm, dsn: dsn, log: log}, blobs, opt), nil
}
