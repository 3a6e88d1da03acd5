package server_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"digitpad/internal/cputime"
	"digitpad/monitor"
	"digitpad/monitor/traffic"
	"digitpad/server"
	"digitpad/shared/protocol"
	"digitpad/train/mnist"
)

// mnistCodes returns n PNG canvases of 5 shuffled MNIST test digits each, with their labels.
func mnistCodes(tb testing.TB, n int, seed uint64) ([][]byte, [][]int) {
	tb.Helper()
	dir, err := mnist.Locate(context.Background(), "")
	if err != nil {
		tb.Fatal(err)
	}
	set, err := mnist.LoadTest(dir)
	if err != nil {
		tb.Fatal(err)
	}
	order := rand.New(rand.NewPCG(seed, 9)).Perm(set.Len())
	var pngs [][]byte
	var labels [][]int
	for i := range n {
		ds := make([][784]float32, 5)
		ls := make([]int, 5)
		for k := range 5 {
			j := order[(5*i+k)%len(order)]
			copy(ds[k][:], set.Image(j))
			ls[k] = int(set.Labels[j])
		}
		c, err := traffic.MNISTCode(ds, ls, seed+uint64(i))
		if err != nil {
			tb.Fatal(err)
		}
		pngs = append(pngs, encodePNG(tb, c.Image))
		labels = append(labels, ls)
	}
	return pngs, labels
}

func shiftedCodes(tb testing.TB, n int) ([][]byte, [][]int) {
	tb.Helper()
	var pngs [][]byte
	var labels [][]int
	for i := range n {
		c, err := traffic.WrittenCode(5, traffic.Shifted, uint64(500+i))
		if err != nil {
			tb.Fatal(err)
		}
		pngs = append(pngs, encodePNG(tb, c.Image))
		labels = append(labels, c.Labels)
	}
	return pngs, labels
}

func monitoring(tb testing.TB, ts *testServer, client string) monitor.Snapshot {
	tb.Helper()
	url := ts.URL + "/v1/monitoring"
	if client != "" {
		url += "?client=" + client
	}
	r := do(tb, http.MethodGet, url, "", nil)
	if r.Status != http.StatusOK {
		tb.Fatalf("GET /v1/monitoring: %d %s", r.Status, r.Body)
	}
	var s monitor.Snapshot
	r.decode(tb, &s)
	return s
}

// predictAs sends one PNG as client and, when labels are given, the clerk's feedback for it. It reports whether
// the canvas was recognised (a canvas whose ink the server finds empty is answered 422 and not monitored).
func predictAs(tb testing.TB, ts *testServer, png []byte, client string, labels []int, key string) bool {
	tb.Helper()
	r := do(tb, http.MethodPost, ts.URL+"/v1/predict", "image/png", png, "X-Client-ID", client)
	if r.Status == http.StatusUnprocessableEntity {
		tb.Logf("%s: %s", client, r.Body)
		return false
	}
	if r.Status != http.StatusOK {
		tb.Fatalf("predict: %d %s", r.Status, r.Body)
	}
	var p protocol.Prediction
	r.decode(tb, &p)
	if labels == nil {
		return true
	}
	code := ""
	for _, l := range labels {
		code += strconv.Itoa(l)
	}
	f := protocol.Feedback{IdempotencyKey: key, PredictionID: p.ID, ClientID: client, Code: code, Labels: labels,
		Predicted: p.Code, Digits: p.Digits, ModelSHA256: p.Model.SHA256}
	if len(labels) != len(p.Digits) {
		f.Labels = nil // the clerk re-wrote the code: no per-digit alignment
	}
	if fr := postJSON(tb, ts.URL+"/v1/feedback", f, bearer()...); fr.Status != http.StatusCreated {
		tb.Fatalf("feedback: %d %s", fr.Status, fr.Body)
	}
	return true
}

