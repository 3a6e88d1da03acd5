// Package fs is the embedded registry backend: a directory holding registry.db (SQLite, WAL, synchronous=FULL) and
// blobs/ (one file per stored file, named by sha256). Several processes may share the directory: SQLite's write
// lock serialises their changes, and watchers notice other processes' changes through the change sequence.
package fs

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"digitpad/registry"
	"digitpad/registry/blobdir"
	"digitpad/registry/internal/sqlmeta"
)

// Open opens (creating) the registry in dir. It does not bootstrap; see registry.Registry.Bootstrap.
func Open(ctx context.Context, dir string, opt registry.Options) (*registry.Registry, error) {
	if dir == "" || strings.ContainsAny(dir, "?#") {
		return nil, fmt.Errorf("%w: registry directory %q", registry.ErrInvalid, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("registry directory: %w", err)
	}
	path := filepath.Join(dir, "registry.db")
	db, err := sql.Open("sqlite", path+"?_busy_timeout=10000&_foreign_keys=1&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open registry %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if err := sqlmeta.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open registry %s: %w", path, err)
	}
	blobs, err := blobdir.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		db.Close()
		return nil, err
	}
	if opt.Describe == "" {
		opt.Describe = "dir " + dir
	}
	return registry.New(sqlmeta.New(db, nil), blobs, opt), nil
}
