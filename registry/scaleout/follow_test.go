package scaleout_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/registry"
	"digitpad/registry/scaleout"
	"digitpad/server"
	"digitpad/server/store/sqlite"
)

// TestReplicasFollowSharedRegistry: two servers share a PostgreSQL + S3 registry; a promotion made through one
// replica's HTTP API and a rollback from a third client reach both within seconds, files downloaded from S3 and
// verified.
func TestReplicasFollowSharedRegistry(t *testing.T) {
	dsn := DSN(t)
	blobs := s3.URL("follow")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	openReg := func() *registry.Registry {
		r, err := scaleout.Open(ctx, dsn, blobs, registry.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		if _, err := r.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	var replicas []*server.Server
	for i := 0; i < 2; i++ {
		reg := openReg()
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		s, err := server.New(server.Config{Addr: "127.0.0.1:0", Store: st, Registry: reg, Token: "tok", OpenPredict: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Open(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.FollowRegistry(ctx, reg, registry.Ref{Model: registry.DefaultModel, Alias: registry.Production}, "fp32", 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, s)
	}
	v1 := sum(assets.Model())
	for _, s := range replicas {
		if s.ModelInfo().SHA256 != v1 {
			t.Fatalf("replica starts on %s, want the shipped model", s.ModelInfo().SHA256)
		}
	}
	team := openReg()
	onnx, card := assets.Variant("int8")
	v2, err := team.Register(ctx, registry.DefaultModel, registry.Upload{Files: map[string][]byte{registry.FileONNX: onnx, registry.FileCard: card}})
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"version": %d, "expect": 1, "by": "alice"}`, v2.Version)
	req, _ := http.NewRequest(http.MethodPut, replicas[0].URL()+"/v1/registry/models/digitpad/aliases/production", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("promote through replica 0: %v %v", err, res)
	}
	res.Body.Close()
	converge := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if replicas[0].ModelInfo().SHA256 == want && replicas[1].ModelInfo().SHA256 == want {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("replicas serve %s and %s, want %s", replicas[0].ModelInfo().SHA256, replicas[1].ModelInfo().SHA256, want)
	}
	converge(sum(onnx))
	if _, err := team.Rollback(ctx, registry.DefaultModel, registry.Production, "bob", "rollback"); err != nil {
		t.Fatal(err)
	}
	converge(v1)
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
