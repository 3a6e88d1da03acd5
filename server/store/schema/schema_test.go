package schema_test

import (
	"testing"
	"testing/fstest"

	"digitpad/server/store/schema"
)

func TestLoad_SortsByVersion(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_index.sql": {Data: []byte("CREATE INDEX i ON t (a);")},
		"m/0001_init.sql":  {Data: []byte("CREATE TABLE t (a int);")},
		"m/README.md":      {Data: []byte("not a migration")},
	}
	ms, err := schema.Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[0].Name != "init" || ms[1].Version != 2 || ms[1].SQL != "CREATE INDEX i ON t (a);" {
		t.Errorf("Load = %+v, want init (1) then index (2)", ms)
	}
}

func TestLoad_Rejects(t *testing.T) {
	tests := []struct {
		name  string
		files []string
	}{
		{"gap in versions", []string{"0001_a.sql", "0003_c.sql"}},
		{"duplicate version", []string{"0001_a.sql", "0001_b.sql"}},
		{"no number", []string{"init.sql"}},
		{"version zero", []string{"0000_a.sql"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["m/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			if ms, err := schema.Load(fsys, "m"); err == nil {
				t.Errorf("Load(%v) = %+v, want an error", tt.files, ms)
			}
		})
	}
}

func TestPending(t *testing.T) {
	all := []schema.Migration{{Version: 1}, {Version: 2}, {Version: 3}}
	got, err := schema.Pending(all, map[int]bool{1: true})
	if err != nil || len(got) != 2 || got[0].Version != 2 || got[1].Version != 3 {
		t.Errorf("Pending(applied 1) = %+v, %v; want 2 and 3", got, err)
	}
	if got, err := schema.Pending(all, map[int]bool{1: true, 2: true, 3: true}); err != nil || len(got) != 0 {
		t.Errorf("Pending(all applied) = %+v, %v; want none", got, err)
	}
	if _, err := schema.Pending(all, map[int]bool{4: true}); err == nil {
		t.Error("Pending with version 4 applied by a newer binary: want an error")
	}
}