// TestMonitoring_ShiftedClientFlaggedThroughAPI streams shifted writing from one client and MNIST test codes from
// another through POST /v1/predict: the shifted client is flagged within 500 predictions, the other is not, and
// the accuracy estimate agrees with what the clerks' feedback measured.
func TestMonitoring_ShiftedClientFlaggedThroughAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("streams a few hundred canvases")
	}
	ts := mustOpen(t, func(c *server.Config) { c.Monitor = monitor.Config{Window: 100, Every: 25} })
	clean, cleanLabels := mnistCodes(t, 200, 77)
	shifted, shiftedLabels := shiftedCodes(t, 200)
	flaggedAt, nShift, nClean := 0, 0, 0
	for i := range 200 {
		if predictAs(t, ts, shifted[i], "kiosk-7", shiftedLabels[i], fmt.Sprintf("s-%d", i)) {
			nShift++
		}
		if predictAs(t, ts, clean[i], "depot-b", cleanLabels[i], fmt.Sprintf("c-%d", i)) {
			nClean++
		}
		if (i+1)%25 == 0 {
			waitFor(t, "the monitor to catch up", func() bool {
				return monitoring(t, ts, "depot-b").Predictions == nClean && monitoring(t, ts, "kiosk-7").Predictions == nShift
			})
			if flaggedAt == 0 && monitoring(t, ts, "kiosk-7").Drift.Detected {
				flaggedAt = i + 1
			}
		}
	}
	sh, cl := monitoring(t, ts, "kiosk-7"), monitoring(t, ts, "depot-b")
	t.Logf("kiosk-7 flagged after %d predictions; estimate %.4f, online %.4f (%d digits); correction rate %.3f",
		flaggedAt, val(sh.Accuracy.Estimated), val(sh.Accuracy.Online), sh.Accuracy.OnlineN, val(sh.Rates.Correction))
	t.Logf("depot-b: drift %v; estimate %.4f, online %.4f (%d digits)", cl.Drift.Detected, val(cl.Accuracy.Estimated),
		val(cl.Accuracy.Online), cl.Accuracy.OnlineN)
	if flaggedAt == 0 || flaggedAt > 500 {
		t.Errorf("shifted client not flagged within 200 predictions")
	}
	if !sh.Drift.Detected || cl.Drift.Detected {
		t.Errorf("final verdicts: kiosk-7 %v (want true), depot-b %v (want false)", sh.Drift.Detected, cl.Drift.Detected)
	}
	for _, s := range []monitor.Snapshot{sh, cl} {
		if s.Accuracy.Estimated == nil || s.Accuracy.Online == nil {
			t.Fatalf("%s: no estimate or online accuracy", s.Client)
		}
		if d := *s.Accuracy.Estimated - *s.Accuracy.Online; d > 0.05 || d < -0.05 {
			t.Errorf("%s: estimated accuracy %.4f vs measured %.4f", s.Client, *s.Accuracy.Estimated, *s.Accuracy.Online)
		}
		if len(s.Drift.Tests) != 17 || s.Window.Size != 100 || s.Window.Since == nil {
			t.Errorf("%s: %d tests, window %+v", s.Client, len(s.Drift.Tests), s.Window)
		}
	}
	all := monitoring(t, ts, "")
	if all.Model.SHA256 != ts.ModelInfo().SHA256 || !all.Model.Profile || len(all.Clients) != 2 {
		t.Errorf("aggregate: model %+v, %d clients", all.Model, len(all.Clients))
	}
	metrics := string(do(t, http.MethodGet, ts.URL+"/metrics", "", nil).Body)
	for _, want := range []string{
		`digitpad_drift_detected{client="kiosk-7"} 1`,
		`digitpad_drift_detected{client="depot-b"} 0`,
		`digitpad_drift_score{client="kiosk-7",test="stroke_width_ks"}`,
		`digitpad_estimated_accuracy{client="all",model="digitpad-cnn@`,
		`digitpad_online_accuracy{client="kiosk-7",model="digitpad-cnn@`,
		`digitpad_model_loaded 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func val(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

func TestMonitoring_ClientCardinalityIsBounded(t *testing.T) {
	ts := mustOpen(t, func(c *server.Config) { c.Monitor = monitor.Config{MaxClients: 3} })
	png := codePNG(t, "12345")
	for i := range 12 {
		predictAs(t, ts, png, fmt.Sprintf("pad-%02d", i), nil, "")
	}
	waitFor(t, "12 predictions monitored", func() bool { return monitoring(t, ts, "").Predictions == 12 })
	s := monitoring(t, ts, "")
	if len(s.Clients) > 4 {
		t.Errorf("%d client streams, want at most 3 + other", len(s.Clients))
	}
	metrics := string(do(t, http.MethodGet, ts.URL+"/metrics", "", nil).Body)
	labels := map[string]bool{}
	for _, m := range regexp.MustCompile(`digitpad_confirm_rate\{client="([^"]+)"`).FindAllStringSubmatch(metrics, -1) {
		labels[m[1]] = true
	}
	if len(labels) > 5 || !labels["other"] || !labels["all"] {
		t.Errorf("confirm-rate client labels %v: want at most 3 clients + other + all", labels)
	}
	if o := monitoring(t, ts, "pad-11"); o.Client != "other" || o.Predictions == 0 {
		t.Errorf("?client=pad-11 gave stream %q with %d predictions, want other", o.Client, o.Predictions)
	}
}

