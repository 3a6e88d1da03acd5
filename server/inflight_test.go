package server_test

import (
	"net/http"
	"strings"
	"testing"

	"digitpad/server"
	"digitpad/shared/protocol"
)

// The autoscaler's per-pod signal counts predictions in work: 0 when idle, 2 while two wait on the model, 0 after.
func TestMetrics_InFlightPredictionsGauge(t *testing.T) {
	eng := &fakeEngine{gate: make(chan struct{}), entered: make(chan int, 10)}
	ts := mustOpen(t, withFake(eng), func(c *server.Config) { c.Workers = 1; c.BatchMax = 1 })
	inflight := func() string {
		for _, l := range strings.Split(metricsText(t, ts.URL), "\n") {
			if v, ok := strings.CutPrefix(l, "digitpad_inflight_predictions "); ok {
				return v
			}
		}
		return "missing"
	}
	if got := inflight(); got != "0" {
		t.Fatalf("idle: digitpad_inflight_predictions = %s, want 0", got)
	}
	body := protocol.Predict{Strokes: [][][2]float64{{{1, 1}}}, Width: 10, Height: 10}
	done := make(chan int, 2)
	for range 2 {
		go func() { done <- postJSON(t, ts.URL+"/v1/predict", body).Status }()
	}
	<-eng.entered
	waitFor(t, "two predictions in flight", func() bool { return inflight() == "2" })
	close(eng.gate)
	for range 2 {
		if s := <-done; s != http.StatusOK {
			t.Errorf("prediction finished with %d", s)
		}
	}
	waitFor(t, "no prediction in flight", func() bool { return inflight() == "0" })
}
