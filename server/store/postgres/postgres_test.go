package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

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
