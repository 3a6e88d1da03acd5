package kiosk_test

import (
	"testing"
	"time"

	"digitpad/desktop/kiosk"
)

func TestBackoff_GrowsToTheCapWithJitter(t *testing.T) {
	for _, tc := range []struct {
		name string
		rand float64
	}{{"least jitter", 0}, {"middle", 0.5}, {"most", 0.999999}} {
		t.Run(tc.name, func(t *testing.T) {
			b := kiosk.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second, Rand: func() float64 { return tc.rand }}
			for attempt, ceil := range []time.Duration{100, 200, 400, 800, 1600, 2000, 2000, 2000} {
				ceil *= time.Millisecond
				got := b.Delay(attempt)
				if got < ceil/2 || got > ceil {
					t.Errorf("Delay(%d) = %v, want within [%v, %v]", attempt, got, ceil/2, ceil)
				}
			}
			if got := b.Delay(1000); got > b.Max {
				t.Errorf("Delay(1000) = %v exceeds Max %v", got, b.Max)
			}
		})
	}
}

func TestBackoff_JitterSpreadsKiosks(t *testing.T) {
	b := kiosk.Backoff{Min: time.Second, Max: time.Minute}
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[b.Delay(3)] = true
	}
	if len(seen) < 10 {
		t.Errorf("50 delays took only %d distinct values: kiosks would reconnect in lockstep", len(seen))
	}
}
