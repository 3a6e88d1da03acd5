// Package registrytest is the conformance suite every registry backend passes: Run it from the backend's tests.
package registrytest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/registry"
)

// Opener returns a function that opens the same fresh, empty registry each time it is called (two calls are two
// processes or replicas sharing the backend). The suite closes what it opens.
type Opener func(t *testing.T) func() *registry.Registry

// Run runs the suite.
func Run(t *testing.T, newRegistry Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, func() *registry.Registry)
	}{
		{"BootstrapRegistersShippedModel", testBootstrap},
		{"RegisterWithLineageAndRead", testRegister},
		{"RefusesCorruptUploads", testRefuse},
		{"AliasCompareAndSetHistoryRollback", testAliases},
		{"ConcurrentPromotionsOneWins", testConcurrentPromotions},
		{"DeleteVersion", testDelete},
		{"Tags", testTags},
		{"SweepRemovesOrphans", testSweep},
		{"WatchSeesOtherOpeners", testWatch},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newRegistry(t)) })
	}
}

func open(t *testing.T, o func() *registry.Registry) *registry.Registry {
	t.Helper()
	r := o()
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return r
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func hexSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func bootstrap(t *testing.T, r *registry.Registry) registry.Version {
	t.Helper()
	v, err := r.Bootstrap(ctx(t))
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return v
}

func fp32Upload() registry.Upload {
	return registry.Upload{Files: map[string][]byte{registry.FileONNX: assets.Model(), registry.FileCard: assets.ModelCard()}}
}

func testBootstrap(t *testing.T, o func() *registry.Registry) {
	r := open(t, o)
	c := ctx(t)
	v := bootstrap(t, r)
	if v.Version != 1 || v.Model != registry.DefaultModel {
		t.Fatalf("bootstrap registered %s v%d, want %s v1", v.Model, v.Version, registry.DefaultModel)
	}
	if len(v.Aliases) != 1 || v.Aliases[0] != registry.Production {
		t.Errorf("version 1 aliases %v, want [production]", v.Aliases)
	}
	for _, variant := range assets.Variants {
		onnx, _ := assets.Variant(variant)
		name, _, _, _ := registry.VariantFiles(variant)
		f, ok := v.File(name)
		if !ok {
			t.Errorf("shipped version lacks %s", name)
			continue
		}
		if f.SHA256 != hexSHA(onnx) || f.Size != int64(len(onnx)) {
			t.Errorf("%s: sha256 %s size %d, want %s %d", name, f.SHA256, f.Size, hexSHA(onnx), len(onnx))
		}
		b, err := r.ReadFile(c, v, name)
		if err != nil || hexSHA(b) != hexSHA(onnx) {
			t.Errorf("read %s: %v (sha %s)", name, err, hexSHA(b))
		}
	}
	for _, g := range []string{registry.FileGraph, registry.FileGraphInt8} {
		if f, ok := v.File(g); !ok || f.Size == 0 {
			t.Errorf("graph file %s missing from the shipped version", g)
		}
	}
	// Idempotent, also from a second opener.
	r2 := open(t, o)
	v2 := bootstrap(t, r2)
	if v2.Version != 1 {
		t.Errorf("second bootstrap gave version %d, want 1", v2.Version)
	}
	if m, err := r2.Model(c, registry.DefaultModel); err != nil || m.LatestVersion != 1 {
		t.Errorf("after two bootstraps: %+v %v, want one version", m, err)
	}
	if h, err := r.History(c, registry.DefaultModel, registry.Production); err != nil || len(h) != 1 || h[0].From != 0 || h[0].To != 1 {
		t.Errorf("production history %+v %v, want one move 0 -> 1", h, err)
	}
}

func testRegister(t *testing.T, o func() *registry.Registry) {
	r := open(t, o)
	c := ctx(t)
	bootstrap(t, r)
	u := fp32Upload()
	u.By, u.Description, u.Source = "ml-team", "fine-tuned on corrections", "train run 42"
	u.Lineage = registry.Lineage{Parent: 1, DataDigest: "sha256:abc", FeedbackFrom: "f-100", FeedbackTo: "f-2100",
		CodeVersion: "deadbeef", Seed: 7, Command: "digitpad retrain --promote"}
	u.Metrics = map[string]float64{"mnist_test_accuracy": 0.9931}
	u.Tags = map[string]string{"stage": "candidate"}
	u.SHA256 = map[string]string{registry.FileONNX: hexSHA(assets.Model())}
	report := []byte("\x89PNG\r\n\x1a\n not really, but stored as given")
	u.Files["report/per_class.png"] = report
	v, err := r.Register(c, registry.DefaultModel, u)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if v.Version != 2 {
		t.Fatalf("got version %d, want 2", v.Version)
	}
	got, err := r.Version(c, registry.DefaultModel, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lineage != u.Lineage || got.Metrics["mnist_test_accuracy"] != 0.9931 || got.Tags["stage"] != "candidate" ||
		got.CreatedBy != "ml-team" || got.Description != u.Description || got.Source != u.Source {
		t.Errorf("version read back as %+v", got)
	}
	if _, ok := got.File(registry.FileONNXInt8); ok {
		t.Errorf("version 2 has an int8 file it was not given")
	}
	if _, ok := got.File(registry.FileGraph); !ok {
		t.Errorf("version 2 has no graph file")
	}
	if b, err := r.ReadFile(c, got, "report/per_class.png"); err != nil || string(b) != string(report) {
		t.Errorf("report file: %q %v", b, err)
	}
	if _, err := r.Resolve(c, registry.Ref{Model: registry.DefaultModel, Version: 9}); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("resolve missing version: %v, want ErrNotFound", err)
	}
	if _, err := r.Register(c, "nope", fp32Upload()); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("register into a missing model: %v, want ErrNotFound", err)
	}
	if _, err := r.CreateModel(c, registry.DefaultModel, "", nil); !errors.Is(err, registry.ErrExists) {
		t.Errorf("create existing model: %v, want ErrExists", err)
	}
	vs, err := r.Versions(c, registry.DefaultModel)
	if err != nil || len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 {
		t.Errorf("versions: %v %v", len(vs), err)
	}
}

