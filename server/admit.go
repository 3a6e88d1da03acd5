package server

import (
	"sync"
	"time"
)

// admitter bounds predictions in work with a limit that adapts to latency (AIMD, as TCP does with its window):
// while predictions finish within the target the limit grows by one per limit completions; completions over the
// target shrink it by a tenth, at most once per target interval, once they are a quarter of the completions seen
// in the current target-long window (counted against the previous window's total, so the first completion of a
// window does not speak for all of it). A lone slow completion — a collector pause, a neighbour's burst on the
// host — then leaves the limit alone, while a machine that is really short of CPU, where most completions are
// slow, shrinks it within a few completions. The limit stays within [min, max]. On an idle machine it settles at
// max; when CPU is short (a burst, or neighbours on a shared host) it drops, so excess requests are refused at
// once instead of every request getting slow.
type admitter struct {
	mu           sync.Mutex
	limit        float64
	min, max     float64 // bounds of limit
	target       time.Duration
	inflight     int
	lastDecrease time.Time

	winStart       time.Time // current window of one target
	n, slow, prevN int       // completions and slow ones in the window; completions in the previous one
}

func newAdmitter(lo, hi int, target time.Duration) *admitter {
	hi = max(1, hi)
	lo = max(1, min(lo, hi))
	return &admitter{limit: float64(hi), min: float64(lo), max: float64(hi), target: target}
}

// acquire takes a slot, or reports false when the limit is reached.
func (a *admitter) acquire() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inflight >= int(a.limit) {
		return false
	}
	a.inflight++
	return true
}

// release returns a slot and adapts the limit to how long the prediction took.
func (a *admitter) release(took time.Duration, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inflight--
	if a.target <= 0 {
		return
	}
	if now.Sub(a.winStart) >= a.target {
		a.winStart, a.prevN, a.n, a.slow = now, a.n, 0, 0
	}
	a.n++
	if took > a.target {
		a.slow++
		if 4*a.slow >= max(a.n, a.prevN) && now.Sub(a.lastDecrease) >= a.target {
			a.limit = max(a.min, a.limit*0.9)
			a.lastDecrease = now
		}
		return
	}
	a.limit = min(a.max, a.limit+1/a.limit)
}

// current is the limit now (for metrics and tests).
func (a *admitter) current() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int(a.limit)
}
