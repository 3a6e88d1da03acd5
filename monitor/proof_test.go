package monitor_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"digitpad/assets"
	"digitpad/monitor"
	"digitpad/monitor/traffic"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
	"digitpad/train/mnist"
)

// rig is the shipped model with its recogniser, embedder and profile, and a monitor with a manual clock.
type rig struct {
	rec  *recognize.Recognizer
	mon  *monitor.Monitor
	sha  string
	now  time.Time
	test *mnist.Set
	// order shuffles the test set: MNIST's test images come in writer blocks (the first half from Census
	// employees, the second from students, who slant ~0.18 against ~0.01), so an unshuffled stream is a real
	// shift of writers, not the training distribution.
	order []int
}

func newRig(t *testing.T, cfg monitor.Config) *rig {
	t.Helper()
	onnx, card := assets.Variant("fp32")
	c, err := assets.ParseCard(card, onnx)
	if err != nil {
		t.Fatal(err)
	}
	g, err := onnxload.Decode(onnx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnxload.Load(onnx)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recognize.New(m, recognize.ModelInfo{Name: c.Name, SHA256: c.SHA256}, c.Configure(recognize.Config{})) // as the server runs it: calibrated by the card
	if err != nil {
		t.Fatal(err)
	}
	emb, _, err := monitor.NewModelEmbedder(g, c.InputScale)
	if err != nil {
		t.Fatal(err)
	}
	p, err := monitor.ParseProfile(card)
	if err != nil || p == nil {
		t.Fatalf("shipped profile: %v %v", p, err)
	}
	r := &rig{rec: rec, sha: c.SHA256, now: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	cfg.Clock = func() time.Time { return r.now }
	r.mon = monitor.New(cfg)
	r.mon.SetModel(c.Name, c.SHA256, p, emb)
	dir, err := mnist.Locate(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.test, err = mnist.LoadTest(dir); err != nil {
		t.Fatal(err)
	}
	r.order = rand.New(rand.NewPCG(5, 5)).Perm(r.test.Len())
	return r
}

// mnistCode is test code i: MNIST test digits 5i..5i+4.
func (r *rig) mnistCode(t *testing.T, i int) traffic.Canvas {
	digits := make([][784]float32, 5)
	labels := make([]int, 5)
	for k := range 5 {
		j := r.order[5*i+k]
		copy(digits[k][:], r.test.Image(j))
		labels[k] = int(r.test.Labels[j])
	}
	c, err := traffic.MNISTCode(digits, labels, uint64(1000+i))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tally measures digit accuracy as the profile defines it: over the digits of codes segmented into the right
// count.
type tally struct{ right, total int }

func (a *tally) rate() float64 { return float64(a.right) / float64(max(1, a.total)) }

// send recognises a canvas and hands it to the monitor as client; it returns the prediction.
func (r *rig) send(t *testing.T, c traffic.Canvas, client string, acc *tally) {
	t.Helper()
	res, err := r.rec.Image(c.Image, recognize.Options{})
	if err != nil {
		return
	}
	r.now = r.now.Add(time.Second)
	r.mon.Process(monitor.FromResult(res, client, r.now))
	if len(res.Digits) == len(c.Labels) {
		for i, d := range res.Digits {
			acc.total++
			if d.Digit == c.Labels[i] {
				acc.right++
			}
		}
	}
}

func (r *rig) state(t *testing.T, client string) monitor.StreamState {
	t.Helper()
	s, ok := r.mon.Snapshot("", client)
	if !ok {
		t.Fatal("no snapshot")
	}
	return s.StreamState
}

func TestProof_MNISTTestStreamRarelyAlarms(t *testing.T) {
	if testing.Short() {
		t.Skip("recognises 2,000 codes")
	}
	// Disjoint windows: one evaluation per 25 predictions, 80 windows.
	r := newRig(t, monitor.Config{Window: 25, Every: 25})
	var acc tally
	windows, alarms := 0, 0
	var est float64
	for i := range r.test.Len() / 5 {
		r.send(t, r.mnistCode(t, i), "depot-a", &acc)
		st := r.state(t, "depot-a")
		if st.Window.Evaluated != nil && st.Window.Evaluated.Equal(r.now) {
			windows++
			est += *st.Accuracy.Estimated
			if st.Drift.Detected {
				alarms++
				for _, ts := range st.Drift.Tests {
					if ts.Detected {
						t.Logf("window %d: %s = %.4f > %.4f", windows, ts.Name, ts.Statistic, ts.Threshold)
					}
				}
			}
		}
	}
	est /= float64(windows)
	t.Logf("MNIST test stream: %d windows of 25 codes, %d with drift; digit accuracy %.4f (%d digits), estimate %.4f",
		windows, alarms, acc.rate(), acc.total, est)
	if windows < 79 {
		t.Fatalf("%d windows evaluated, want 80", windows)
	}
	// The objective is a rate of at most 5%; 80 windows measure it within a few points, so the test fails when
	// the count would be unlikely (p < 0.05) under a 5% rate.
	if p := binomialTail(alarms, windows, 0.05); p < 0.05 {
		t.Errorf("drift in %d of %d windows of MNIST test digits: not consistent with <= 5%% (P = %.3f)", alarms, windows, p)
	}
	if d := est - acc.rate(); d > 0.03 || d < -0.03 {
		t.Errorf("estimated accuracy %.4f vs measured %.4f: off by more than 3 points", est, acc.rate())
	}
}

func TestProof_ShiftedWritingFlaggedForItsClientOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("recognises 1,000 codes")
	}
	r := newRig(t, monitor.Config{Window: 100, Every: 25})
	var accShift, accClean tally
	flaggedAt := -1
	cleanAlarms, cleanEvals := 0, 0
	var estShift, estClean []float64
	var lastClean *time.Time
	for i := range 500 {
		c, err := traffic.WrittenCode(5, traffic.Shifted, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		r.send(t, c, "kiosk-7", &accShift)
		r.send(t, r.mnistCode(t, i), "depot-b", &accClean)
		sh := r.state(t, "kiosk-7")
		if sh.Drift.Detected && flaggedAt < 0 {
			flaggedAt = i + 1
			for _, ts := range sh.Drift.Tests {
				if ts.Detected {
					t.Logf("kiosk-7 after %d predictions: %s = %.4f > %.4f (p %v)", i+1, ts.Name, ts.Statistic, ts.Threshold, fmtP(ts.PValue))
				}
			}
		}
		if sh.Accuracy.Estimated != nil && (i+1)%100 == 0 {
			estShift = append(estShift, *sh.Accuracy.Estimated)
		}
		cl := r.state(t, "depot-b")
		if e := cl.Window.Evaluated; e != nil && (lastClean == nil || !e.Equal(*lastClean)) {
			lastClean = e
			cleanEvals++
			if cl.Drift.Detected {
				cleanAlarms++
			}
			if (i+1)%100 == 0 {
				estClean = append(estClean, *cl.Accuracy.Estimated)
			}
		}
	}
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(max(1, len(v)))
	}
	t.Logf("shifted stream: flagged after %d predictions; digit accuracy %.4f (%d digits), estimate %.4f",
		flaggedAt, accShift.rate(), accShift.total, mean(estShift))
	t.Logf("clean stream beside it: %d of %d evaluations alarmed; accuracy %.4f, estimate %.4f",
		cleanAlarms, cleanEvals, accClean.rate(), mean(estClean))
	if flaggedAt < 0 || flaggedAt > 500 {
		t.Errorf("shifted writing not flagged within 500 predictions")
	}
	if float64(cleanAlarms) > 0.05*float64(cleanEvals) {
		t.Errorf("the clean client alarmed in %d of %d evaluations", cleanAlarms, cleanEvals)
	}
	all, _ := r.mon.Snapshot("", "")
	if len(all.Clients) < 2 {
		t.Errorf("snapshot lists %d clients, want kiosk-7 and depot-b", len(all.Clients))
	}
	if d := mean(estShift) - accShift.rate(); d > 0.05 || d < -0.05 {
		t.Errorf("shifted stream: estimated accuracy %.4f vs measured %.4f", mean(estShift), accShift.rate())
	}
}

func fmtP(p *float64) any {
	if p == nil {
		return "-"
	}
	return *p
}

// binomialTail is P(X >= k) for X ~ Binomial(n, p).
func binomialTail(k, n int, p float64) float64 {
	return distuv.Binomial{N: float64(n), P: p}.Survival(float64(k) - 0.5)
}