func testRefuse(t *testing.T, o func() *registry.Registry) {
	r := open(t, o)
	c := ctx(t)
	bootstrap(t, r)
	good := assets.Model()
	truncated := good[:len(good)/2]
	garbage := []byte("this is not an ONNX file at all, it is a text file")
	// Weights overwritten with 0xFF bytes (NaN floats): the file still parses, the smoke evaluation catches it.
	flipped := append([]byte(nil), good...)
	for i := len(flipped) / 4; i < len(flipped)*3/4; i++ {
		flipped[i] = 0xFF
	}
	cases := []struct {
		name string
		u    registry.Upload
	}{
		{"truncated", registry.Upload{Files: map[string][]byte{registry.FileONNX: truncated}}},
		{"garbage", registry.Upload{Files: map[string][]byte{registry.FileONNX: garbage}}},
		{"NaN weights", registry.Upload{Files: map[string][]byte{registry.FileONNX: flipped}}},
		{"sha256 mismatch", registry.Upload{Files: map[string][]byte{registry.FileONNX: good},
			SHA256: map[string]string{registry.FileONNX: hexSHA(truncated)}}},
		{"card names another file", registry.Upload{Files: map[string][]byte{registry.FileONNX: good,
			registry.FileCard: []byte(`{"sha256":"` + hexSHA(garbage) + `"}`)}}},
		{"card not JSON", registry.Upload{Files: map[string][]byte{registry.FileONNX: good, registry.FileCard: []byte("{")}}},
		{"corrupt int8 variant", registry.Upload{Files: map[string][]byte{registry.FileONNX: good, registry.FileONNXInt8: garbage}}},
		{"unknown file", registry.Upload{Files: map[string][]byte{registry.FileONNX: good, "evil.sh": garbage}}},
		{"report path escape", registry.Upload{Files: map[string][]byte{registry.FileONNX: good, "report/../../x.png": garbage}}},
		{"no model", registry.Upload{Files: map[string][]byte{registry.FileCard: assets.ModelCard()}}},
	}
	for _, tc := range cases {
		_, err := r.Register(c, registry.DefaultModel, tc.u)
		if !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", tc.name, err)
			continue
		}
		t.Logf("%s: %v", tc.name, err)
	}
	m, err := r.Model(c, registry.DefaultModel)
	if err != nil || m.LatestVersion != 1 {
		t.Errorf("after refused uploads: latest version %d (%v), want 1", m.LatestVersion, err)
	}
	for _, b := range [][]byte{truncated, garbage, flipped} {
		if ok, err := r.HasFile(c, hexSHA(b)); err != nil || ok {
			t.Errorf("a refused file was stored (%v)", err)
		}
	}
}

