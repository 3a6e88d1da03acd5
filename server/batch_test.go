package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"digitpad/server"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// gatedEngine is fakeEngine with Prepare held at a gate: each canvas reports its stroke count on prepared as its
// preparation starts (while its request or batch item holds an admission slot) and waits for proceed.
type gatedEngine struct {
	fakeEngine
	prepared chan int
	proceed  chan struct{}
	mu       sync.Mutex
	inside   int // canvases in Prepare now
	// untilGone holds each Prepare, once proceed is closed, until its request's context is done.
	untilGone bool
}

func (e *gatedEngine) Prepare(in server.Input, opt recognize.Options) (server.Job, error) {
	e.mu.Lock()
	e.inside++
	e.mu.Unlock()
	defer func() { e.mu.Lock(); e.inside--; e.mu.Unlock() }()
	e.prepared <- len(in.Strokes)
	<-e.proceed
	if e.untilGone && in.Context != nil {
		// Finish only once the server knows the client has gone (net/http's background read saw the close), so
		// the next item's check cannot race that goroutine on a busy machine.
		<-in.Context.Done()
	}
	return e.fakeEngine.Prepare(in, opt)
}

func (e *gatedEngine) preparing() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inside
}

func withGated(e *gatedEngine) func(*server.Config) {
	e.info = recognize.ModelInfo{Name: "gated", SHA256: strings.Repeat("0", 64)}
	return func(c *server.Config) {
		c.Loader = func(onnx, card []byte) (server.Engine, error) { return e, nil }
	}
}

// strokeItems is n batch items of k one-point strokes each (the gated engine sees k).
func strokeItems(n, k int) []protocol.Predict {
	items := make([]protocol.Predict, n)
	for i := range items {
		for j := range k {
			items[i].Strokes = append(items[i].Strokes, [][2]float64{{float64(10 + 10*j), 20}})
		}
		items[i].Width, items[i].Height = 100, 50
	}
	return items
}