func TestMonitoring_InOpenAPIAndDashboardServed(t *testing.T) {
	ts := mustOpen(t, func(c *server.Config) { c.SeriesInterval = 20 * time.Millisecond })
	doc := string(do(t, http.MethodGet, ts.URL+"/openapi.json", "", nil).Body)
	for _, p := range []string{`"/v1/monitoring"`, `"/v1/monitoring/series"`, `"drift"`, `"p_value"`} {
		if !strings.Contains(doc, p) {
			t.Errorf("OpenAPI document lacks %s", p)
		}
	}
	page := do(t, http.MethodGet, ts.URL+"/dashboard/", "", nil)
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "dashboard.js") {
		t.Errorf("GET /dashboard/: %d", page.Status)
	}
	if r := do(t, http.MethodGet, ts.URL+"/dashboard/dashboard.js", "", nil); r.Status != http.StatusOK {
		t.Errorf("GET /dashboard/dashboard.js: %d", r.Status)
	}
	for range 5 {
		predictAs(t, ts, codePNG(t, "94107"), "pad-1", nil, "")
	}
	waitFor(t, "a series point with traffic and latency", func() bool {
		var body server.SeriesBody
		do(t, http.MethodGet, ts.URL+"/v1/monitoring/series", "", nil).decode(t, &body)
		for _, p := range body.Points {
			if p.Predictions > 0 && p.P50 != nil && p.P99 != nil && *p.P99 >= *p.P50 && p.Batch != nil {
				return true
			}
		}
		return false
	})
	if r := do(t, http.MethodGet, ts.URL+"/v1/monitoring?model="+strings.Repeat("0", 64), "", nil); r.Status != http.StatusNotFound {
		t.Errorf("unknown model: %d", r.Status)
	}
}

// BenchmarkPredict_Monitored is POST /v1/predict of 5-digit codes through the handler stack with the drift
// monitor off and on (uncapped), waiting after the loop until the monitor's worker has processed every
// prediction, so cpu-ns/op (process CPU time, getrusage) includes the monitoring work; the difference between
// the two is the CPU the monitor spends per prediction. "mnist" codes are like the reference (the MMD
// permutations stop early), "shifted" writing drifts (every test runs in full).
//
//	go test ./server -run '^$' -bench Predict_Monitored -cpu 1 -benchtime 1000x
func BenchmarkPredict_Monitored(b *testing.B) {
	mn, _ := mnistCodes(b, 100, 3)
	sh, _ := shiftedCodes(b, 100)
	for _, set := range []struct {
		name string
		pngs [][]byte
	}{{"mnist", mn}, {"shifted", sh}} {
		for _, on := range []bool{false, true} {
			name := set.name + "/monitor-off"
			if on {
				name = set.name + "/monitor-on"
			}
			b.Run(name, func(b *testing.B) {
				ts := mustOpen(b, func(c *server.Config) {
					c.BatchWait = -1
					c.Monitor.Queue = b.N + 1000
					if !on {
						c.Monitor.MaxRate = 1e-9 // one prediction, then every one sampled out
					}
				})
				h := ts.Handler()
				want := 0 // predictions the monitor will see
				post := func(png []byte) {
					r := httptest.NewRequest(http.MethodPost, "/v1/predict", bytes.NewReader(png))
					r.Header.Set("Content-Type", "image/png")
					r.Header.Set("X-Client-ID", "depot")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					switch w.Code {
					case http.StatusOK:
						want++
					case http.StatusUnprocessableEntity: // no digit found: not monitored
					default:
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
				for i := range 100 { // fill the windows: evaluations run from the start
					post(set.pngs[i%len(set.pngs)])
				}
				b.ResetTimer()
				cpu0 := cputime.Process()
				for i := range b.N {
					post(set.pngs[i%len(set.pngs)])
				}
				if !on {
					want = 1
				}
				for deadline := time.Now().Add(2 * time.Minute); monitoring(b, ts, "").Predictions < want; {
					if time.Now().After(deadline) {
						b.Fatalf("the monitor processed %d of %d predictions", monitoring(b, ts, "").Predictions, want)
					}
					time.Sleep(20 * time.Millisecond) // a poll costs far less than the 20 ms of work it waits for
				}
				b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
