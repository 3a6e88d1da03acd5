package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"digitpad/server/store"
	"digitpad/server/store/postgres"
	"digitpad/server/store/storetest"
)

// EnvDSN names the database the tests use; scripts/pg-test.sh starts a throwaway one and `make test-store` sets it.
const EnvDSN = "DIGITPAD_TEST_POSTGRES"

// backend gives every test its own schema in the test database (selected with search_path), dropped afterwards.
func backend(tb testing.TB) storetest.Backend {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set: CI must test PostgreSQL (run `make test-store`, which starts scripts/pg-test.sh)", EnvDSN)
		}
		tb.Skipf("%s is not set; `make test-store` starts a throwaway PostgreSQL", EnvDSN)
	}
	admin, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("connect to %s: %v", EnvDSN, err)
	}
	tb.Cleanup(admin.Close)
	return storetest.Backend{
		NewDSN: func(tb testing.TB) string {
			tb.Helper()
			b := make([]byte, 6)
			rand.Read(b)
			name := "t_" + hex.EncodeToString(b)
			if _, err := admin.Exec(context.Background(), "CREATE SCHEMA "+name); err != nil {
				tb.Fatalf("create schema: %v", err)
			}
			tb.Cleanup(func() { admin.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE") })
			u, err := url.Parse(dsn)
			if err != nil {
				tb.Fatalf("parse %s: %v", EnvDSN, err)
			}
			q := u.Query()
			q.Set("search_path", name)
			u.RawQuery = q.Encode()
			return u.String()
		},
		Open: func(ctx context.Context, dsn string, opts ...store.Option) (store.Store, error) {
			return postgres.Open(ctx, dsn, opts...)
		},
	}
}

func TestStore(t *testing.T) { storetest.Run(t, backend(t)) }

func BenchmarkStore(b *testing.B) { storetest.Bench(b, backend(b)) }

// TestOpen_ReplicasStartingTogetherMigrateOnce opens one fresh database from several goroutines at once, as
// replicas rolling out together do.
func TestOpen_ReplicasStartingTogetherMigrateOnce(t *testing.T) {
	b := backend(t)
	dsn := b.NewDSN(t)
	const replicas = 5
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, replicas)
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = postgres.Open(context.Background(), dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	applied, err := stores[0].Migrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range applied {
		if a.Version != i+1 {
			t.Errorf("applied migrations = %+v, want versions 1..N once each", applied)
			break
		}
	}
}

func TestOpen_NewerSchemaIsRefused(t *testing.T) {
	b := backend(t)
	dsn := b.NewDSN(t)
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	raw, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(context.Background(), `INSERT INTO schema_migrations (version, name) VALUES (999, 'future')`); err != nil {
		t.Fatal(err)
	}
	st, err = postgres.Open(context.Background(), dsn)
	if err == nil {
		st.Close()
		t.Fatal("Open of a database with schema version 999 succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("error = %v, want it to say the schema is newer", err)
	}
}

func TestOpen_BadDSNDoesNotLeakPassword(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://u:s3cret@127.0.0.1:1/db?sslmode=bogus")
	if err == nil {
		t.Fatal("Open with an invalid sslmode succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q contains the password", err)
	}
}

var _ storetest.Migrator = (*postgres.Store)(nil)

// TestPrunePredictions_NothingToDeleteReadsTheLogOnce: a retention pass that finds nothing to delete (the usual
// case, every few minutes while predictions are served) reads each row of the log once, as PostgreSQL's own
// table statistics count it (tuples read by sequential and index scans), where measuring the log, the age cut
// and the size cut used to read it three times.
func TestPrunePredictions_NothingToDeleteReadsTheLogOnce(t *testing.T) {
	b := backend(t)
	u, err := url.Parse(b.NewDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "1") // one backend: its statistics can be flushed on demand, see reads
	u.RawQuery = q.Encode()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	st, err := postgres.Open(context.Background(), u.String(), store.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const rows = 300
	ps := make([]store.Prediction, rows)
	for i := range ps {
		ps[i] = storetest.SamplePrediction(fmt.Sprintf("once-%03d", i), i)
		ps[i].CreatedAt = now.Add(-time.Duration(rows-i) * time.Minute)
	}
	if err := st.SavePredictions(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	pool := postgres.Pool(st)
	var version int
	if err := pool.QueryRow(context.Background(), `SELECT current_setting('server_version_num')::int`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 150000 {
		t.Skipf("PostgreSQL %d: pg_stat_force_next_flush needs 15 or later", version)
	}
	// reads is how many predictions rows scans have read so far. A backend publishes its statistics when it
	// goes idle, at most once a second unless forced; pg_stat_force_next_flush forces it before the backend
	// answers, and the pool's single connection is the backend the pass ran on.
	reads := func() int64 {
		t.Helper()
		if _, err := pool.Exec(context.Background(), `SELECT pg_stat_force_next_flush()`); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := pool.QueryRow(context.Background(), `SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0)
			FROM pg_stat_user_tables WHERE relid = 'predictions'::regclass`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := reads()
	deleted, left, err := st.PrunePredictions(context.Background(),
		store.Retention{MaxAge: 24 * time.Hour, MaxBytes: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	if deleted != 0 || left.Rows != rows || left.Bytes <= 0 {
		t.Fatalf("pass over a young, small log: deleted %d, left %+v; want nothing deleted, %d rows", deleted, left, rows)
	}
	if got := reads() - before; got < rows || got > rows+rows/10 {
		t.Errorf("the pass read %d rows of a %d-row log; want each once", got, rows)
	}
}
