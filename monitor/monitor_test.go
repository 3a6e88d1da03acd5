package monitor_test

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"digitpad/monitor"
)

// fakeEmbedder embeds an input as its first 8 pixels' row sums: cheap and input-dependent.
type fakeEmbedder struct{}

func (fakeEmbedder) Dim() int { return 8 }

func (fakeEmbedder) Embed(in []float32, n int, out []float32) error {
	for i := range n {
		for k := range 8 {
			var s float32
			for x := range 28 {
				s += in[i*784+(6+2*k)*28+x]
			}
			out[i*8+k] = s
		}
	}
	return nil
}

// synthetic makes a prediction of 5 blob digits; shift thickens the blobs and skews the classes.
func synthetic(rng *rand.Rand, shift float64) monitor.Prediction {
	var p monitor.Prediction
	for range 5 {
		var in [784]float32
		r := 4 + rng.Float64()*2 + 4*shift
		cx, cy := 14+rng.NormFloat64(), 14+rng.NormFloat64()
		for y := range 28 {
			for x := range 28 {
				dx, dy := float64(x)-cx, float64(y)-cy
				if dx*dx+dy*dy < r*r {
					in[y*28+x] = 1
				}
			}
		}
		c := rng.IntN(10)
		if shift > 0 && rng.Float64() < shift {
			c = 1
		}
		var d monitor.Digit
		conf := 0.9 + 0.1*rng.Float64() - 0.3*shift*rng.Float64()
		for k := range d.Probs {
			d.Probs[k] = (1 - conf) / 9
		}
		d.Probs[c] = conf
		d.Input = &in
		w := int(40 + 10*rng.NormFloat64())
		d.Box = [4]int{0, 0, w, 80}
		p.Digits = append(p.Digits, d)
		p.Labels = append(p.Labels, c)
	}
	return p
}

// syntheticProfile builds the profile once for the package's tests (the bootstrap is the costly part).
var syntheticProfile = sync.OnceValues(func() (*monitor.Profile, error) {
	rng := rand.New(rand.NewPCG(1, 1))
	b := monitor.NewBuilder(fakeEmbedder{}, "rows", "synthetic blobs")
	for range 1000 {
		p := synthetic(rng, 0)
		if err := b.Add(&p); err != nil {
			return nil, err
		}
	}
	return b.Build(1)
})

