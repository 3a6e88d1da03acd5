// Package capacity simulates the Kubernetes HorizontalPodAutoscaler in front of digitpad pods whose capacity was
// measured (measure.sh), so the capacity plan (CAPACITY.md) can show replicas, queueing and p99 through a burst.
//
// The HPA part follows the documented algorithm (kubernetes.io, "Horizontal Pod Autoscaling", autoscaling/v2):
// every sync period (15 s) each metric proposes ceil(readyPods × current/target), nothing changes while the ratio
// is within the tolerance (0.1), the largest proposal wins, scale-down takes the highest recommendation of the
// stabilisation window (300 s by default) and scale-up none (0 s), and the scaling policies bound each period's
// change (default scale-up: the larger of +100 % and +4 pods per 15 s; scale-down: -100 % per 15 s).
//
// The pods are a fluid model: a pod serves up to Capacity requests/s; below that, latency is an M/M/1 queue's
// (a pessimistic model for a multi-worker server with low service-time variance); above it, requests queue until
// the expected wait reaches the latency objective and are shed beyond (the server's admission control).
package capacity

import (
	"math"
	"time"
)

// Params describe the pods, the HPA and the cluster.
type Params struct {
	// CPUPerRequest is the measured CPU time one prediction costs (measure.sh: server CPU ms per request).
	CPUPerRequest time.Duration
	// PodCores is the CPU a pod can use when all pods on its node are busy: a 2-vCPU node (c7i.large) has ~1.9
	// allocatable cores, shared by PodsPerNode pods (requests 0.5 each) and the node's daemons: ~0.6 each.
	PodCores float64
	// CPURequest is the pod's CPU request in cores: the base of the HPA's utilisation.
	CPURequest float64
	// Objective is the latency objective: the server sheds rather than queue beyond it.
	Objective time.Duration

	MinReplicas, MaxReplicas int
	// CPUTarget is the HPA's averageUtilization (percent of the request); InFlightTarget its averageValue of
	// digitpad_inflight_predictions per pod. Zero disables a metric.
	CPUTarget, InFlightTarget float64
	// CPUWindow and InFlightWindow: how far back each metric averages (metrics-server ~30 s; the adapter rule's
	// avg_over_time 30 s).
	CPUWindow, InFlightWindow time.Duration

	SyncPeriod       time.Duration // 15 s
	Tolerance        float64       // 0.1
	ScaleDownWindow  time.Duration // 300 s
	ScaleUpPercent   float64       // 100 (% per SyncPeriod)
	ScaleUpPods      int           // 4 (pods per SyncPeriod)
	ScaleDownPercent float64       // 100 (% per SyncPeriod)

	// PodStart is scheduling to ready when a node has room; PodsPerNode how many pods a node holds (by requests);
	// NodeStart how long the cluster autoscaler takes to add a node (scan, EC2 boot, join).
	PodStart    time.Duration
	PodsPerNode int
	NodeStart   time.Duration
	// MinNodes is the node group's minimum (deploy/aws: 3, one per zone).
	MinNodes int
}

// Defaults are the HPA's documented defaults and the deploy/k8s manifests' settings.
func Defaults() Params {
	return Params{
		CPUPerRequest: 2850 * time.Microsecond, PodCores: 0.6, CPURequest: 0.5, Objective: 100 * time.Millisecond,
		MinReplicas: 6, MaxReplicas: 30, CPUTarget: 60, InFlightTarget: 16,
		CPUWindow: 30 * time.Second, InFlightWindow: 30 * time.Second,
		SyncPeriod: 15 * time.Second, Tolerance: 0.1, ScaleDownWindow: 300 * time.Second,
		ScaleUpPercent: 100, ScaleUpPods: 4, ScaleDownPercent: 100,
		PodStart: 10 * time.Second, PodsPerNode: 3, NodeStart: 90 * time.Second, MinNodes: 3,
	}
}

// Capacity is what one pod serves per second at full use of its cores.
func (p Params) Capacity() float64 { return p.PodCores / p.CPUPerRequest.Seconds() }

// Point is the state at one second.
type Point struct {
	T                 float64 // seconds
	Offered, Served   float64 // requests/s
	Shed              float64 // requests/s refused (503)
	Queue             float64 // requests waiting, all pods
	P99               float64 // seconds, of served requests
	Desired, Ready    int
	Nodes             int
	CPUUtil, InFlight float64 // the HPA's inputs: % of request, per pod
}

type pending struct {
	readyAt float64
}

