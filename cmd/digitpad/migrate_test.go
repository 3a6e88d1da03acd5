package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"digitpad/server/store/open"
)

func TestMigrate_CreatesTheSchemaAndIsRepeatable(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	for i := range 2 { // the second run finds nothing to do
		out, stderr, err := mustRun(t, "migrate", "--db", db)
		if err != nil || !strings.Contains(out, "sqlite store migrated") {
			t.Fatalf("run %d: out %q err %v stderr %s", i, out, err, stderr)
		}
	}
	s, err := open.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("migrated store: %v", err)
	}
}

func TestMigrate_BadDSNFails(t *testing.T) {
	for _, args := range [][]string{{}, {"--db", "mysql://x"}, {"--db", "sqlite:" + filepath.Join(t.TempDir(), "no", "such", "dir", "m.db")}} {
		if _, _, err := mustRun(t, append([]string{"migrate"}, args...)...); err == nil {
			t.Errorf("migrate %q: no error", args)
		}
	}
}