func testAliases(t *testing.T, o func() *registry.Registry) {
	r := open(t, o)
	c := ctx(t)
	bootstrap(t, r)
	v2, err := r.Register(c, registry.DefaultModel, fp32Upload())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetAlias(c, registry.DefaultModel, registry.Candidate, v2.Version, registry.ExpectNone, "retrain", "gate passed"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetAlias(c, registry.DefaultModel, registry.Candidate, 1, registry.ExpectNone, "x", ""); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("create existing alias with ExpectNone: %v, want ErrConflict", err)
	}
	before := time.Now()
	mv, err := r.SetAlias(c, registry.DefaultModel, registry.Production, v2.Version, 1, "alice", "better on feedback holdout")
	if err != nil {
		t.Fatalf("promote: %v", err)
	}
	if mv.From != 1 || mv.To != 2 || mv.By != "alice" || mv.Reason != "better on feedback holdout" {
		t.Errorf("move %+v", mv)
	}
	if _, err := r.SetAlias(c, registry.DefaultModel, registry.Production, 1, 1, "bob", "stale"); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("stale compare-and-set: %v, want ErrConflict", err)
	}
	if _, err := r.SetAlias(c, registry.DefaultModel, registry.Production, 99, registry.ExpectAny, "bob", ""); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("alias to a missing version: %v, want ErrNotFound", err)
	}
	if _, err := r.SetAlias(c, registry.DefaultModel, "v3", 1, registry.ExpectAny, "bob", ""); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("alias named like a version: %v, want ErrInvalid", err)
	}
	got, err := r.Resolve(c, registry.Ref{Model: registry.DefaultModel, Alias: registry.Production})
	if err != nil || got.Version != 2 {
		t.Fatalf("production -> %d (%v), want 2", got.Version, err)
	}
	rb, err := r.Rollback(c, registry.DefaultModel, registry.Production, "carol", "")
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if rb.From != 2 || rb.To != 1 || rb.Reason == "" {
		t.Errorf("rollback move %+v", rb)
	}
	h, err := r.History(c, registry.DefaultModel, registry.Production)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]int{{0, 1}, {1, 2}, {2, 1}}
	if len(h) != len(want) {
		t.Fatalf("history %+v, want %d moves", h, len(want))
	}
	for i, w := range want {
		if h[i].From != w[0] || h[i].To != w[1] || h[i].Alias != registry.Production {
			t.Errorf("history[%d] = %+v, want %d -> %d", i, h[i], w[0], w[1])
		}
		if i > 0 && (h[i].Seq <= h[i-1].Seq || h[i].At.Before(h[i-1].At)) {
			t.Errorf("history not in order: %+v after %+v", h[i], h[i-1])
		}
	}
	if h[1].By != "alice" || h[2].By != "carol" {
		t.Errorf("history lost who: %+v", h)
	}
	all, err := r.History(c, registry.DefaultModel, "")
	if err != nil || len(all) != 4 {
		t.Errorf("all aliases' history: %d moves (%v), want 4", len(all), err)
	}
	// Which version was in production at a time: between the promotion and the rollback it was 2.
	if v, err := r.AliasAt(c, registry.DefaultModel, registry.Production, h[1].At); err != nil || v != 2 {
		t.Errorf("production at the promotion: %d (%v), want 2", v, err)
	}
	if v, err := r.AliasAt(c, registry.DefaultModel, registry.Production, before.Add(-time.Hour)); err != nil || v != 0 {
		t.Errorf("production an hour before: %d (%v), want 0", v, err)
	}
	if _, err := r.DeleteAlias(c, registry.DefaultModel, registry.Candidate, 2, "x", "done"); err != nil {
		t.Errorf("delete alias: %v", err)
	}
	if _, err := r.Resolve(c, registry.Ref{Model: registry.DefaultModel, Alias: registry.Candidate}); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("deleted alias resolves: %v", err)
	}
}

