package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"digitpad/assets"
	"digitpad/registry"
	regopen "digitpad/registry/open"
	"digitpad/server"
	"digitpad/shared/protocol"
)

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// openRegistry opens (bootstrapping) the embedded registry in dir, as one process or replica would.
func openRegistry(t *testing.T, dir string) *registry.Registry {
	t.Helper()
	r, err := regopen.Open(context.Background(), regopen.Location{Registry: dir}, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// followingServer is a replica: its own registry handle on dir, following production's fp32 files.
func followingServer(t *testing.T, dir string) *testServer {
	t.Helper()
	reg := openRegistry(t, dir)
	ts := mustOpen(t, func(c *server.Config) { c.Registry = reg })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := ts.FollowRegistry(ctx, reg, registry.Ref{Model: registry.DefaultModel, Alias: registry.Production}, "fp32", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return ts
}

// registerVariantAsVersion registers a shipped variant as a new version's fp32 file: a distinguishable model.
func registerVariantAsVersion(t *testing.T, reg *registry.Registry, variant string) registry.Version {
	t.Helper()
	onnx, card := assets.Variant(variant)
	v, err := reg.Register(context.Background(), registry.DefaultModel, registry.Upload{
		Files: map[string][]byte{registry.FileONNX: onnx, registry.FileCard: card}, By: "test", Lineage: registry.Lineage{Parent: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// load predicts over HTTP and websockets until stop closes, counting answers and failures.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       []string
	announced  []map[string]bool // per websocket client: sha256s announced
	wg         sync.WaitGroup
}

func (l *load) fail(format string, a ...any) {
	l.failed.Add(1)
	l.mu.Lock()
	if len(l.errs) < 10 {
		l.errs = append(l.errs, fmt.Sprintf(format, a...))
	}
	l.mu.Unlock()
}

func startLoad(t *testing.T, urls []string, stop <-chan struct{}) *load {
	l := &load{}
	png := codePNG(t, "40213")
	body, _ := json.Marshal(protocol.Predict{Strokes: strokesJSON(writeCode(t, "4021", 400, 120)), Width: 400, Height: 120})
	for i, u := range urls {
		for k := 0; k < 2; k++ {
			l.wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					res, err := http.Post(u+"/v1/predict", "image/png", bytes.NewReader(png))
					if err != nil {
						l.fail("http: %v", err)
						continue
					}
					if res.StatusCode != http.StatusOK {
						l.fail("http status %d", res.StatusCode)
					} else {
						l.ok.Add(1)
					}
					res.Body.Close()
				}
			})
		}
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(u, "http")+"/v1/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		l.announced = append(l.announced, seen)
		l.wg.Go(func() {
			defer conn.Close()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("c%d-%d", i, n)
				if err := conn.WriteJSON(protocol.Envelope{V: protocol.Version, Type: protocol.TypePredict, ID: id, Data: body}); err != nil {
					l.fail("ws write: %v", err)
					return
				}
				for {
					var env protocol.Envelope
					conn.SetReadDeadline(time.Now().Add(20 * time.Second))
					if err := conn.ReadJSON(&env); err != nil {
						l.fail("ws read: %v", err)
						return
					}
					if env.Type == protocol.TypeModel {
						var a protocol.ModelAnnouncement
						json.Unmarshal(env.Data, &a)
						l.mu.Lock()
						seen[a.SHA256] = true
						l.mu.Unlock()
						continue
					}
					if env.Type == protocol.TypePrediction && env.ID == id {
						l.ok.Add(1)
					} else {
						l.fail("ws reply %s %s", env.Type, env.Data)
					}
					break
				}
			}
		})
	}
	return l
}

func TestRegistry_PromotionAndRollbackUnderLoadReachEveryReplica(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "registry")
	a := followingServer(t, dir)
	b := followingServer(t, dir)
	v1sha := sha(assets.Model())
	for _, s := range []*testServer{a, b} {
		if got := s.ModelInfo().SHA256; got != v1sha {
			t.Fatalf("replica starts on %s, want production = version 1 (%s)", got, v1sha)
		}
	}
	cli := openRegistry(t, dir) // the ML team's process
	v2 := registerVariantAsVersion(t, cli, "int8")
	f, _ := v2.File(registry.FileONNX)
	v2sha := f.SHA256
	stop := make(chan struct{})
	l := startLoad(t, []string{a.URL, b.URL}, stop)
	time.Sleep(time.Second)
	converge := func(want string) {
		t.Helper()
		waitWithin(t, 15*time.Second, "replicas to serve "+want[:12], func() bool {
			return a.ModelInfo().SHA256 == want && b.ModelInfo().SHA256 == want
		})
	}
	// Promote through replica a's HTTP API (compare-and-set against version 1).
	r := do(t, http.MethodPut, a.URL+"/v1/registry/models/digitpad/aliases/production", "application/json",
		[]byte(fmt.Sprintf(`{"version": %d, "expect": 1, "by": "alice", "reason": "better on the holdout"}`, v2.Version)), bearer()...)
	if r.Status != http.StatusOK {
		t.Fatalf("promote: %d %s", r.Status, r.Body)
	}
	converge(v2sha)
	time.Sleep(time.Second)
	// Roll back from another process (the CLI's registry handle).
	if _, err := cli.Rollback(context.Background(), registry.DefaultModel, registry.Production, "bob", "complaints"); err != nil {
		t.Fatal(err)
	}
	converge(v1sha)
	time.Sleep(time.Second)
	close(stop)
	l.wg.Wait()
	t.Logf("%d predictions answered, %d failed during promotion and rollback", l.ok.Load(), l.failed.Load())
	if l.failed.Load() != 0 {
		t.Errorf("%d failed requests, e.g. %v", l.failed.Load(), l.errs)
	}
	if l.ok.Load() < 20 {
		t.Errorf("only %d predictions answered: the load did not run", l.ok.Load())
	}
	for i, seen := range l.announced {
		if !seen[v2sha] || !seen[v1sha] {
			t.Errorf("websocket client %d saw announcements %v, want the promoted and the rolled-back model", i, seen)
		}
	}
	for _, s := range []*testServer{a, b} {
		var st struct{ Following server.FollowStatus }
		do(t, http.MethodGet, s.URL+"/v1/registry", "", nil, bearer()...).decode(t, &st)
		if st.Following.Version != 1 || st.Following.Want != 1 || st.Following.LastError != "" {
			t.Errorf("follow status %+v, want version 1 after the rollback", st.Following)
		}
	}
	var h []registry.AliasMove
	do(t, http.MethodGet, a.URL+"/v1/registry/models/digitpad/aliases/production/history", "", nil, bearer()...).decode(t, &h)
	if len(h) != 3 || h[1].By != "alice" || h[1].Reason != "better on the holdout" || h[2].By != "bob" || h[2].To != 1 {
		t.Errorf("history %+v", h)
	}
	var at struct{ Version int }
	do(t, http.MethodGet, a.URL+"/v1/registry/models/digitpad/aliases/production?at="+url.QueryEscape(h[1].At.Format(time.RFC3339Nano)), "", nil, bearer()...).decode(t, &at)
	if at.Version != v2.Version {
		t.Errorf("production at the promotion: %d, want %d", at.Version, v2.Version)
	}
	do(t, http.MethodGet, a.URL+"/v1/registry/models/digitpad/aliases/production", "", nil, bearer()...).decode(t, &at)
	if at.Version != 1 {
		t.Errorf("production now: %d, want 1", at.Version)
	}
}

func TestRegistry_ConcurrentPromotionsExactlyOneWins(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "registry")
	ts := followingServer(t, dir)
	reg := openRegistry(t, dir)
	v2 := registerVariantAsVersion(t, reg, "int8")
	v3 := registerVariantAsVersion(t, reg, "fp16")
	status := make([]int, 2)
	var wg sync.WaitGroup
	for i, v := range []int{v2.Version, v3.Version} {
		wg.Go(func() {
			status[i] = do(t, http.MethodPut, ts.URL+"/v1/registry/models/digitpad/aliases/production", "application/json",
				[]byte(fmt.Sprintf(`{"version": %d, "expect": 1}`, v)), bearer()...).Status
		})
	}
	wg.Wait()
	if !(status[0] == 200 && status[1] == 409 || status[0] == 409 && status[1] == 200) {
		t.Errorf("statuses %v, want one 200 and one 409", status)
	}
	r := do(t, http.MethodPut, ts.URL+"/v1/registry/models/digitpad/aliases/production", "application/json", []byte(`{"version": 1}`))
	if r.Status != http.StatusUnauthorized {
		t.Errorf("promotion without the token: %d", r.Status)
	}
}

