package open

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"digitpad/registry"
)

func TestIsPostgres(t *testing.T) {
	for s, want := range map[string]bool{
		"postgres://u@h/db": true, "postgresql://h/db": true, "host=127.0.0.1 dbname=x": true,
		"data/registry": false, "/var/lib/digitpad/registry": false, "host=weird-dir-name": false,
	} {
		if got := IsPostgres(s); got != want {
			t.Errorf("IsPostgres(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestOpen_DirectoryCreatedAndBootstrapped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "registry")
	r, err := Open(context.Background(), Location{Registry: dir}, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v, err := r.Resolve(context.Background(), registry.Ref{Model: registry.DefaultModel, Alias: registry.Production})
	if err != nil || v.Version != 1 {
		t.Fatalf("production = %d (%v), want version 1", v.Version, err)
	}
	for _, f := range []string{"registry.db", "blobs"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := Open(context.Background(), Location{}, registry.Options{}); err == nil {
		t.Error("opened a registry with no location")
	}
	if _, err := Open(context.Background(), Location{Registry: "postgres://127.0.0.1:1/x"}, registry.Options{}); err == nil {
		t.Error("opened a PostgreSQL registry without blobs")
	}
}