func testConcurrentPromotions(t *testing.T, o func() *registry.Registry) {
	r := open(t, o)
	r2 := open(t, o)
	c := ctx(t)
	bootstrap(t, r)
	var targets []int
	for i := 0; i < 2; i++ {
		v, err := r.Register(c, registry.DefaultModel, fp32Upload())
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, v.Version)
	}
	for round := 0; round < 3; round++ {
		cur, err := r.Resolve(c, registry.Ref{Model: registry.DefaultModel, Alias: registry.Production})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			reg := r
			if i%2 == 1 {
				reg = r2
			}
			to := targets[i%2]
			if to == cur.Version {
				to = 1
			}
			wg.Go(func() {
				_, errs[i] = reg.SetAlias(c, registry.DefaultModel, registry.Production, to, cur.Version, "racer", "race")
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, registry.ErrConflict):
				t.Errorf("round %d: %v, want success or ErrConflict", round, err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d promotions won, want exactly 1", round, won)
		}
	}
}

func testDelete(t *testing.T, o func() *registry.Registry) {
	r := open(t, o)
	c := ctx(t)
	bootstrap(t, r)
	u := fp32Upload()
	u.Files[registry.FileCard] = []byte(`{"name":"to-delete"}`)
	v2, err := r.Register(c, registry.DefaultModel, u)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteVersion(c, registry.DefaultModel, 1); !errors.Is(err, registry.ErrInUse) {
		t.Errorf("delete production's version: %v, want ErrInUse", err)
	}
	if _, err := r.SetAlias(c, registry.DefaultModel, registry.Candidate, v2.Version, registry.ExpectNone, "x", ""); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteVersion(c, registry.DefaultModel, v2.Version); !errors.Is(err, registry.ErrInUse) {
		t.Errorf("delete candidate's version: %v, want ErrInUse", err)
	}
	if _, err := r.DeleteAlias(c, registry.DefaultModel, registry.Candidate, registry.ExpectAny, "x", ""); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteVersion(c, registry.DefaultModel, v2.Version); err != nil {
		t.Fatalf("delete unaliased version: %v", err)
	}
	if _, err := r.Version(c, registry.DefaultModel, v2.Version); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("deleted version still there: %v", err)
	}
	card, _ := v2.File(registry.FileCard)
	if ok, _ := r.HasFile(c, card.SHA256); ok {
		t.Errorf("deleted version's own card is still stored")
	}
	onnx, _ := v2.File(registry.FileONNX)
	if ok, _ := r.HasFile(c, onnx.SHA256); !ok {
		t.Errorf("the ONNX file version 1 shares was deleted with version 2")
	}
	v3, err := r.Register(c, registry.DefaultModel, fp32Upload())
	if err != nil || v3.Version != 3 {
		t.Errorf("after deleting 2 the next version is %d (%v), want 3 (numbers are not reused)", v3.Version, err)
	}
}

