package server

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"
)

// admitter lets at most slots predictions be in work at once and queues the rest, first come first served, for
// as long as their wait fits a queue-time budget derived from the latency objective; only beyond it are they
// shed. The policy, in the spirit of CoDel (which judges a queue by how long packets sit in it, not by how many
// there are):
//
//   - On arrival, a prediction that finds a free slot and nobody waiting starts at once.
//   - Otherwise its wait is estimated from the queue ahead of it and the measured time a prediction holds a
//     slot (an exponentially weighted mean): (waiting+1) × service / slots. If that exceeds the budget, it is
//     refused without work: a refusal costs microseconds of CPU. It is answered after a pause (a parked
//     goroutine; a tenth of the objective), so that closed-loop clients, who resend at once, cannot turn
//     refusals into a storm that takes the CPU from the predictions being served.
//   - Waiters are served in start-time fair queuing order (SFQ, Goyal et al. 1996) across flows — client
//     identities (address, or token and client id) — each request weighted by its flow's measured cost (mean slot
//     holding time): a flow's request starts at virtual time max(now, the end of that flow's earlier work), and
//     the waiter with the earliest start goes next. Every busy flow thus gets an equal share of slot time, so a
//     client whose requests cost ten times more gets a tenth of the answers, and a cheap client arriving behind
//     an expensive one's backlog is served ahead of it; within one flow the order stays first come first served.
//     The arrival's expected wait counts only the waiters that start before it, so the expensive flow's
//     requests are the ones that wait past the budget and are shed.
//   - When a slot frees, the first waiter in that order gets it, unless it has already waited longer than the
//     budget (the estimate was wrong: a burst of slow canvases, a neighbour's CPU spike); such stale waiters are
//     refused from the head of the queue, which drains a standing queue instead of serving everyone late.
//   - A waiter whose client gave up leaves the queue.
//
// The budget is the objective minus what holding a slot usually takes at most — the mean plus twice the mean
// deviation, as TCP bounds a round trip — and at least half the objective: a served prediction waits, then
// runs, and on a busy host the running part varies; the floor keeps a noisy host from shedding far more than the
// objective needs. Below saturation the queue stays short and nobody is refused, whatever the number of
// connections; at saturation the queue settles where its wait meets the budget, so served predictions stay
// near the objective and the excess gets cheap 503s. The clock is injected so tests run on a fake one.
type admitter struct {
	mu        sync.Mutex
	now       func() time.Time
	slots     int
	busy      int
	maxQueue  int
	objective time.Duration
	pause     time.Duration // how long a refusal on arrival is held before it is answered
	service   float64       // mean slot holding time in nanoseconds (EWMA); 0 until measured
	spread    float64       // mean absolute deviation from it (EWMA), as TCP estimates its RTT variance
	queue     []*waiter     // in start-tag order
	flows     map[string]*flow
	vtime     float64 // the virtual time: the start tag of the prediction dispatched last
}

// flow is one client identity's state in the fair queue.
type flow struct {
	finish  float64 // virtual time when its work admitted or queued so far ends (SFQ finish tag), ns of slot time
	cost    float64 // mean slot holding time of its predictions (EWMA), ns; 0 until measured
	pending int     // its predictions queued or in work
}

// flowCostWeight is the weight of each new completion in a flow's mean cost: a flow's first few predictions are
// priced at the global mean, and an expensive client is recognised within a few of its own.
const flowCostWeight = 0.25

// maxIdleFlows bounds the flows kept without predictions pending (their debt in the fair queue).
const maxIdleFlows = 4096

// waiter is a queued prediction; ready receives true when it got a slot, false when it was shed.
type waiter struct {
	since time.Time
	ready chan bool
	flow  *flow
	start float64 // SFQ start tag
}

// serviceWeight is the weight of each new completion in the mean service time.
const serviceWeight = 0.05

func newAdmitter(slots, maxQueue int, objective time.Duration, now func() time.Time) *admitter {
	if now == nil {
		now = time.Now
	}
	return &admitter{now: now, slots: max(1, slots), maxQueue: max(0, maxQueue), objective: objective,
		pause: max(0, objective/10), flows: map[string]*flow{}}
}

// budget is how long a prediction may wait for a slot: the objective minus what holding a slot usually takes
// at most (mean + 2 × deviation), at least half the objective. Callers hold mu.
func (a *admitter) budget() time.Duration {
	return max(a.objective/2, a.objective-time.Duration(a.service+2*a.spread))
}

// expectedWait estimates the wait of a prediction with n predictions queued ahead of it. Callers hold mu.
func (a *admitter) expectedWait(n int) time.Duration {
	return time.Duration(float64(n+1) * a.service / float64(a.slots))
}