func TestRegistry_CorruptUploadRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "registry")
	ts := followingServer(t, dir)
	post := func(files map[string][]byte, shas map[string]string) *response {
		body, _ := json.Marshal(map[string]any{"files": files, "sha256": shas, "alias": "candidate"})
		return do(t, http.MethodPost, ts.URL+"/v1/registry/models/digitpad/versions", "application/json", body, bearer()...)
	}
	good := assets.Model()
	for name, r := range map[string]*response{
		"truncated":       post(map[string][]byte{"model.onnx": good[:len(good)/3]}, nil),
		"sha256 mismatch": post(map[string][]byte{"model.onnx": good}, map[string]string{"model.onnx": sha([]byte("x"))}),
	} {
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, r.Status, r.Body)
		}
	}
	var vs []registry.Version
	do(t, http.MethodGet, ts.URL+"/v1/registry/models/digitpad/versions", "", nil, bearer()...).decode(t, &vs)
	if len(vs) != 1 {
		t.Errorf("%d versions after refused uploads, want 1", len(vs))
	}
	r := post(map[string][]byte{"model.onnx": good, "model.json": assets.ModelCard(), "report/curve.png": []byte("plot")},
		map[string]string{"model.onnx": sha(good)})
	if r.Status != http.StatusOK {
		t.Fatalf("good upload: %d %s", r.Status, r.Body)
	}
	var v registry.Version
	r.decode(t, &v)
	if v.Version != 2 || len(v.Aliases) != 1 || v.Aliases[0] != "candidate" {
		t.Errorf("registered %+v, want version 2 as candidate", v)
	}
	f := do(t, http.MethodGet, ts.URL+"/v1/registry/models/digitpad/versions/2/files/model.onnx", "", nil, bearer()...)
	if f.Status != 200 || sha(f.Body) != sha(good) || f.Header.Get("X-Content-SHA256") != sha(good) {
		t.Errorf("download: %d sha %s header %s", f.Status, sha(f.Body), f.Header.Get("X-Content-SHA256"))
	}
	if f := do(t, http.MethodGet, ts.URL+"/v1/registry/models/digitpad/versions/2/files/report%2Fcurve.png", "", nil, bearer()...); f.Status != 200 || string(f.Body) != "plot" {
		t.Errorf("report download: %d %q", f.Status, f.Body)
	}
	if r := do(t, http.MethodDelete, ts.URL+"/v1/registry/models/digitpad/versions/1", "", nil, bearer()...); r.Status != http.StatusConflict {
		t.Errorf("delete production's version: %d %s, want 409", r.Status, r.Body)
	}
	doc := do(t, http.MethodGet, ts.URL+"/openapi.json", "", nil)
	for _, p := range []string{"/v1/registry/models/{name}/aliases/{alias}", "/v1/registry/models/{name}/versions"} {
		if !strings.Contains(string(doc.Body), p) {
			t.Errorf("OpenAPI document lacks %s", p)
		}
	}
}

