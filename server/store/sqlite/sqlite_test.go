package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"digitpad/server/store"
	"digitpad/server/store/sqlite"
	"digitpad/server/store/storetest"
)

func backend() storetest.Backend {
	return storetest.Backend{
		NewDSN: func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "digitpad.db") },
		Open: func(ctx context.Context, dsn string, opts ...store.Option) (store.Store, error) {
			return sqlite.Open(ctx, dsn, opts...)
		},
	}
}

func TestStore(t *testing.T) { storetest.Run(t, backend()) }

func BenchmarkStore(b *testing.B) { storetest.Bench(b, backend()) }

func TestOpen_RejectsWhatIsNotAFilePath(t *testing.T) {
	tests := []struct{ name, path string }{
		{"empty", ""},
		{"in-memory", ":memory:"},
		{"URI", "file:x.db"},
		{"driver parameters", "x.db?_pragma=foo"},
		{"missing directory", filepath.Join(t.TempDir(), "missing-dir", "x.db")},
	}
	for _, tt := range tests {
		path := tt.path
		t.Run(tt.name, func(t *testing.T) {
			st, err := sqlite.Open(context.Background(), path)
			if err == nil {
				st.Close()
				t.Fatalf("Open(%q) succeeded, want an error", path)
			}
		})
	}
}

func TestOpen_UsesWALAndFullSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mode string
	db := rawDB(t, path)
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	sync, err := st.Synchronous(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sync != 2 {
		t.Errorf("writer's synchronous = %d, want 2 (FULL)", sync)
	}
}

// The prediction log commits without fsync (synchronous=NORMAL); the writer connection must be back on FULL
// afterwards, whether the batch was written or failed, so feedback stays durable.
func TestSavePredictions_WriterStaysFullSync(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ok := storetest.SamplePrediction("p-ok", 1)
	dupInBatch := []store.Prediction{storetest.SamplePrediction("p-1", 2), storetest.SamplePrediction("p-1", 3)}
	bad := storetest.SamplePrediction("p-bad", 4)
	bad.Result.Code = "1\x00" // rejected by validation before any write
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, c := range []struct {
		name    string
		ctx     context.Context
		ps      []store.Prediction
		wantErr bool
	}{
		{"written", ctx, []store.Prediction{ok}, false},
		{"same id twice", ctx, dupInBatch, false},
		{"invalid", ctx, []store.Prediction{bad}, true},
		{"cancelled", cancelled, []store.Prediction{storetest.SamplePrediction("p-late", 5)}, true},
	} {
		if err := st.SavePredictions(c.ctx, c.ps); (err != nil) != c.wantErr {
			t.Errorf("%s: err = %v, want error %v", c.name, err, c.wantErr)
		}
		if sync, err := st.Synchronous(ctx); err != nil || sync != 2 {
			t.Errorf("%s: writer's synchronous = %d (%v), want 2 (FULL)", c.name, sync, err)
		}
	}
	if _, _, err := st.Prediction(ctx, "p-ok"); err != nil {
		t.Errorf("written prediction: %v", err)
	}
	if _, _, err := st.Prediction(ctx, "p-late"); err == nil {
		t.Error("a batch under a cancelled context was written")
	}
}

func TestOpen_NewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db := rawDB(t, path)
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, err = sqlite.Open(context.Background(), path)
	if err == nil {
		st.Close()
		t.Fatal("Open of a database with schema version 999 succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("error = %v, want it to say the schema is newer", err)
	}
}

// A database from before migration 0003 (session 3 created the locks table on first use) migrates, keeps a
// held lock and locks as before.
func TestOpen_LocksMigrationOverAnOldDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "d.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := st.TryLock(ctx, "retrain", "old run", time.Hour); !ok || err != nil {
		t.Fatalf("TryLock: %v %v", ok, err)
	}
	st.Close()
	db := rawDB(t, path)
	if _, err := db.Exec(`DELETE FROM schema_migrations WHERE version = 3`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st, err = sqlite.Open(ctx, path); err != nil {
		t.Fatalf("reopen an old database: %v", err)
	}
	defer st.Close()
	if _, ok, err := st.TryLock(ctx, "retrain", "new run", time.Hour); ok || err != nil {
		t.Fatalf("the old run's lock was lost in the migration: ok %v err %v", ok, err)
	}
	var n int
	if err := rawDB(t, path).QueryRow(`SELECT count(*) FROM schema_migrations WHERE version = 3`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("migration 0003 recorded %d times: %v", n, err)
	}
}

// TestSaveFeedback_SurvivesSIGKILL saves records in a child process that is killed right after the last
// SaveFeedback returns: every acknowledged record must be in the file afterwards.
func TestSaveFeedback_SurvivesSIGKILL(t *testing.T) {
	const n = 20
	if path := os.Getenv("DIGITPAD_SQLITE_CHILD"); path != "" {
		child(path, n)
		return
	}
	path := filepath.Join(t.TempDir(), "d.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSaveFeedback_SurvivesSIGKILL$")
	cmd.Env = append(os.Environ(), "DIGITPAD_SQLITE_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]string{}
	sc := bufio.NewScanner(out)
	for len(acked) < n && sc.Scan() {
		if key, id, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "ACK "), " "); ok && strings.HasPrefix(sc.Text(), "ACK ") {
			acked[key] = id
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if len(acked) != n {
		t.Fatalf("child acknowledged %d records before dying, want %d", len(acked), n)
	}
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, err := st.Feedback(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range all {
		got[f.IdempotencyKey] = f.ID
	}
	for key, id := range acked {
		if got[key] != id {
			t.Errorf("acknowledged record %s (id %s): after SIGKILL the file has id %q", key, id, got[key])
		}
	}
}

func child(path string, n int) {
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	for i := 0; i < n; i++ {
		f := storetest.SampleFeedback(fmt.Sprintf("kill-%d", i), "10115")
		id, _, err := st.SaveFeedback(context.Background(), f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		fmt.Printf("ACK %s %s\n", f.IdempotencyKey, id)
	}
	// Never close: the parent kills us with the store open.
	time.Sleep(time.Minute)
	os.Exit(3)
}

func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
