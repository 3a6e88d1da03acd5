package monitor_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"digitpad/assets"
	"digitpad/monitor"
	"digitpad/monitor/traffic"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/train/mnist"
)

// rig is the shipped model with its recogniser, embedder and profile, and a monitor with a manual clock.
type rig struct {
	rec     *recognize.Recognizer
	mon     *monitor.Monitor
	name    string
	sha     string
	profile *monitor.Profile
	embed   monitor.Embedder
	now     time.Time
	test    *mnist.Set
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
	// As the server loads it: calibrated by the card, with the tap that gives each digit's embedding.
	rec, err := onnxrec.New(onnx, card, recognize.Config{})
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
	r := &rig{rec: rec, name: c.Name, sha: c.SHA256, profile: p, embed: emb, now: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
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

// composeMNIST is code i of the test set in the given order (digits order[5i..5i+4]), composited with seed.
func (r *rig) composeMNIST(order []int, seed uint64, i int) (traffic.Canvas, error) {
	digits := make([][784]float32, 5)
	labels := make([]int, 5)
	for k := range 5 {
		j := order[5*i+k]
		copy(digits[k][:], r.test.Image(j))
		labels[k] = int(r.test.Labels[j])
	}
	return traffic.MNISTCode(digits, labels, seed)
}

// recogniseAll recognises n canvases (code(i)) on every core as the server does and returns the predictions as it
// hands them to the monitor, in order (nil where the recogniser refused the canvas), without a time (see stamp);
// acc counts their digits.
func (r *rig) recogniseAll(t *testing.T, n int, code func(i int) (traffic.Canvas, error), client string, acc *tally) []*monitor.Prediction {
	t.Helper()
	type out struct {
		p   monitor.Prediction
		ok  bool
		acc tally
	}
	res := make([]out, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				c, err := code(i)
				if err != nil {
					errs <- err
					return
				}
				rr, err := r.rec.Image(c.Image, recognize.Options{})
				if err != nil {
					continue // a canvas the recogniser refuses is not monitored
				}
				o := out{p: monitor.FromResult(rr, client, time.Time{}), ok: true}
				o.acc.count(rr, c.Labels)
				res[i] = o
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ps := make([]*monitor.Prediction, n)
	for i := range res {
		if res[i].ok {
			ps[i] = &res[i].p
			acc.right += res[i].acc.right
			acc.total += res[i].acc.total
		}
	}
	return ps
}

// stamp advances the rig's clock by a second and gives p that time.
func (r *rig) stamp(p *monitor.Prediction) {
	r.now = r.now.Add(time.Second)
	p.Time = r.now
}

// tally measures digit accuracy as the profile defines it: over the digits of codes segmented into the right
// count.
type tally struct{ right, total int }

func (a *tally) rate() float64 { return float64(a.right) / float64(max(1, a.total)) }

// count adds the digits of a result whose digit count matches the labels.
func (a *tally) count(res *recognize.Result, labels []int) {
	if len(res.Digits) != len(labels) {
		return
	}
	for i, d := range res.Digits {
		a.total++
		if d.Digit == labels[i] {
			a.right++
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

// mnistPasses is how many times the proof streams the MNIST test set, each pass in a new random order and
// composited with new seeds: 10,000 digits make only 20 disjoint windows of 100 codes, too few to measure a rate
// near 5%. Windows of different passes share digits (not codes), so they are close to, not exactly, independent.
const mnistPasses = 4

// proofWindows are the count windows the proof measures: the server's default count window (100) and the 200
// predictions its time window holds at any real traffic, and the two smaller calibrated sizes.
var proofWindows = []int{25, 50, 100, 200}

func TestProof_MNISTTestStreamRarelyAlarms(t *testing.T) {
	if testing.Short() {
		t.Skip("recognises 8,000 codes")
	}
	r := newRig(t, monitor.Config{Window: 100, Every: 100})
	// One monitor per window size, evaluated on disjoint windows (Every = Window).
	mons := make([]*monitor.Monitor, len(proofWindows))
	for k, w := range proofWindows {
		mons[k] = monitor.New(monitor.Config{Window: w, Every: w, Clock: func() time.Time { return r.now }})
		mons[k].SetModel(r.name, r.sha, r.profile, r.embed)
	}
	windows := make([]int, len(proofWindows))
	alarms := make([]int, len(proofWindows))
	est := make([]float64, len(proofWindows))
	firing := make([]map[string]int, len(proofWindows))
	for k := range firing {
		firing[k] = map[string]int{}
	}
	var acc tally
	for pass := range mnistPasses {
		order := rand.New(rand.NewPCG(5, uint64(5+pass))).Perm(r.test.Len())
		client := fmt.Sprintf("pass-%d", pass) // a new stream per pass: no window spans two passes
		ps := r.recogniseAll(t, r.test.Len()/5, func(i int) (traffic.Canvas, error) {
			return r.composeMNIST(order, uint64(1000+pass*10000+i), i)
		}, client, &acc)
		for _, p := range ps {
			if p == nil {
				continue
			}
			r.stamp(p)
			for k, m := range mons {
				m.Process(*p)
				s, _ := m.Snapshot("", client)
				if e := s.Window.Evaluated; e != nil && e.Equal(p.Time) {
					windows[k]++
					est[k] += *s.Accuracy.Estimated
					if s.Drift.Detected {
						alarms[k]++
						for _, ts := range s.Drift.Tests {
							if ts.Detected {
								firing[k][ts.Name]++
							}
						}
					}
				}
			}
		}
	}
	t.Logf("MNIST test stream, %d passes: digit accuracy %.4f (%d digits)", mnistPasses, acc.rate(), acc.total)
	for k, w := range proofWindows {
		ci := monitor.WilsonInterval(alarms[k], windows[k])
		t.Logf("windows of %3d codes: drift in %2d of %3d (%.1f%%, 95%% Wilson %.1f-%.1f%%); estimate %.4f; tests that fired: %v",
			w, alarms[k], windows[k], 100*ci.Rate, 100*ci.Low, 100*ci.High, est[k]/float64(windows[k]), firing[k])
		if want := mnistPasses * r.test.Len() / 5 / w; windows[k] < want-mnistPasses {
			t.Fatalf("windows of %d: %d evaluated, want %d", w, windows[k], want)
		}
		// The objective is a rate of at most 5%; the test fails when the count would be unlikely (p < 0.05)
		// under a 5% rate.
		if p := binomialTail(alarms[k], windows[k], 0.05); p < 0.05 {
			t.Errorf("windows of %d: drift in %d of %d windows of MNIST test digits: not consistent with <= 5%% (P = %.3f)",
				w, alarms[k], windows[k], p)
		}
		if d := est[k]/float64(windows[k]) - acc.rate(); d > 0.03 || d < -0.03 {
			t.Errorf("windows of %d: estimated accuracy %.4f vs measured %.4f: off by more than 3 points", w, est[k]/float64(windows[k]), acc.rate())
		}
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
	shifted := r.recogniseAll(t, 500, func(i int) (traffic.Canvas, error) {
		return traffic.WrittenCode(5, traffic.Shifted, uint64(i))
	}, "kiosk-7", &accShift)
	clean := r.recogniseAll(t, 500, func(i int) (traffic.Canvas, error) {
		return r.composeMNIST(r.order, uint64(1000+i), i)
	}, "depot-b", &accClean)
	for i := range 500 {
		for _, p := range []*monitor.Prediction{shifted[i], clean[i]} {
			if p != nil {
				r.stamp(p)
				r.mon.Process(*p)
			}
		}
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