// gauge reads one unlabelled metric's value from /metrics.
func gauge(t *testing.T, url, name string) string {
	t.Helper()
	for _, line := range strings.Split(metricsText(t, url), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// Issue 18: a batch was one admission slot, so 64 expensive items cost 64 requests' CPU behind one slot, and
// several batches ran several items each at once beside the slots. Now a batch is one admission unit whose
// weight is its items: each item takes a slot of its own, at most half the slots per batch, first come first
// served with every other client's predictions. Counted, not timed: with 4 slots and three 8-item batches,
// exactly 4 canvases are being prepared and the other two batch workers wait in the admission queue; a single
// prediction sent then waits in that queue too and is served as soon as one item finishes, before the batches'
// later items.
func TestBatch_ItemsTakeAdmissionSlotsOneByOne(t *testing.T) {
	e := &gatedEngine{prepared: make(chan int, 64), proceed: make(chan struct{})}
	ts := mustOpen(t, withGated(e), func(c *server.Config) { c.MaxInFlight = 4; c.LatencyObjective = time.Minute })

	type outcome struct {
		status  int
		results []server.BatchResult
	}
	batches := make(chan outcome, 3)
	for range 3 {
		go func() {
			r := postJSON(t, ts.URL+"/v1/predict/batch", server.BatchRequest{Items: strokeItems(8, 1)})
			var out struct{ Results []server.BatchResult }
			if r.Status == http.StatusOK {
				r.decode(t, &out)
			}
			batches <- outcome{r.Status, out.Results}
		}()
	}
	waitFor(t, "4 batch items in their slots and 2 queued", func() bool {
		return e.preparing() == 4 && gauge(t, ts.URL, "digitpad_admission_waiting") == "2"
	})
	if n := e.preparing(); n != 4 {
		t.Fatalf("%d canvases prepared at once with 4 admission slots, want 4", n)
	}
	if busy := gauge(t, ts.URL, "digitpad_admission_in_work"); busy != "4" {
		t.Errorf("admission in work = %s, want 4 (one slot per batch item)", busy)
	}
	for range 4 {
		if k := <-e.prepared; k != 1 {
			t.Fatalf("prepared a canvas of %d strokes, want a batch item (1)", k)
		}
	}

	single := make(chan int, 1)
	go func() {
		single <- postJSON(t, ts.URL+"/v1/predict", strokeItems(1, 2)[0]).Status
	}()
	waitFor(t, "the single prediction to queue behind the batch items", func() bool {
		return gauge(t, ts.URL, "digitpad_admission_waiting") == "3"
	})
	// One item finishes: its slot goes to the oldest waiter, a batch item queued before the single prediction.
	e.proceed <- struct{}{}
	if k := <-e.prepared; k != 1 {
		t.Fatalf("after the first item, prepared a canvas of %d strokes; want the batch item queued first (1)", k)
	}
	e.proceed <- struct{}{}
	if k := <-e.prepared; k != 1 {
		t.Fatalf("after the second item, prepared a canvas of %d strokes; want the batch item queued first (1)", k)
	}
	// The third slot freed goes to the single prediction, ahead of the items the batches queued after it.
	e.proceed <- struct{}{}
	if k := <-e.prepared; k != 2 {
		t.Fatalf("after the third item, prepared a canvas of %d strokes; want the single prediction (2): "+
			"a batch must not keep its slot between items", k)
	}
	close(e.proceed)
	if s := <-single; s != http.StatusOK {
		t.Errorf("single prediction: status %d", s)
	}
	for range 3 {
		o := <-batches
		if o.status != http.StatusOK || len(o.results) != 8 {
			t.Fatalf("batch: status %d, %d results", o.status, len(o.results))
		}
		for i, r := range o.results {
			if r.Prediction == nil || r.Prediction.Result.Code != "1" {
				t.Errorf("item %d: %+v", i, r)
			}
		}
	}
}

// A batch is admitted as a unit: shed before any of its items got a slot, it is answered 503 overloaded with
// Retry-After, like a single request, and none of its items is worked on.
func TestBatch_ShedWholeBeforeAnyItemStarts(t *testing.T) {
	e := &gatedEngine{prepared: make(chan int, 64), proceed: make(chan struct{})}
	ts := mustOpen(t, withGated(e), func(c *server.Config) { c.MaxInFlight = 1; c.LatencyObjective = -1 })
	single := make(chan int, 1)
	go func() { single <- postJSON(t, ts.URL+"/v1/predict", strokeItems(1, 2)[0]).Status }()
	if k := <-e.prepared; k != 2 {
		t.Fatalf("prepared %d strokes, want the single prediction's 2", k)
	}
	r := postJSON(t, ts.URL+"/v1/predict/batch", server.BatchRequest{Items: strokeItems(8, 1)})
	if ae := r.apiError(t); r.Status != http.StatusServiceUnavailable || ae.Code != protocol.EOverloaded ||
		r.Header.Get("Retry-After") == "" {
		t.Errorf("batch while the only slot is busy: %d %+v Retry-After %q, want 503 overloaded with Retry-After",
			r.Status, ae, r.Header.Get("Retry-After"))
	}
	close(e.proceed)
	if s := <-single; s != http.StatusOK {
		t.Errorf("single prediction: status %d", s)
	}
	select {
	case k := <-e.prepared:
		t.Errorf("a canvas of %d strokes was prepared after the batch was refused", k)
	default:
	}
	if !strings.Contains(metricsText(t, ts.URL), fmt.Sprintf(`digitpad_rejections_total{reason=%q} 1`, protocol.EOverloaded)) {
		t.Log(metricsText(t, ts.URL))
		t.Error("the refused batch is not counted as one overloaded rejection")
	}
}

// Work stops when the client leaves: a batch whose client hangs up while its first item is being prepared
// starts none of its other items, and the request is counted as a 499 cancellation, not an outage.
func TestBatch_ClientLeavingStopsItsItems(t *testing.T) {
	e := &gatedEngine{prepared: make(chan int, 64), proceed: make(chan struct{}), untilGone: true}
	ts := mustOpen(t, withGated(e), func(c *server.Config) { c.MaxInFlight = 2 }) // one item at a time
	body, _ := json.Marshal(server.BatchRequest{Items: strokeItems(8, 1)})
	cancel := hangUp(t, ts.URL+"/v1/predict/batch", "application/json", body)
	<-e.prepared // the first item holds a slot
	cancel()
	close(e.proceed)
	waitCancelledCounted(t, ts.URL)
	if n := len(e.prepared); n != 0 {
		t.Errorf("%d more items were prepared after the client left, want none", n)
	}
}

// Rate limits count a batch's items: with a burst of 10, a batch of 8 leaves 2 tokens, so a second batch of 8 is
// 429 with Retry-After before any work, while a single request still fits.
func TestBatch_RateLimitCountsItems(t *testing.T) {
	ts := mustOpen(t, withFake(&fakeEngine{}), func(c *server.Config) { c.RateLimit = 0.001; c.RateBurst = 10 })
	if r := postJSON(t, ts.URL+"/v1/predict/batch", server.BatchRequest{Items: strokeItems(8, 1)}); r.Status != http.StatusOK {
		t.Fatalf("first batch of 8: %d %s", r.Status, r.Body)
	}
	r := postJSON(t, ts.URL+"/v1/predict/batch", server.BatchRequest{Items: strokeItems(8, 1)})
	if ae := r.apiError(t); r.Status != http.StatusTooManyRequests || ae.Code != protocol.ERateLimited ||
		r.Header.Get("Retry-After") == "" {
		t.Errorf("second batch of 8 with 2 tokens left: %d %+v, want 429 rate_limited with Retry-After", r.Status, ae)
	}
	if r := postJSON(t, ts.URL+"/v1/predict", strokeItems(1, 1)[0]); r.Status != http.StatusOK {
		t.Errorf("single request with 2 tokens left: %d %s", r.Status, r.Body)
	}
}
