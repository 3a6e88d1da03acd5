package server_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/registry"
)

// TestRegistry_ServerProcessFollowsPromotionByAnotherProcess runs `digitpad serve` as its own process on an
// embedded registry; this test process (standing in for `digitpad registry promote`) registers and promotes a
// version, then rolls it back, and the server process follows both.
func TestRegistry_ServerProcessFollowsPromotionByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, "--data", dir, "--db", "mem:", "--variant", "fp32", "--registry-poll", "100ms")
	defer func() { _ = p.stop(15 * time.Second) }()
	served := func() string {
		var c struct {
			SHA256 string `json:"sha256"`
		}
		r := do(t, http.MethodGet, p.url+"/v1/model", "", nil)
		if r.Status != 200 {
			return ""
		}
		r.decode(t, &c)
		return c.SHA256
	}
	if got := served(); got != sha(assets.Model()) {
		t.Fatalf("server process starts on %s, want the shipped model (version 1 of its new registry)", got)
	}
	reg := openRegistry(t, filepath.Join(dir, "registry"))
	v2 := registerVariantAsVersion(t, reg, "int8")
	f, _ := v2.File(registry.FileONNX)
	if _, err := reg.SetAlias(context.Background(), registry.DefaultModel, registry.Production, v2.Version, 1, "other-process", "promote"); err != nil {
		t.Fatal(err)
	}
	waitWithin(t, 15*time.Second, "the server process to serve the promoted version", func() bool { return served() == f.SHA256 })
	if _, err := reg.Rollback(context.Background(), registry.DefaultModel, registry.Production, "other-process", "rollback"); err != nil {
		t.Fatal(err)
	}
	waitWithin(t, 15*time.Second, "the server process to serve version 1 again", func() bool { return served() == sha(assets.Model()) })
}
