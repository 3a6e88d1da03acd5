package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"digitpad/assets"
	"digitpad/registry"
	"digitpad/server"
	"digitpad/server/rollout"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/train/export"
)

// swappedModel is the shipped model with two classes' outputs exchanged: a candidate that reads a and b as each
// other and everything else as production does (a bad candidate with a known failure).
func swappedModel(t *testing.T, a, b int) (onnx, card []byte) {
	t.Helper()
	base, baseCard := assets.Variant("fp32")
	net, err := export.Import(base)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(net.Params) - 1; i >= 0; i-- {
		p := net.Params[i]
		if len(p.Shape) == 2 && p.Shape[1] == 10 && p.Trainable { // the last dense layer's weights, [in, 10]
			for r := 0; r < p.Shape[0]; r++ {
				row := p.Data[r*10 : (r+1)*10]
				row[a], row[b] = row[b], row[a]
			}
			if i+1 < len(net.Params) && len(net.Params[i+1].Shape) == 1 && net.Params[i+1].Shape[0] == 10 {
				bias := net.Params[i+1].Data
				bias[a], bias[b] = bias[b], bias[a]
			}
			break
		}
	}
	onnx, err = export.ONNX(net, export.Options{Name: fmt.Sprintf("swapped-%d-%d", a, b)})
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(baseCard, &c); err != nil {
		t.Fatal(err)
	}
	c["name"], c["sha256"] = fmt.Sprintf("swapped-%d-%d", a, b), sha(onnx)
	card, _ = json.Marshal(c)
	return onnx, card
}

