package kiosk

import (
	"math"
	"math/rand/v2"
	"time"
)

// Backoff spaces reconnection attempts: exponential growth from Min to Max, with "equal jitter" (a random
// delay in [d/2, d]) so a depot's kiosks do not all reconnect in the same instant after a server restart.
type Backoff struct {
	Min, Max time.Duration
	// Rand returns a number in [0, 1); nil means math/rand/v2.
	Rand func() float64
}

// DefaultBackoff waits 0.5–1 s after the first failure, growing to at most 30 s.
func DefaultBackoff() Backoff { return Backoff{Min: time.Second, Max: 30 * time.Second} }

// Delay returns the wait before retry number attempt (0 for the first retry).
func (b Backoff) Delay(attempt int) time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = time.Second
	}
	if hi < lo {
		hi = lo
	}
	d := float64(lo) * math.Pow(2, float64(max(0, attempt)))
	d = min(d, float64(hi))
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	return time.Duration(d/2 + r()*d/2)
}
