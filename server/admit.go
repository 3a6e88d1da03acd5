package server

import (
	"context"
	"math"
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
//   - When a slot frees, the oldest waiter gets it, unless it has already waited longer than the budget (the
//     estimate was wrong: a burst of slow canvases, a neighbour's CPU spike); such stale waiters are refused
//     from the head of the queue, which drains a standing queue instead of serving everyone late.
//   - A waiter whose client gave up leaves the queue.
//
// The budget is the objective minus what holding a slot usually takes at most — the mean plus twice the mean
// deviation, as TCP bounds a round trip — and at least half the objective: a served prediction waits, then
// runs, and on a busy host the running part varies; the floor keeps a noisy host from shedding far more than the
// objective needs. Below saturation the queue stays short and nobody is refused, whatever the number of
// connections; at saturation the queue settles where its wait meets the budget, so served predictions stay
// near the objective and the excess gets cheap 503s.
//
// That estimate assumes slot times vary little. Under an overload burst they do not: the refused requests, the
// load generator and other processes take CPU from the predictions in their slots, whose times grow a long
// tail that a mean and a deviation do not see, and served predictions came out at 400 ms against a 100 ms
// objective. So the budget is also held to a limit steered by what served predictions actually took (wait plus
// slot), counted per window of feedbackWindow predictions: more than 1% over the objective because of their
// wait (the objective is a p99; a slot alone longer than the objective is no wait's fault) cuts the limit by a quarter, down to objective/20; a window with none over raises it by objective/100, up
// to the objective (a slow rise: the sawtooth then spends few windows above where predictions come out late). Shedding more when served predictions are late is what the objective asks, and it also
// gives the CPU back to the predictions in work, which is what shortens their tail. The clock is injected so
// tests run on a fake one.
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
	queue     []*waiter
	// limit caps the budget, steered by served predictions' times (see the type comment); served and late count
	// the current window's predictions and those over the objective.
	limit        time.Duration
	served, late int
}

// waiter is a queued prediction; ready receives true when it got a slot, false when it was shed.
type waiter struct {
	since time.Time
	ready chan bool
}

// serviceWeight is the weight of each new completion in the mean service time.
const serviceWeight = 0.05

// feedbackWindow is how many served predictions the budget's limit is judged on: enough that 1% of them is a
// count (the objective is a p99), few enough to react within a fraction of a second at a few thousand a second.
const feedbackWindow = 200

func newAdmitter(slots, maxQueue int, objective time.Duration, now func() time.Time) *admitter {
	if now == nil {
		now = time.Now
	}
	return &admitter{now: now, slots: max(1, slots), maxQueue: max(0, maxQueue), objective: objective,
		pause: max(0, objective/10), limit: objective}
}

// budget is how long a prediction may wait for a slot: the objective minus what holding a slot usually takes
// at most (mean + 2 × deviation), at least half the objective, and at most the limit that served predictions'
// times steer. Callers hold mu.
func (a *admitter) budget() time.Duration {
	return min(a.limit, max(a.objective/2, a.objective-time.Duration(a.service+2*a.spread)))
}

// observe counts a served prediction that waited wait for its slot and held it for slot, and moves the
// budget's limit at the end of each window: down by a quarter when more than 1% were late because of their
// wait, up by objective/100 when none was. A prediction whose slot alone took longer than the objective is not
// counted late: no wait budget could have served it in time, and shedding others for it would only refuse work
// (hostile canvases, a starved host).
func (a *admitter) observe(wait, slot time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.served++
	if wait+slot > a.objective && slot <= a.objective {
		a.late++
	}
	if a.served < feedbackWindow {
		return
	}
	switch {
	case a.late*100 > a.served:
		a.limit = max(a.objective/20, min(a.limit, a.budget())*3/4)
	case a.late == 0:
		a.limit = min(a.objective, a.limit+a.objective/100)
	}
	a.served, a.late = 0, 0
}

// expectedWait estimates the wait of a prediction with n predictions queued ahead of it. Callers hold mu.
func (a *admitter) expectedWait(n int) time.Duration {
	return time.Duration(float64(n+1) * a.service / float64(a.slots))
}

// enter admits, queues or sheds a prediction arriving now. admitted: it holds a slot; w != nil: it waits on
// w.ready; neither: shed.
func (a *admitter) enter() (admitted bool, w *waiter) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.busy < a.slots && len(a.queue) == 0 {
		a.busy++
		return true, nil
	}
	if a.objective <= 0 || len(a.queue) >= a.maxQueue || a.expectedWait(len(a.queue)) > a.budget() {
		return false, nil
	}
	w = &waiter{since: a.now(), ready: make(chan bool, 1)}
	a.queue = append(a.queue, w)
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
			return true
		}
	}
	return false
}

// release frees a slot held for took (negative: a slot given to a client that had already left, not a
// measurement) and hands free slots to waiters, refusing those that waited too long.
func (a *admitter) release(took time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case took < 0:
	case a.service == 0:
		a.service, a.spread = float64(took), float64(took)/2
	default:
		d := float64(took) - a.service
		a.service += serviceWeight * d
		a.spread += serviceWeight * (math.Abs(d) - a.spread)
	}
	a.busy--
	now := a.now()
	budget := a.budget()
	for len(a.queue) > 0 && a.busy < a.slots {
		w := a.queue[0]
		a.queue[0] = nil
		a.queue = a.queue[1:]
		if now.Sub(w.since) > budget {
			w.ready <- false
			continue
		}
		a.busy++
		w.ready <- true
	}
}

// acquire waits for a slot as the policy allows: ok false means shed (or ctx ended while waiting). On ok the
// caller must call done when the prediction is finished. A prediction refused on arrival is answered after a
// pause (pause, real time), so that closed-loop clients who resend at once cannot turn refusals into most of
// the server's work.
func (a *admitter) acquire(ctx context.Context) (done func(), ok bool) {
	arrived := a.now()
	admitted, w := a.enter()
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
				a.release(-1)
			}
			return nil, false
		}
		if !admitted {
			return nil, false
		}
	}
	start := a.now()
	return func() {
		slot := a.now().Sub(start)
		a.release(slot)
		a.observe(start.Sub(arrived), slot)
	}, true
}

// state reports slots in use, predictions waiting and the current queue-time budget (metrics, tests).
func (a *admitter) state() (busy, waiting int, budget time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.busy, len(a.queue), a.budget()
}