// registerCandidate registers onnx as a new version and points the candidate alias at it.
func registerCandidate(t *testing.T, reg *registry.Registry, onnx, card []byte) registry.Version {
	t.Helper()
	ctx := context.Background()
	v, err := reg.Register(ctx, registry.DefaultModel, registry.Upload{
		Files: map[string][]byte{registry.FileONNX: onnx, registry.FileCard: card}, By: "test", Lineage: registry.Lineage{Parent: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetAlias(ctx, registry.DefaultModel, registry.Candidate, v.Version, registry.ExpectAny, "test", "new candidate"); err != nil {
		t.Fatal(err)
	}
	return v
}

// rolloutServer is a server following production and the candidate alias of reg.
func rolloutServer(t *testing.T, reg *registry.Registry, rc server.RolloutConfig, opts ...func(*server.Config)) *testServer {
	t.Helper()
	ts := mustOpen(t, append([]func(*server.Config){func(c *server.Config) { c.Registry, c.Rollout = reg, rc }}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := ts.FollowRegistry(ctx, reg, registry.Ref{Model: registry.DefaultModel, Alias: registry.Production}, "fp32", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := ts.FollowCandidate(ctx, reg, registry.Ref{Model: registry.DefaultModel, Alias: registry.Candidate}, "fp32", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return ts
}

func getRollout(t *testing.T, base string) server.RolloutStatus {
	t.Helper()
	var st server.RolloutStatus
	r := do(t, http.MethodGet, base+"/v1/rollout", "", nil)
	if r.Status != 200 {
		t.Fatalf("GET /v1/rollout: %d %s", r.Status, r.Body)
	}
	r.decode(t, &st)
	return st
}

// codeWith writes random five-digit codes that contain at least one of the digits in must.
func codeWith(rng *rand.Rand, must string) string {
	b := make([]byte, 5)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	b[rng.IntN(5)] = must[rng.IntN(len(must))]
	return string(b)
}

// The shadow runs the candidate on every production prediction (rate 1) without changing any answer, compares
// the codes, and when the clerks' confirmed codes arrive scores each version exactly as an independent run of
// the two models on the same strokes says it should; the counts are in /v1/rollout and the metrics.
func TestShadow_ComparesAndScoresCandidateBesideProduction(t *testing.T) {
	reg := openRegistry(t, t.TempDir())
	candONNX, candCard := swappedModel(t, 3, 8)
	cv := registerCandidate(t, reg, candONNX, candCard)
	ts := rolloutServer(t, reg, server.RolloutConfig{Shadow: true, ShadowRate: 1, ShadowQueue: 256})
	prodRec, err := onnxrec.New(assets.Model(), assets.ModelCard(), recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	candRec, err := onnxrec.New(candONNX, candCard, recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	prodSHA := prodRec.Info().SHA256
	rng := rand.New(rand.NewPCG(14, 1))
	const n = 16
	type shot struct{ id, truth, prod, cand string }
	var shots []shot
	for i := 0; i < n; i++ {
		truth := codeWith(rng, "38")
		if i%2 == 1 {
			truth = codeWith(rng, "0124") // codes both versions read alike
		}
		strokes := writeCode(t, truth, 600, 160)
		r := postJSON(t, ts.URL+"/v1/predict", map[string]any{"strokes": strokesJSON(strokes), "width": 600, "height": 160})
		if r.Status != 200 {
			t.Fatalf("predict: %d %s", r.Status, r.Body)
		}
		var p protocol.Prediction
		r.decode(t, &p)
		if p.Model.SHA256 != prodSHA {
			t.Fatalf("answer from model %s, want production's %s: the shadow must never answer", p.Model.SHA256, prodSHA)
		}
		want, err := candRec.Strokes(strokes, 600, 160, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		shots = append(shots, shot{id: p.ID, truth: truth, prod: p.Code, cand: want.Code})
	}
	waitFor(t, "every prediction compared", func() bool {
		st := getRollout(t, ts.URL)
		return len(st.Shadow.Pairs) == 1 && st.Shadow.Pairs[0].Compared == n
	})
	want := server.ShadowPair{Production: 1, Candidate: cv.Version, Compared: n, Scored: n}
	for i, s := range shots {
		f := sampleFeedback(fmt.Sprint("shadow-", i), s.truth)
		f.PredictionID, f.Predicted, f.ModelSHA256 = s.id, s.prod, prodSHA
		if r := postJSON(t, ts.URL+"/v1/feedback", f, bearer()...); r.Status != http.StatusCreated {
			t.Fatalf("feedback: %d %s", r.Status, r.Body)
		}
		if s.prod == s.cand {
			want.Agreed++
		}
		if s.prod == s.truth {
			want.ProductionRight++
		}
		if s.cand == s.truth {
			want.CandidateRight++
		}
	}
	got := getRollout(t, ts.URL).Shadow.Pairs[0]
	t.Logf("shadow pair: %+v", got)
	if got != want {
		t.Fatalf("shadow pair %+v, want %+v", got, want)
	}
	if want.CandidateRight >= want.ProductionRight || want.Agreed == n {
		t.Fatalf("the swapped candidate should read fewer codes right and disagree sometimes: %+v", want)
	}
	metrics := string(do(t, http.MethodGet, ts.URL+"/metrics", "", nil).Body)
	for _, line := range []string{
		fmt.Sprintf(`digitpad_shadow_compared_total{candidate_version="%d"} %d`, cv.Version, n),
		fmt.Sprintf(`digitpad_shadow_agreed_total{candidate_version="%d"} %d`, cv.Version, want.Agreed),
		fmt.Sprintf(`digitpad_shadow_right_total{role="candidate",version="%d"} %d`, cv.Version, want.CandidateRight),
		fmt.Sprintf(`digitpad_shadow_right_total{role="production",version="1"} %d`, want.ProductionRight),
		fmt.Sprintf(`digitpad_shadow_scored_total{role="candidate",version="%d"} %d`, cv.Version, n),
	} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}
}

// gatedLoader serves fake engines: production's answers at once, the candidate's Classify blocks until gate
// closes, so the shadow worker is stuck.
func gatedLoader(candSHA string, gate chan struct{}) func(*server.Config) {
	prod := &fakeEngine{info: recognize.ModelInfo{Name: "prod", SHA256: strings.Repeat("1", 64)}}
	cand := &fakeEngine{info: recognize.ModelInfo{Name: "cand", SHA256: strings.Repeat("2", 64)}, gate: gate}
	return func(c *server.Config) {
		c.Loader = func(onnx, card []byte) (server.Engine, error) {
			if sha(onnx) == candSHA {
				return cand, nil
			}
			return prod, nil
		}
	}
}

// A shadow that cannot keep up drops canvases rather than slowing serving: with the candidate stuck, every
// prediction is still answered by production, the queue holds ShadowQueue canvases and the rest are counted as
// dropped; once the candidate moves again it compares what was queued.
func TestShadow_FullQueueDropsInsteadOfSlowingServing(t *testing.T) {
	reg := openRegistry(t, t.TempDir())
	candONNX, candCard := swappedModel(t, 3, 8)
	registerCandidate(t, reg, candONNX, candCard)
	gate := make(chan struct{})
	const queue, n = 4, 40
	// Warming the candidate classifies once: let exactly that through, then hold the gate.
	warmed := make(chan struct{})
	go func() { gate <- struct{}{}; close(warmed) }()
	ts := rolloutServer(t, reg, server.RolloutConfig{Shadow: true, ShadowRate: 1, ShadowQueue: queue}, gatedLoader(sha(candONNX), gate))
	<-warmed
	for i := 0; i < n; i++ {
		r := postJSON(t, ts.URL+"/v1/predict", map[string]any{"strokes": [][][2]float64{{{1, 1}, {5, 5}}}, "width": 10, "height": 10})
		if r.Status != 200 {
			t.Fatalf("predict %d with the shadow stuck: %d %s", i, r.Status, r.Body)
		}
	}
	metric := func(result string) int {
		var v int
		for _, l := range strings.Split(string(do(t, http.MethodGet, ts.URL+"/metrics", "", nil).Body), "\n") {
			if rest, ok := strings.CutPrefix(l, `digitpad_shadow_predictions_total{result="`+result+`"} `); ok {
				fmt.Sscan(rest, &v)
			}
		}
		return v
	}
	// The worker holds one batch (stuck in Classify) and the queue the next `queue`; the rest dropped.
	dropped := metric("dropped")
	if dropped < n-queue-shadowBatchMax || dropped > n-queue {
		t.Fatalf("%d dropped of %d with a queue of %d", dropped, n, queue)
	}
	close(gate)
	waitFor(t, "queued canvases compared", func() bool { return metric("compared") == n-dropped })
}

// shadowBatchMax is the most canvases the shadow worker takes from the queue at once (server.shadowBatch).
const shadowBatchMax = 16

// The canary end to end: websocket clients (kiosks by X-Client-ID, a browser by ?client_id=) connect; the stable
// share chosen by client id is announced the candidate, downloads it and is answered by it; their clerks correct
// far more often (the candidate confuses 3 and 8), so at the first look the rule rolls the candidate back: the
// alias is deleted in the registry with the decision as reason, canary clients are announced production again and
// answered by it, and the metrics and /v1/rollout show it.
func TestCanary_WorseCandidateRolledBackEndToEnd(t *testing.T) {
	reg := openRegistry(t, t.TempDir())
	candONNX, candCard := swappedModel(t, 3, 8)
	cv := registerCandidate(t, reg, candONNX, candCard)
	policy := rollout.Policy{MinSample: 15, Alpha: 0.05}
	ts := rolloutServer(t, reg, server.RolloutConfig{CanaryShare: 0.5, Canary: policy})
	prodSHA, candSHA := sha(assets.Model()), sha(candONNX)

	type client struct {
		id     string
		ws     *wsClient
		canary bool
	}
	var clients []*client
	nCanary := 0
	for i := 0; i < 8; i++ {
		id := fmt.Sprintf("kiosk-%d", i)
		h := http.Header{"Authorization": {"Bearer " + testToken}, "X-Client-ID": {id}}
		base := ts.URL
		if i == 7 { // a browser: no headers on a websocket, its id in the query (dialWS appends /v1/ws: a fragment)
			id = "browser-7"
			h.Del("X-Client-ID")
			base += "/v1/ws?client_id=" + id + "#"
		}
		c := &client{id: id}
		c.ws = dialWS(t, base, h)
		env := c.ws.nextOf(t, protocol.TypeModel)
		a := decodeData[protocol.ModelAnnouncement](t, env)
		switch a.SHA256 {
		case candSHA:
			c.canary = true
			nCanary++
			if a.URL != "/v1/canary/model.onnx" {
				t.Fatalf("canary announcement %+v", a)
			}
			r := do(t, http.MethodGet, ts.URL+a.URL, "", nil)
			if r.Status != 200 || sha(r.Body) != candSHA || r.Header.Get("X-Model-SHA256") != candSHA {
				t.Fatalf("canary download: %d, sha %s", r.Status, sha(r.Body))
			}
			// The browser pad configures its recogniser from the announced model's card: the candidate's, not
			// production's (GET /v1/model), or it would refuse the swap.
			var card server.ModelCard
			if a.CardURL != "/v1/canary/model" || json.Unmarshal(do(t, http.MethodGet, ts.URL+a.CardURL, "", nil).Body, &card) != nil ||
				card.SHA256 != candSHA || card.URL != a.URL || card.GraphURL != a.GraphURL {
				t.Fatalf("canary card at %q: %+v, want the candidate's (announcement %+v)", a.CardURL, card, a)
			}
		case prodSHA:
		default:
			t.Fatalf("client %s announced %s", id, a.SHA256)
		}
		clients = append(clients, c)
	}
	if nCanary == 0 || nCanary == len(clients) {
		t.Fatalf("%d of %d clients are canaries: the ids should split", nCanary, len(clients))
	}
	t.Logf("%d of %d websocket clients are canaries", nCanary, len(clients))
	// The choice is stable: a canary client reconnecting is a canary again.
	for _, c := range clients {
		if c.canary && !strings.HasPrefix(c.id, "browser") {
			again := dialWS(t, ts.URL, http.Header{"X-Client-ID": {c.id}})
			if a := decodeData[protocol.ModelAnnouncement](t, again.nextOf(t, protocol.TypeModel)); a.SHA256 != candSHA {
				t.Fatalf("%s reconnected and was announced %s", c.id, a.SHA256)
			}
			again.conn.Close()
			break
		}
	}

	rng := rand.New(rand.NewPCG(14, 2))
	seq := 0
	confirm := func(c *client) protocol.Prediction {
		seq++
		truth := codeWith(rng, "38")
		strokes := writeCode(t, truth, 600, 160)
		id := fmt.Sprint("p", seq)
		c.ws.send(t, protocol.TypePredict, id, protocol.Predict{Strokes: strokesJSON(strokes), Width: 600, Height: 160})
		env := c.ws.nextOf(t, protocol.TypePrediction)
		if env.Type != protocol.TypePrediction {
			t.Fatalf("predict: %s", env.Data)
		}
		p := decodeData[protocol.Prediction](t, env)
		labels := make([]int, len(truth))
		for k, ch := range truth {
			labels[k] = int(ch - '0')
		}
		if len(p.Digits) != len(labels) {
			return p // the clerk would redraw
		}
		f, err := protocol.NewFeedback(protocol.Confirmation{IdempotencyKey: fmt.Sprint("f", seq), ClientID: c.id, Labels: labels,
			Prediction: p, CreatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		c.ws.send(t, protocol.TypeFeedback, fmt.Sprint("f", seq), f)
		if env := c.ws.nextOf(t, protocol.TypeAck); env.Type != protocol.TypeAck {
			t.Fatalf("feedback: %s", env.Data)
		}
		return p
	}
	rolledBack := func() bool {
		st := getRollout(t, ts.URL)
		return st.Canary != nil && len(st.Canary.RolledBack) > 0
	}
	for round := 0; round < 40 && !rolledBack(); round++ {
		for _, c := range clients {
			p := confirm(c)
			want := prodSHA
			if c.canary {
				want = candSHA
			}
			if p.Model.SHA256 != want && !rolledBack() {
				t.Fatalf("client %s (canary %v) answered by %s", c.id, c.canary, p.Model.SHA256)
			}
		}
	}
	st := getRollout(t, ts.URL).Canary
	if st == nil || len(st.RolledBack) != 1 || st.RolledBack[0].Version != cv.Version {
		t.Fatalf("canary not rolled back: %+v", st)
	}
	d := st.RolledBack[0].Decision
	t.Logf("rollback: %s", st.RolledBack[0].Reason)
	if !d.Rollback || d.P >= d.Level || d.Canary.N < policy.MinSample || d.Control.N < policy.MinSample || d.Canary.Rate() <= d.Control.Rate() {
		t.Fatalf("decision %+v", d)
	}
	// The registry: the alias is gone, its history says why and who.
	waitFor(t, "candidate alias deleted", func() bool {
		m, err := reg.Model(context.Background(), registry.DefaultModel)
		return err == nil && m.Aliases[registry.Candidate] == 0
	})
	hist, err := reg.History(context.Background(), registry.DefaultModel, registry.Candidate)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if last.From != cv.Version || last.To != 0 || !strings.Contains(last.Reason, "rolled back") || !strings.Contains(last.By, "canary") {
		t.Fatalf("alias history ends with %+v", last)
	}
	// Canary clients are back on production: announced and answered.
	for _, c := range clients {
		if !c.canary {
			continue
		}
		for {
			env := c.ws.next(t)
			if env.Type == protocol.TypeModel && decodeData[protocol.ModelAnnouncement](t, env).SHA256 == prodSHA {
				break
			}
		}
		if p := confirm(c); p.Model.SHA256 != prodSHA {
			t.Fatalf("after the rollback %s is answered by %s", c.id, p.Model.SHA256)
		}
	}
	metrics := string(do(t, http.MethodGet, ts.URL+"/metrics", "", nil).Body)
	for _, line := range []string{"digitpad_canary_rollbacks_total 1", "digitpad_canary_clients 0", "digitpad_candidate_version 0"} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}
	if !strings.Contains(metrics, `digitpad_canary_feedback_total{arm="canary"}`) {
		t.Error("metrics lack the canary arm's feedback")
	}
}

func TestServeFlags_ShadowAndCanary(t *testing.T) {
	p := server.NewProgram(nil, io.Discard)
	if err := p.ParseFlags([]string{"--shadow", "candidate", "--shadow-rate", "0.5", "--canary", "candidate", "--canary-share", "0.2", "--canary-min", "50"}); err != nil {
		t.Fatal(err)
	}
	r := p.Config.Rollout
	if p.Candidate != "candidate" || !r.Shadow || r.ShadowRate != 0.5 || r.CanaryShare != 0.2 || r.Canary.MinSample != 50 {
		t.Fatalf("parsed %q %+v", p.Candidate, r)
	}
	p = server.NewProgram(nil, io.Discard)
	if err := p.ParseFlags(nil); err != nil || p.Candidate != "" || p.Config.Rollout.Shadow || p.Config.Rollout.CanaryShare != 0 {
		t.Fatalf("defaults: %v %q %+v", err, p.Candidate, p.Config.Rollout)
	}
	for _, bad := range [][]string{{"--shadow", "a", "--canary", "b"}, {"--canary", "candidate", "--canary-share", "1.5"}} {
		if err := server.NewProgram(nil, io.Discard).ParseFlags(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// `digitpad serve --shadow candidate` follows the registry's candidate alias as it appears and moves.
func TestServe_ShadowFollowsTheCandidateAlias(t *testing.T) {
	dir := t.TempDir()
	p := server.NewProgram(io.Discard, io.Discard)
	if err := p.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data", dir, "--db", "mem:", "--variant", "fp32",
		"--registry-poll", "50ms", "--shadow", "candidate", "--shadow-rate", "1"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	url := p.Server.URL()
	if st := getRollout(t, url); st.Candidate == nil || st.Candidate.Version != 0 || st.Shadow == nil || st.Shadow.Rate != 1 {
		t.Fatalf("before a candidate: %+v", st)
	}
	reg := openRegistry(t, dir+"/registry")
	onnx, card := swappedModel(t, 3, 8)
	v := registerCandidate(t, reg, onnx, card)
	waitFor(t, "candidate loaded", func() bool {
		st := getRollout(t, url)
		return st.Candidate.Version == v.Version && st.Candidate.SHA256 == sha(onnx) && st.Production == 1
	})
}
