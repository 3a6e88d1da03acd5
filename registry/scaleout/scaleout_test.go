package scaleout_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"digitpad/internal/s3test"
	"digitpad/registry"
	"digitpad/registry/registrytest"
	"digitpad/registry/scaleout"
)

// EnvDSN names the PostgreSQL database the tests use (scripts/pg-test.sh starts a throwaway one; `make test`
// sets it).
const EnvDSN = "DIGITPAD_TEST_POSTGRES"

var s3 *s3test.Server

// TestMain starts a real S3 server process (internal/s3server) for the package's tests.
func TestMain(m *testing.M) {
	var err error
	if s3, err = s3test.Start("digitpad-registry"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s3.Setenv()
	code := m.Run()
	s3.Close()
	os.Exit(code)
}

// DSN gives each call a fresh schema in the test database (selected with search_path); dropped at cleanup.
func DSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must test PostgreSQL (make test starts scripts/pg-test.sh)", EnvDSN)
		}
		t.Skipf("%s is not set; `make test` starts a throwaway PostgreSQL", EnvDSN)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 6)
	rand.Read(b)
	schema := "r_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestConformance(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) func() *registry.Registry {
		dsn := DSN(t)
		prefix := t.Name()
		return func() *registry.Registry {
			r, err := scaleout.Open(context.Background(), dsn, s3.URL(prefix), registry.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
	})
}

func TestOpen_RefusesMissingBucket(t *testing.T) {
	dsn := DSN(t)
	if _, err := scaleout.Open(context.Background(), dsn, "s3://no-such-bucket/x", registry.Options{}); err == nil {
		t.Fatal("opened a registry on a missing bucket")
	}
	if _, err := scaleout.Open(context.Background(), dsn, "", registry.Options{}); err == nil {
		t.Fatal("opened a PostgreSQL registry without a blob store")
	}
}

// TestWatch_PushedByNotify: with polling effectively off (an hour), a watcher still sees a promotion made by
// another replica at once, through LISTEN/NOTIFY.
func TestWatch_PushedByNotify(t *testing.T) {
	dsn := DSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	open := func() *registry.Registry {
		r, err := scaleout.Open(ctx, dsn, s3.URL("notify"), registry.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		if _, err := r.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := open(), open()
	v2, err := b.Register(ctx, registry.DefaultModel, registry.ShippedUpload())
	if err != nil {
		t.Fatal(err)
	}
	ch := a.Watch(ctx, registry.DefaultModel, registry.Production, time.Hour)
	if v := <-ch; v != 1 {
		t.Fatalf("watch starts at %d", v)
	}
	time.Sleep(200 * time.Millisecond) // let LISTEN take effect
	start := time.Now()
	if _, err := b.SetAlias(ctx, registry.DefaultModel, registry.Production, v2.Version, 1, "b", "push"); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-ch:
		if v != v2.Version {
			t.Errorf("pushed %d, want %d", v, v2.Version)
		}
		t.Logf("promotion seen %v after the move", time.Since(start).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("no push within 30 s (polling is set to an hour)")
	}
}
