// Package open picks a store implementation from a DSN. It lives apart from package store because it imports
// both implementations, which import store.
package open

import (
	"context"
	"fmt"
	"strings"

	"digitpad/server/store"
	"digitpad/server/store/postgres"
	"digitpad/server/store/sqlite"
)

// Open opens the store named by dsn: "postgres://..." or "postgresql://..." for PostgreSQL, "sqlite:FILE" or a
// plain file path for SQLite. opts (e.g. store.WithClock) go to the backend.
func Open(ctx context.Context, dsn string, opts ...store.Option) (store.Store, error) {
	kind, target, err := Parse(dsn)
	if err != nil {
		return nil, err
	}
	switch kind {
	case KindPostgres:
		return postgres.Open(ctx, target, opts...)
	default:
		return sqlite.Open(ctx, target, opts...)
	}
}

// Kinds of store.
const (
	KindSQLite   = "sqlite"
	KindPostgres = "postgres"
)

// Parse splits a DSN into its kind and what that backend's Open takes (a file path, or the DSN itself).
func Parse(dsn string) (kind, target string, err error) {
	switch {
	case dsn == "":
		return "", "", fmt.Errorf("store DSN is empty: want sqlite:FILE, FILE or postgres://...")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return KindPostgres, dsn, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		// "sqlite:///abs/file" and "sqlite://rel/file" are accepted as URL-ish spellings of "sqlite:FILE".
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if path == "" {
			return "", "", fmt.Errorf("store DSN %q: no file name", dsn)
		}
		return KindSQLite, path, nil
	case strings.Contains(dsn, "://"):
		scheme, _, _ := strings.Cut(dsn, "://")
		return "", "", fmt.Errorf("store DSN: unknown scheme %q: want sqlite:FILE, FILE or postgres://...", scheme)
	default:
		return KindSQLite, dsn, nil
	}
}
