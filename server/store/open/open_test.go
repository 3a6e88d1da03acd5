package open_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"digitpad/server/store/open"
	"digitpad/server/store/postgres"
	"digitpad/server/store/sqlite"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, dsn, kind, target string
	}{
		{"plain path", "data/digitpad.db", open.KindSQLite, "data/digitpad.db"},
		{"sqlite prefix", "sqlite:data/digitpad.db", open.KindSQLite, "data/digitpad.db"},
		{"sqlite URL with absolute path", "sqlite:///var/lib/digitpad.db", open.KindSQLite, "/var/lib/digitpad.db"},
		{"postgres", "postgres://u@db:5432/digitpad", open.KindPostgres, "postgres://u@db:5432/digitpad"},
		{"postgresql", "postgresql://u@db/digitpad?sslmode=require", open.KindPostgres, "postgresql://u@db/digitpad?sslmode=require"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, target, err := open.Parse(tt.dsn)
			if err != nil || kind != tt.kind || target != tt.target {
				t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q, nil", tt.dsn, kind, target, err, tt.kind, tt.target)
			}
		})
	}
}

func TestParse_Rejects(t *testing.T) {
	for name, dsn := range map[string]string{"empty": "", "sqlite without file": "sqlite:", "mysql": "mysql://x/y"} {
		t.Run(name, func(t *testing.T) {
			if kind, _, err := open.Parse(dsn); err == nil {
				t.Errorf("Parse(%q) = %q, nil; want an error", dsn, kind)
			}
		})
	}
}

func TestOpen_PicksTheBackend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	st, err := open.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(*sqlite.Store); !ok {
		t.Errorf("Open(sqlite:...) = %T, want *sqlite.Store", st)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not created: %v", err)
	}
	dsn := os.Getenv("DIGITPAD_TEST_POSTGRES")
	if dsn == "" {
		return // the postgres package's own tests insist on PostgreSQL in CI
	}
	pg, err := open.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if _, ok := pg.(*postgres.Store); !ok {
		t.Errorf("Open(postgres://...) = %T, want *postgres.Store", pg)
	}
}
