package server

// inFlight reports the predictions in work or queued for a slot now (HTTP and websocket). It is the per-pod signal
// the Kubernetes HorizontalPodAutoscaler scales on (deploy/k8s: digitpad_inflight_predictions through
// prometheus-adapter): unlike CPU it rises at once when requests queue, and unlike a request rate it does not depend
// on request size.
func (a *admitter) inFlight() int {
	busy, waiting, _ := a.state()
	return busy + waiting
}