func TestRegistry_RestartedReplicaStartsOnNewModel(t *testing.T) {
	dir := t.TempDir()
	start := func() *server.Program {
		var out bytes.Buffer
		p := server.NewProgram(&out, &out)
		if err := p.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data", dir, "--db", "mem:", "--registry-poll", "50ms", "--variant", "fp32"}); err != nil {
			t.Fatal(err)
		}
		if err := p.Run(context.Background()); err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
		return p
	}
	p := start()
	if got := p.Server.ModelInfo().SHA256; got != sha(assets.Model()) {
		t.Fatalf("first start serves %s, want the shipped model from the new registry", got)
	}
	reg := openRegistry(t, filepath.Join(dir, "registry"))
	v2 := registerVariantAsVersion(t, reg, "int8")
	f, _ := v2.File(registry.FileONNX)
	if _, err := reg.SetAlias(context.Background(), registry.DefaultModel, registry.Production, v2.Version, 1, "t", "promote"); err != nil {
		t.Fatal(err)
	}
	waitWithin(t, 15*time.Second, "the running server to follow", func() bool { return p.Server.ModelInfo().SHA256 == f.SHA256 })
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p2 := start()
	defer p2.Close()
	if got := p2.Server.ModelInfo().SHA256; got != f.SHA256 {
		t.Errorf("restarted replica serves %s, want the promoted version %s", got, f.SHA256)
	}
}