func testTags(t *testing.T, o func() *registry.Registry) {
	r := open(t, o)
	c := ctx(t)
	bootstrap(t, r)
	if err := r.SetModelTag(c, registry.DefaultModel, "team", "ml"); err != nil {
		t.Fatal(err)
	}
	if err := r.SetVersionTag(c, registry.DefaultModel, 1, "validated", "yes"); err != nil {
		t.Fatal(err)
	}
	m, _ := r.Model(c, registry.DefaultModel)
	v, _ := r.Version(c, registry.DefaultModel, 1)
	if m.Tags["team"] != "ml" || v.Tags["validated"] != "yes" {
		t.Errorf("tags: model %v version %v", m.Tags, v.Tags)
	}
	if err := r.DeleteVersionTag(c, registry.DefaultModel, 1, "validated"); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteModelTag(c, registry.DefaultModel, "team"); err != nil {
		t.Fatal(err)
	}
	m, _ = r.Model(c, registry.DefaultModel)
	v, _ = r.Version(c, registry.DefaultModel, 1)
	if len(m.Tags) != 0 || len(v.Tags) != 0 {
		t.Errorf("tags after delete: model %v version %v", m.Tags, v.Tags)
	}
	if err := r.SetVersionTag(c, registry.DefaultModel, 42, "k", "v"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("tag a missing version: %v, want ErrNotFound", err)
	}
}

func testSweep(t *testing.T, o func() *registry.Registry) {
	r := open(t, o)
	c := ctx(t)
	v := bootstrap(t, r)
	orphan := []byte("a file stored by a registration that crashed before recording its version")
	if err := r.Blobs().Put(c, "sha256/"+hexSHA(orphan), orphan); err != nil {
		t.Fatal(err)
	}
	if del, err := r.Sweep(c, time.Hour); err != nil || len(del) != 0 {
		t.Errorf("sweep with an hour's grace deleted %v (%v), want nothing: the orphan is fresh", del, err)
	}
	if ok, _ := r.HasFile(c, hexSHA(orphan)); !ok {
		t.Fatal("the fresh orphan is gone")
	}
	del, err := r.Sweep(c, -time.Hour) // everything counts as old
	if err != nil || len(del) != 1 || del[0] != "sha256/"+hexSHA(orphan) {
		t.Errorf("sweep deleted %v (%v), want only the orphan", del, err)
	}
	for _, f := range v.Files {
		if _, err := r.ReadFile(c, v, f.Name); err != nil {
			t.Errorf("after the sweep, %s of version 1: %v", f.Name, err)
		}
	}
}

func testWatch(t *testing.T, o func() *registry.Registry) {
	r := open(t, o)
	other := open(t, o)
	c := ctx(t)
	bootstrap(t, r)
	v2, err := other.Register(c, registry.DefaultModel, fp32Upload())
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(c)
	defer cancel()
	ch := r.Watch(wctx, registry.DefaultModel, registry.Production, 20*time.Millisecond)
	next := func() int {
		select {
		case v := <-ch:
			return v
		case <-time.After(20 * time.Second):
			t.Fatal("watch sent nothing within 20 s")
			return 0
		}
	}
	if v := next(); v != 1 {
		t.Fatalf("watch starts at %d, want 1", v)
	}
	if _, err := other.SetAlias(c, registry.DefaultModel, registry.Production, v2.Version, 1, "other", "promote"); err != nil {
		t.Fatal(err)
	}
	if v := next(); v != v2.Version {
		t.Errorf("watch saw %d after the promotion, want %d", v, v2.Version)
	}
	if _, err := other.Rollback(c, registry.DefaultModel, registry.Production, "other", ""); err != nil {
		t.Fatal(err)
	}
	if v := next(); v != 1 {
		t.Errorf("watch saw %d after the rollback, want 1", v)
	}
}