// flowOf is key's flow, created when new. Callers hold mu.
func (a *admitter) flowOf(key string) *flow {
	f := a.flows[key]
	if f == nil {
		if len(a.flows) >= maxIdleFlows+a.slots+a.maxQueue {
			for k, g := range a.flows {
				if g.pending == 0 {
					delete(a.flows, k)
				}
			}
		}
		f = &flow{}
		a.flows[key] = f
	}
	return f
}

// tag is the start tag of f's next prediction and its finish after it. Callers hold mu.
func (a *admitter) tag(f *flow) (start, finish float64) {
	cost := f.cost
	if cost == 0 {
		cost = max(a.service, 1)
	}
	start = max(a.vtime, f.finish)
	return start, start + cost
}

// enter admits, queues or sheds a prediction of flow key arriving now. admitted: it holds a slot (the caller
// must release it); w != nil: it waits on w.ready; neither: shed.
func (a *admitter) enter(key string) (admitted bool, w *waiter) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.flowOf(key)
	start, finish := a.tag(f)
	if a.busy < a.slots && len(a.queue) == 0 {
		a.busy++
		f.pending++
		f.finish, a.vtime = finish, start
		return true, nil
	}
	if a.objective <= 0 {
		return false, nil
	}
	at := len(a.queue) // its place: after every waiter starting no later
	for at > 0 && a.queue[at-1].start > start {
		at--
	}
	if a.expectedWait(at) > a.budget() || at >= a.maxQueue {
		return false, nil
	}
	if len(a.queue) >= a.maxQueue { // full: the waiter starting last makes room
		last := a.queue[len(a.queue)-1]
		a.queue = a.queue[:len(a.queue)-1]
		last.flow.pending--
		last.ready <- false
	}
	w = &waiter{since: a.now(), ready: make(chan bool, 1), flow: f, start: start}
	a.queue = slices.Insert(a.queue, at, w)
	f.pending++
	f.finish = finish
	return false, w
}

// leave takes a waiter whose client gave up out of the queue. It reports false when the waiter was already
// given a slot (the caller must release it) or refused.
func (a *admitter) leave(w *waiter) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, q := range a.queue {
		if q == w {
			a.queue = append(a.queue[:i], a.queue[i+1:]...)
			w.flow.pending--
			return true
		}
	}
	return false
}

// release frees a slot held for took by a prediction of flow key (took negative: a slot given to a client that
// had already left, not a measurement) and hands free slots to waiters, refusing those that waited too long.
func (a *admitter) release(key string, took time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.flowOf(key) // exists while it has a prediction pending
	switch {
	case took < 0:
	case a.service == 0:
		a.service, a.spread = float64(took), float64(took)/2
	default:
		d := float64(took) - a.service
		a.service += serviceWeight * d
		a.spread += serviceWeight * (math.Abs(d) - a.spread)
	}
	if took >= 0 {
		if f.cost == 0 {
			f.cost = float64(took)
		} else {
			f.cost += flowCostWeight * (float64(took) - f.cost)
		}
	}
	f.pending--
	a.busy--
	now := a.now()
	budget := a.budget()
	for len(a.queue) > 0 && a.busy < a.slots {
		w := a.queue[0]
		a.queue[0] = nil
		a.queue = a.queue[1:]
		if now.Sub(w.since) > budget {
			w.flow.pending--
			w.ready <- false
			continue
		}
		a.busy++
		a.vtime = max(a.vtime, w.start)
		w.ready <- true
	}
}

// acquire waits for a slot as the policy allows: ok false means shed (or ctx ended while waiting). On ok the
// caller must call done when the prediction is finished. A prediction refused on arrival is answered after a
// pause (pause, real time), so that closed-loop clients who resend at once cannot turn refusals into most of
// the server's work.
func (a *admitter) acquire(ctx context.Context, key string) (done func(), ok bool) {
	admitted, w := a.enter(key)
	if !admitted && w == nil {
		if a.pause > 0 {
			t := time.NewTimer(a.pause)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		return nil, false
	}
	if w != nil {
		select {
		case admitted = <-w.ready:
		case <-ctx.Done():
			if a.leave(w) {
				return nil, false
			}
			if admitted = <-w.ready; admitted {
				a.release(key, -1)
			}
			return nil, false
		}
		if !admitted {
			return nil, false
		}
	}
	start := a.now()
	return func() { a.release(key, a.now().Sub(start)) }, true
}

// state reports slots in use, predictions waiting and the current queue-time budget (metrics, tests).
func (a *admitter) state() (busy, waiting int, budget time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.busy, len(a.queue), a.budget()
}