func mustProfile(t *testing.T) *monitor.Profile {
	t.Helper()
	p, err := syntheticProfile()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuild_CalibratesFalseAlarmsPerWindowSize(t *testing.T) {
	p := mustProfile(t)
	if len(p.Windows) != len(monitor.WindowSizes) {
		t.Fatalf("%d window calibrations", len(p.Windows))
	}
	for _, w := range p.Windows {
		if w.FalseAlarm > 0.05 || w.FalseAlarm == 0 || w.Alpha <= 0 || w.Alpha >= 0.05 {
			t.Errorf("window %d: false alarm %.3f at per-test alpha %.4f", w.Size, w.FalseAlarm, w.Alpha)
		}
	}
	if p.Accuracy != 1 || len(p.Embedding.Sample) != 200 || len(p.Embedding.Projection) != 8 {
		t.Errorf("accuracy %v, %d embedding samples, %d components", p.Accuracy, len(p.Embedding.Sample), len(p.Embedding.Projection))
	}
}

func TestMonitor_CountAndTimeWindowsWithInjectedClock(t *testing.T) {
	p := mustProfile(t)
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	m := monitor.New(monitor.Config{Clock: func() time.Time { return now }, Window: 50, Every: 10,
		TimeWindow: 10 * time.Minute})
	m.SetModel("blobs", "sha-1", p, fakeEmbedder{})
	rng := rand.New(rand.NewPCG(9, 9))
	// Slow traffic: one prediction a minute. The count window fills; the time window never holds 25.
	steady := func() monitor.Prediction {
		p := synthetic(rng, 0)
		p.Model, p.Client = "sha-1", "pad"
		return p
	}
	for range 60 {
		now = now.Add(time.Minute)
		m.Process(steady())
	}
	s, _ := m.Snapshot("", "pad")
	if s.Window.Size != 50 || s.TimeDrift != nil {
		t.Errorf("slow traffic: count window %d, time window %+v", s.Window.Size, s.TimeDrift)
	}
	// Evaluated every 10 predictions once 25 are in: last at the 55th, over predictions 6..55.
	if s.Window.Since == nil || s.Window.Evaluated == nil || !s.Window.Evaluated.Equal(now.Add(-5*time.Minute)) ||
		!s.Window.Since.Equal(s.Window.Evaluated.Add(-49*time.Minute)) {
		t.Errorf("window since %v, evaluated %v (now %v)", s.Window.Since, s.Window.Evaluated, now)
	}
	// A burst: 30 predictions within a minute fill a 25-prediction time window.
	for range 30 {
		now = now.Add(2 * time.Second)
		m.Process(steady())
	}
	s, _ = m.Snapshot("", "pad")
	if s.TimeDrift == nil || s.TimeDrift.Size != 25 || s.TimeDrift.Seconds != 600 {
		t.Fatalf("burst: time window %+v", s.TimeDrift)
	}
	// Shifted traffic from another client is flagged for it, not for "pad".
	for range 50 {
		now = now.Add(time.Second)
		p := synthetic(rng, 0.6)
		p.Model, p.Client = "sha-1", "kiosk"
		m.Process(p)
	}
	k, _ := m.Snapshot("", "kiosk")
	if !k.Drift.Detected {
		t.Errorf("shifted client not flagged: %+v", k.Drift.Tests)
	}
	if s, _ := m.Snapshot("", "pad"); s.Drift.Detected {
		t.Errorf("steady client flagged")
	}
	if e := k.Accuracy.Estimated; e == nil || *e >= 1 {
		t.Errorf("estimate for the shifted client %v, want below the reference's", e)
	}
}

func TestMonitor_FeedbackRatesWithWilsonIntervals(t *testing.T) {
	m := monitor.New(monitor.Config{})
	m.SetModel("m", "sha", nil, nil)
	for i := range 100 {
		f := monitor.Feedback{Model: "sha", Client: "pad", Predicted: "12345", Code: "12345",
			PredictedDigits: []int{1, 2, 3, 4, 5}, Labels: []int{1, 2, 3, 4, 5}}
		if i%10 == 0 {
			f.Code, f.Labels = "12348", []int{1, 2, 3, 4, 8}
		}
		m.Feedback(f)
	}
	m.Feedback(monitor.Feedback{Model: "unknown", Predicted: "1", Code: "2"}) // ignored
	s, _ := m.Snapshot("sha", "")
	if s.Rates.Correction == nil || *s.Rates.Correction != 0.1 || s.Rates.CorrectionN != 100 {
		t.Fatalf("correction rate %v of %d", s.Rates.Correction, s.Rates.CorrectionN)
	}
	if ci := s.Rates.CorrectionCI; len(ci) != 2 || ci[0] > 0.1 || ci[1] < 0.1 || ci[1]-ci[0] > 0.15 {
		t.Errorf("correction interval %v", ci)
	}
	if s.Accuracy.Online == nil || *s.Accuracy.Online != 0.98 || s.Accuracy.OnlineN != 500 {
		t.Errorf("online accuracy %v over %d digits, want 0.98 over 500", s.Accuracy.Online, s.Accuracy.OnlineN)
	}
	if s.Accuracy.Estimated != nil || len(s.Drift.Tests) != 0 {
		t.Errorf("a model without a profile has an estimate or tests")
	}
}

func TestMonitor_ObserveNeverBlocks(t *testing.T) {
	m := monitor.New(monitor.Config{Queue: 2})
	m.SetModel("m", "sha", nil, nil)
	for range 5 {
		m.Observe(monitor.Prediction{Model: "sha", Client: "pad"})
	}
	if d := m.Dropped(); d != 3 {
		t.Errorf("dropped %d, want 3 (queue of 2, worker not started)", d)
	}
	m.Start()
	m.Close()
}

// Under heavy traffic the monitor samples: beyond MaxRate (after a burst of ten seconds' worth) predictions are
// skipped and counted, so its CPU share stays bounded; as the clock moves on it takes predictions again.
func TestMonitor_MaxRateSamples(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	m := monitor.New(monitor.Config{Clock: func() time.Time { return now }, MaxRate: 2, Queue: 1000})
	for range 50 {
		m.Observe(monitor.Prediction{Time: now, Model: "m", Client: "c"})
	}
	if got, want := m.SampledOut(), uint64(50-20); got != want {
		t.Fatalf("sampled out %d of 50 at a cap of 2/s (burst 20), want %d", got, want)
	}
	now = now.Add(5 * time.Second) // ten more tokens
	for range 15 {
		m.Observe(monitor.Prediction{Time: now, Model: "m", Client: "c"})
	}
	if got, want := m.SampledOut(), uint64(30+5); got != want {
		t.Errorf("after 5 s: sampled out %d, want %d", got, want)
	}
	if m.Dropped() != 0 {
		t.Errorf("dropped %d, want 0 (the queue had room)", m.Dropped())
	}
}
