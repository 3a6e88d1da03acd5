// Package schema reads numbered SQL migrations ("0001_init.sql", "0002_....sql") from an embedded folder; the
// backends apply the missing ones in order, inside one transaction, and record them in schema_migrations.
package schema

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Applied is a row of schema_migrations.
type Applied struct {
	Version   int
	Name      string
	AppliedAt time.Time
}

// Load reads dir's *.sql files, named NNNN_name.sql, sorted by version; versions must be 1, 2, 3, ... so that a
// gap (a lost file) is caught at build-test time rather than in production.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: want NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration versions must be 1..%d without gaps, found %d at position %d", len(ms), m.Version, i+1)
		}
	}
	return ms, nil
}

// Pending returns the migrations newer than the applied ones, or an error when the database was migrated by a
// newer binary (its schema is unknown to this one).
func Pending(all []Migration, applied map[int]bool) ([]Migration, error) {
	for v := range applied {
		if v > len(all) {
			return nil, fmt.Errorf("database has schema version %d, newer than this binary's %d: upgrade digitpad", v, len(all))
		}
	}
	var out []Migration
	for _, m := range all {
		if !applied[m.Version] {
			out = append(out, m)
		}
	}
	return out, nil
}
