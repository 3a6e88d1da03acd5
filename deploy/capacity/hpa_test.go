package capacity

import (
	"math"
	"testing"
	"time"
)

func constant(v float64) func(float64) float64 { return func(float64) float64 { return v } }

func TestSimulate_SteadyLoadWithinToleranceKeepsReplicas(t *testing.T) {
	p := Defaults()
	p.MinReplicas = 1
	// Pick a load that puts CPU at 105% of its target on 4 pods: inside the 10% tolerance, so 4 stay 4.
	p.InFlightTarget = 0
	perPod := 1.05 * p.CPUTarget / 100 * p.CPURequest / p.CPUPerRequest.Seconds()
	p.MinReplicas = 4
	pts := Simulate(p, constant(4*perPod), 600)
	for _, x := range pts {
		if x.Desired != 4 {
			t.Fatalf("t=%v: desired %d, want 4 (ratio 1.05 is within the tolerance)", x.T, x.Desired)
		}
	}
	// 20% over target is outside it: ceil(4 × 1.2) = 5.
	perPod = 1.2 * p.CPUTarget / 100 * p.CPURequest / p.CPUPerRequest.Seconds()
	pts = Simulate(p, constant(4*perPod), 16)
	if got := pts[15].Desired; got != 5 {
		t.Errorf("ratio 1.2 on 4 pods: desired %d, want 5", got)
	}
}

func TestSimulate_ScaleUpIsBoundedPerPeriod(t *testing.T) {
	p := Defaults()
	p.MinReplicas = 3
	pts := Simulate(p, constant(50000), 16)
	// From 3: the larger of +100 % (6) and +4 pods (7).
	if got := pts[15].Desired; got != 7 {
		t.Errorf("first scale-up from 3 under a huge load: desired %d, want 7", got)
	}
	pts = Simulate(p, constant(50000), 31)
	if got := pts[30].Desired; got != 14 { // from 7: +100 % = 14 beats +4 = 11
		t.Errorf("second scale-up: desired %d, want 14", got)
	}
}

func TestSimulate_ScaleDownWaitsForTheStabilisationWindow(t *testing.T) {
	p := Defaults()
	load := func(t float64) float64 {
		if t < 600 {
			return 3000
		}
		return 100
	}
	pts := Simulate(p, load, 1500)
	peak := pts[599].Desired
	if peak <= p.MinReplicas {
		t.Fatalf("no scale-up under 3000 req/s: %d", peak)
	}
	// The metrics window lags the drop a little; the window then holds the peak recommendation for 300 s.
	for _, x := range pts[600 : 600+int(p.ScaleDownWindow.Seconds())] {
		if x.Desired < peak {
			t.Fatalf("scaled down to %d at t=%v, inside the %v window after the drop", x.Desired, x.T, p.ScaleDownWindow)
		}
	}
	if got := pts[len(pts)-1].Desired; got != p.MinReplicas {
		t.Errorf("desired %d long after the drop, want min %d", got, p.MinReplicas)
	}
}

func TestSimulate_OverloadShedsAndKeepsLatencyNearTheObjective(t *testing.T) {
	p := Defaults()
	p.MaxReplicas = 3
	pts := Simulate(p, constant(5*p.Capacity()), 120)
	last := pts[len(pts)-1]
	if last.Shed <= 0 {
		t.Error("no shedding at 5/3 of the capacity of 3 pods")
	}
	if bound := p.Objective.Seconds() + math.Log(100)/p.Capacity(); last.P99 > bound+1e-9 {
		t.Errorf("p99 %.3f s beyond the objective bound %.3f s", last.P99, bound)
	}
	if math.Abs(last.Served-3*p.Capacity()) > 1e-6 {
		t.Errorf("served %.1f/s, want the full capacity %.1f/s", last.Served, 3*p.Capacity())
	}
}

func TestSimulate_NewNodesDelayPods(t *testing.T) {
	p := Defaults()
	p.MinNodes, p.MinReplicas = 1, 3
	pts := Simulate(p, constant(50000), 200)
	// 3 pods fill one node; the first scale-up to 7 needs two more nodes: ready at 15 + 10 + 90 s.
	if r := pts[15+10+5].Ready; r != 3 {
		t.Errorf("ready %d at t=30, want 3 (new pods wait for their nodes)", r)
	}
	if r := pts[15+10+90+1].Ready; r < 7 {
		t.Errorf("ready %d after node start, want >= 7", r)
	}
	_ = time.Second
}
