package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"digitpad/server/store"
)

// testRetention: PrunePredictions deletes predictions older than MaxAge by the injected clock, then the oldest
// beyond MaxBytes of payload, keeping the newest; feedback is never deleted; the stats it returns describe
// what is left.
func testRetention(t *testing.T, b Backend) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	st := b.MustOpen(t, b.NewDSN(t), store.WithClock(clock))
	pr, ok := st.(store.Pruner)
	if !ok {
		t.Fatalf("%T does not implement store.Pruner", st)
	}
	// 40 predictions, one an hour over the 40 hours before now, oldest first.
	var ps []store.Prediction
	for i := range 40 {
		p := SamplePrediction(fmt.Sprintf("ret-%02d", i), i)
		p.CreatedAt = now.Add(-time.Duration(40-i) * time.Hour)
		ps = append(ps, p)
	}
	if err := st.SavePredictions(ctx(), ps); err != nil {
		t.Fatal(err)
	}
	fb := SampleFeedback("ret-fb", "10115")
	fb.PredictionID = "ret-00"
	mustSave(t, st, fb)

	deleted, all, err := pr.PrunePredictions(ctx(), store.Retention{})
	if err != nil || deleted != 0 || all.Rows != 40 || all.Bytes <= 0 {
		t.Fatalf("no retention: deleted %d, left %+v, %v; want nothing deleted, 40 rows", deleted, all, err)
	}
	perRow := all.Bytes / 40 // the samples differ by a few bytes at most

	// Age: older than 24 h goes (the 16 created 40..25 h ago); exactly the ones the clock says.
	deleted, left, err := pr.PrunePredictions(ctx(), store.Retention{MaxAge: 24*time.Hour + 30*time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if deleted != 16 || left.Rows != 24 {
		t.Errorf("MaxAge 24.5h: deleted %d, %d left; want 16 deleted, 24 left", deleted, left.Rows)
	}
	assertPresence(t, st, "ret-15", false)
	assertPresence(t, st, "ret-16", true)

	// The clock moves on 10 hours: 10 more are past the age limit.
	mu.Lock()
	now = now.Add(10 * time.Hour)
	mu.Unlock()
	if deleted, _, err = pr.PrunePredictions(ctx(), store.Retention{MaxAge: 24*time.Hour + 30*time.Minute}); err != nil || deleted != 10 {
		t.Errorf("10 hours later: deleted %d, %v; want 10", deleted, err)
	}

	// Size: keep at most 5.5 rows' worth: the newest 5 stay, the rest go.
	deleted, left, err = pr.PrunePredictions(ctx(), store.Retention{MaxBytes: perRow*11/2 + perRow/4})
	if err != nil {
		t.Fatal(err)
	}
	if deleted != 9 || left.Rows != 5 {
		t.Errorf("MaxBytes of 5.5 rows: deleted %d, %d left; want 9 deleted, 5 left", deleted, left.Rows)
	}
	if left.Bytes > perRow*11/2+perRow/4 || left.Bytes < 4*perRow {
		t.Errorf("%d bytes left, want within the limit and no less than needed (row ~%d bytes)", left.Bytes, perRow)
	}
	assertPresence(t, st, "ret-34", false)
	assertPresence(t, st, "ret-35", true)
	assertPresence(t, st, "ret-39", true)

	// Feedback survives its prediction.
	if got := mustList(t, st); len(got) != 1 || got[0].IdempotencyKey != "ret-fb" {
		t.Errorf("feedback after retention: %d records, want the one", len(got))
	}
}

func assertPresence(t *testing.T, st store.Store, id string, want bool) {
	t.Helper()
	_, _, err := st.Prediction(ctx(), id)
	if got := err == nil; got != want {
		t.Errorf("prediction %s present = %v, want %v (err %v)", id, got, want, err)
	}
}