// Simulate runs load (requests/s at second t) for the given number of seconds, one step a second.
func Simulate(p Params, load func(t float64) float64, seconds int) []Point {
	mu := p.Capacity()
	ready := p.MinReplicas
	nodes := max(p.MinNodes, (p.MinReplicas+p.PodsPerNode-1)/p.PodsPerNode)
	var starting []pending
	desired := ready
	type rec struct {
		t float64
		n int
	}
	var recs []rec
	var queue float64
	var out []Point
	for s := 0; s < seconds; s++ {
		t := float64(s)
		// Pods and nodes coming up.
		kept := starting[:0]
		for _, ps := range starting {
			if ps.readyAt <= t {
				ready++
			} else {
				kept = append(kept, ps)
			}
		}
		starting = kept
		if need := (ready + len(starting) + p.PodsPerNode - 1) / p.PodsPerNode; need > nodes {
			nodes = need // the new nodes' pods carry NodeStart in their readyAt
		}

		// Serve one second.
		lambda := load(t)
		capacity := float64(ready) * mu
		work := queue + lambda
		served := math.Min(work, capacity)
		queue = work - served
		maxQueue := capacity * p.Objective.Seconds()
		shed := 0.0
		if queue > maxQueue {
			shed, queue = queue-maxQueue, maxQueue
		}
		perPod := lambda / float64(ready)
		var p99, sojourn float64
		if queue > 1e-9 || perPod >= mu {
			sojourn = queue/capacity + 1/mu
			p99 = sojourn + math.Log(100)/mu
		} else {
			sojourn = 1 / (mu - perPod)
			p99 = math.Log(100) / (mu - perPod)
		}
		p99 = math.Min(p99, p.Objective.Seconds()+math.Log(100)/mu)
		pt := Point{T: t, Offered: lambda, Served: served, Shed: shed, Queue: queue, P99: p99, Ready: ready,
			Nodes: nodes, CPUUtil: 100 * (served / float64(ready)) * p.CPUPerRequest.Seconds() / p.CPURequest,
			InFlight: math.Min(served/float64(ready)*sojourn+queue/float64(ready), 1e9)}
		out = append(out, pt)

		// The HPA's sync.
		if s > 0 && math.Mod(t, p.SyncPeriod.Seconds()) == 0 {
			current := ready + len(starting)
			proposal := 0
			for _, m := range []struct {
				target float64
				window time.Duration
				get    func(Point) float64
			}{
				{p.CPUTarget, p.CPUWindow, func(x Point) float64 { return x.CPUUtil }},
				{p.InFlightTarget, p.InFlightWindow, func(x Point) float64 { return x.InFlight }},
			} {
				if m.target <= 0 {
					continue
				}
				v := average(out, m.window, m.get)
				ratio := v / m.target
				n := current
				if math.Abs(ratio-1) > p.Tolerance {
					n = int(math.Ceil(ratio * float64(ready)))
					// Pods still starting count as using nothing: when that turns a scale-up into no change
					// (their capacity already covers the load), the replica count stays.
					if ratio > 1 && n < current {
						n = current
					}
				}
				proposal = max(proposal, n)
			}
			proposal = min(max(proposal, p.MinReplicas), p.MaxReplicas)
			recs = append(recs, rec{t, proposal})
			// Stabilisation: scale down to the highest recommendation of the window; scale up at once.
			stable := proposal
			for _, r := range recs {
				if t-r.t <= p.ScaleDownWindow.Seconds() && r.n > stable {
					stable = r.n
				}
			}
			if stable < current {
				stable = max(stable, current-int(math.Floor(float64(current)*p.ScaleDownPercent/100)))
			}
			periodStart := current
			if stable > current {
				limit := max(periodStart+int(math.Ceil(float64(periodStart)*p.ScaleUpPercent/100)), periodStart+p.ScaleUpPods)
				stable = min(stable, limit)
			}
			desired = stable
			// Apply: start pods (on a new node when the current ones are full), or stop the newest.
			for current < desired {
				at := t + p.PodStart.Seconds()
				if current+1 > nodes*p.PodsPerNode {
					at += p.NodeStart.Seconds()
				}
				starting = append(starting, pending{readyAt: at})
				current++
			}
			for current > desired {
				if len(starting) > 0 {
					starting = starting[:len(starting)-1]
				} else {
					ready--
				}
				current--
			}
			// The cluster autoscaler removes nodes left empty (after its 10-minute delay, not modelled here).
		}
		out[len(out)-1].Desired = desired
	}
	return out
}

func average(pts []Point, window time.Duration, get func(Point) float64) float64 {
	n := min(len(pts), int(window.Seconds()))
	if n == 0 {
		return 0
	}
	sum := 0.0
	for _, x := range pts[len(pts)-n:] {
		sum += get(x)
	}
	return sum / float64(n)
}

// ShiftChange is the burst profile of the plan: base requests/s, a ramp to factor × base over ramp starting at
// start, held for hold, then back down over ramp.
func ShiftChange(base, factor float64, start, ramp, hold time.Duration) func(t float64) float64 {
	s, r, h := start.Seconds(), ramp.Seconds(), hold.Seconds()
	peak := base * factor
	return func(t float64) float64 {
		switch {
		case t < s:
			return base
		case t < s+r:
			return base + (peak-base)*(t-s)/r
		case t < s+r+h:
			return peak
		case t < s+2*r+h:
			return peak - (peak-base)*(t-s-r-h)/r
		}
		return base
	}
}
