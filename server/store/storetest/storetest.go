// Package storetest is the behaviour every store.Store must show, run against each backend by its own tests:
//
//	storetest.Run(t, storetest.Backend{NewDSN: ..., Open: ...})
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"digitpad/server/store"
	"digitpad/server/store/schema"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// Backend tells the suite how to get stores.
type Backend struct {
	// NewDSN returns the DSN of a fresh, empty database that lives until the test ends.
	NewDSN func(tb testing.TB) string
	// Open opens a store on a DSN (called again on the same DSN to test reopening), passing opts on to the
	// backend (the suite injects a clock with store.WithClock).
	Open func(ctx context.Context, dsn string, opts ...store.Option) (store.Store, error)
}

// Migrator is implemented by stores that can list their applied schema migrations.
type Migrator interface {
	Migrations(ctx context.Context) ([]schema.Applied, error)
}

// MustOpen opens a store on dsn and closes it when the test ends.
func (b Backend) MustOpen(tb testing.TB, dsn string, opts ...store.Option) store.Store {
	tb.Helper()
	st, err := b.Open(context.Background(), dsn, opts...)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// MustNew opens a store on a fresh database.
func (b Backend) MustNew(tb testing.TB) store.Store {
	tb.Helper()
	return b.MustOpen(tb, b.NewDSN(tb))
}

// Run runs the suite.
func Run(t *testing.T, b Backend) {
	t.Run("Feedback_RoundTripsEveryField", func(t *testing.T) { testFeedbackRoundTrip(t, b) })
	t.Run("Feedback_MinimalRecord", func(t *testing.T) { testFeedbackMinimal(t, b) })
	t.Run("Prediction_RoundTripsEveryField", func(t *testing.T) { testPredictionRoundTrip(t, b) })
	t.Run("Prediction_ListsItsFeedback", func(t *testing.T) { testPredictionFeedback(t, b) })
	t.Run("Prediction_UnknownIDIsNotFound", func(t *testing.T) { testUnknownPrediction(t, b) })
	t.Run("SaveFeedback_ResendIsIdempotent", func(t *testing.T) { testResendSequential(t, b) })
	t.Run("SaveFeedback_ConcurrentResendStoresOneRow", func(t *testing.T) { testResendConcurrent(t, b) })
	t.Run("SaveFeedback_RejectsInvalidRecords", func(t *testing.T) { testInvalid(t, b) })
	t.Run("SavePredictions_Batch", func(t *testing.T) { testBatchPredictions(t, b) })
	t.Run("SavePredictions_InvalidBatchStoresNothing", func(t *testing.T) { testInvalidBatch(t, b) })
	t.Run("Feedback_PagesInInsertionOrder", func(t *testing.T) { testPagination(t, b) })
	t.Run("Feedback_AfterUnknownIDIsNotFound", func(t *testing.T) { testPageUnknownAfter(t, b) })
	t.Run("Feedback_RejectsNonPositiveLimit", func(t *testing.T) { testPageBadLimit(t, b) })
	t.Run("Reopen_MigrationsAreANoOp", func(t *testing.T) { testReopenMigrations(t, b) })
	t.Run("Clock_StampsMigrationsAndReceipts", func(t *testing.T) { testClock(t, b) })
	t.Run("Reopen_DataSurvives", func(t *testing.T) { testReopenData(t, b) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, b) })
	t.Run("Lock_OneHolderAtATime", func(t *testing.T) { testLock(t, b) })
	t.Run("Retention_AgeAndSize", func(t *testing.T) { testRetention(t, b) })
	t.Run("Devices_EnrolOnceRevoke", func(t *testing.T) { testDevices(t, b) })
	t.Run("Ping", func(t *testing.T) {
		if err := b.MustNew(t).Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// Input returns a recognisable 28×28 input for digit label (variant v): a bright bar whose row is the label, on a
// black background, so a test can tell inputs apart and check export pixels.
func Input(label, v int) []byte {
	in := make([]byte, store.InputSize)
	for x := 0; x < 28; x++ {
		in[(4+2*label)*28+x] = 255
	}
	in[(v%28)*28+(v/28)%28] = 128
	return in
}

// SampleFeedback returns a complete, valid record for code with the given idempotency key: labels, inputs,
// per-digit outputs (the first digit predicted wrong, as a corrected record), ink and times.
func SampleFeedback(key, code string) protocol.Feedback {
	f := protocol.Feedback{
		IdempotencyKey: key,
		PredictionID:   "pred-" + key,
		ClientID:       "pad-7",
		Code:           code,
		ModelSHA256:    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		InkPNG:         []byte("\x89PNG fake ink for " + key),
		CreatedAt:      time.Date(2026, 11, 22, 9, 30, 15, 123456789, time.FixedZone("CET", 3600)),
	}
	pred := []byte(code)
	for i := range code {
		l := int(code[i] - '0')
		f.Labels = append(f.Labels, l)
		f.Inputs = append(f.Inputs, Input(l, i))
		d := l
		if i == 0 {
			d = (l + 1) % 10
			pred[i] = byte('0' + d)
		}
		var probs [10]float64
		probs[d] = 0.75
		probs[(d+3)%10] = 0.25
		f.Digits = append(f.Digits, recognize.Digit{Digit: d, Confidence: 0.75, Probs: probs, Box: [4]int{i * 40, 3, i*40 + 30, 60}})
	}
	f.Predicted = string(pred)
	return f
}

// SamplePrediction returns a complete prediction with id.
func SamplePrediction(id string, i int) store.Prediction {
	in := [784]float32{}
	in[i%784] = 1
	in[(i+400)%784] = 0.6 // = 153/255: stores keep inputs as bytes
	return store.Prediction{
		ID:        id,
		CreatedAt: time.Date(2026, 11, 22, 9, 30, 0, 987654321, time.UTC).Add(time.Duration(i) * time.Millisecond),
		ClientID:  fmt.Sprintf("pad-%d", i%5),
		InkPNG:    []byte(fmt.Sprintf("ink %d", i)),
		Result: recognize.Result{
			Code: "10115",
			Digits: []recognize.Digit{
				{Digit: 1, Confidence: 0.991, Probs: [10]float64{0.001, 0.991, 0.008}, Box: [4]int{1, 2, 30, 60}},
				{Digit: 0, Confidence: 0.42, Probs: [10]float64{0.42, 0.3, 0.28}, Box: [4]int{40, 2, 70, 60}},
			},
			Confidence:  0.42,
			Confirm:     []int{1},
			FormatError: "want 5 digits",
			Model:       recognize.ModelInfo{Name: "conv32", SHA256: "abc123"},
			Inputs:      [][784]float32{in, in},
		},
	}
}

// want is how a record comes back: times in UTC at microsecond precision.
func want(f protocol.Feedback) protocol.Feedback {
	f.CreatedAt = Micro(f.CreatedAt)
	return f
}

// Micro is t as stores return it: UTC, microsecond precision.
func Micro(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }

func ctx() context.Context { return context.Background() }

func mustSave(tb testing.TB, st store.Store, f protocol.Feedback) string {
	tb.Helper()
	id, dup, err := st.SaveFeedback(ctx(), f)
	if err != nil {
		tb.Fatalf("SaveFeedback(%s): %v", f.IdempotencyKey, err)
	}
	if dup {
		tb.Fatalf("SaveFeedback(%s): duplicate=true for a new key", f.IdempotencyKey)
	}
	return id
}

func mustList(tb testing.TB, st store.Store) []store.Feedback {
	tb.Helper()
	var all []store.Feedback
	after := ""
	for {
		page, err := st.Feedback(ctx(), after, 1000)
		if err != nil {
			tb.Fatalf("Feedback(%q): %v", after, err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
}

func diff(tb testing.TB, what string, got, want any) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		tb.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

func testFeedbackRoundTrip(t *testing.T, b Backend) {
	st := b.MustNew(t)
	f := SampleFeedback("k1", "10115")
	// Without store.WithClock the store reads the system clock.
	before := time.Now().Add(-time.Millisecond)
	id := mustSave(t, st, f)
	after := time.Now().Add(time.Millisecond)
	if id == "" {
		t.Fatal("SaveFeedback returned an empty id")
	}
	got := mustList(t, st)
	if len(got) != 1 {
		t.Fatalf("Feedback listed %d records, want 1", len(got))
	}
	if got[0].ID != id {
		t.Errorf("ID = %q, want %q", got[0].ID, id)
	}
	if r := got[0].ReceivedAt; r.Before(before) || r.After(after) || r.Location() != time.UTC {
		t.Errorf("ReceivedAt = %v, want UTC within [%v, %v]", r, before, after)
	}
	diff(t, "stored feedback", got[0].Feedback, want(f))
}

func testFeedbackMinimal(t *testing.T, b Backend) {
	st := b.MustNew(t)
	// Offline pads may send no prediction id, and a typed code needs neither ink nor inputs.
	f := protocol.Feedback{IdempotencyKey: "min", Code: "0042", CreatedAt: time.Unix(1_800_000_000, 0).UTC()}
	mustSave(t, st, f)
	got := mustList(t, st)
	if len(got) != 1 {
		t.Fatalf("Feedback listed %d records, want 1", len(got))
	}
	diff(t, "stored minimal feedback", got[0].Feedback, want(f))
}

func testPredictionRoundTrip(t *testing.T, b Backend) {
	st := b.MustNew(t)
	p := SamplePrediction("p1", 3)
	noInk := SamplePrediction("p2", 4)
	noInk.InkPNG, noInk.Result.Inputs, noInk.Result.Confirm, noInk.ClientID = nil, nil, nil, ""
	encoded := SamplePrediction("p3", 5) // its result already encoded, as the server hands it over
	res, err := json.Marshal(&encoded.Result)
	if err != nil {
		t.Fatal(err)
	}
	encoded.ResultJSON = res
	if err := st.SavePredictions(ctx(), []store.Prediction{p, noInk, encoded}); err != nil {
		t.Fatalf("SavePredictions: %v", err)
	}
	for _, w := range []store.Prediction{p, noInk, encoded} {
		got, fb, err := st.Prediction(ctx(), w.ID)
		if err != nil {
			t.Fatalf("Prediction(%s): %v", w.ID, err)
		}
		w.CreatedAt, w.ResultJSON = Micro(w.CreatedAt), nil
		diff(t, "prediction "+w.ID, *got, w)
		if len(fb) != 0 {
			t.Errorf("Prediction(%s) has %d feedback records, want 0", w.ID, len(fb))
		}
	}
}

func testPredictionFeedback(t *testing.T, b Backend) {
	st := b.MustNew(t)
	p := SamplePrediction("p-fb", 1)
	if err := st.SavePredictions(ctx(), []store.Prediction{p}); err != nil {
		t.Fatalf("SavePredictions: %v", err)
	}
	f1 := SampleFeedback("a", "12")
	f1.PredictionID = p.ID
	f2 := SampleFeedback("b", "13")
	f2.PredictionID = p.ID
	other := SampleFeedback("c", "14")
	id1, id2 := mustSave(t, st, f1), mustSave(t, st, f2)
	mustSave(t, st, other)
	_, fb, err := st.Prediction(ctx(), p.ID)
	if err != nil {
		t.Fatalf("Prediction: %v", err)
	}
	var ids []string
	for _, f := range fb {
		ids = append(ids, f.ID)
	}
	diff(t, "feedback ids of the prediction", ids, []string{id1, id2})
	if len(fb) == 2 {
		diff(t, "first feedback", fb[0].Feedback, want(f1))
	}
}

func testUnknownPrediction(t *testing.T, b Backend) {
	st := b.MustNew(t)
	_, _, err := st.Prediction(ctx(), "no-such-id")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Prediction(unknown) error = %v, want store.ErrNotFound", err)
	}
}

func testResendSequential(t *testing.T, b Backend) {
	st := b.MustNew(t)
	first := SampleFeedback("same", "10115")
	id := mustSave(t, st, first)
	resend := SampleFeedback("same", "99999") // a buggy client: same key, other content; the first one wins
	for i := 0; i < 3; i++ {
		got, dup, err := st.SaveFeedback(ctx(), resend)
		if err != nil {
			t.Fatalf("resend %d: %v", i, err)
		}
		if got != id || !dup {
			t.Errorf("resend %d = (%q, duplicate=%v), want (%q, true)", i, got, dup, id)
		}
	}
	all := mustList(t, st)
	if len(all) != 1 {
		t.Fatalf("stored %d records, want 1", len(all))
	}
	diff(t, "stored record", all[0].Feedback, want(first))
}

func testResendConcurrent(t *testing.T, b Backend) {
	st := b.MustNew(t)
	const n = 20
	f := SampleFeedback("racy", "4711")
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		ids   = make([]string, n)
		dups  = make([]bool, n)
		errs  = make([]error, n)
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ids[i], dups[i], errs[i] = st.SaveFeedback(ctx(), f)
		}()
	}
	close(start)
	wg.Wait()
	fresh := 0
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("goroutine %d got id %q, goroutine 0 got %q", i, ids[i], ids[0])
		}
		if !dups[i] {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d calls reported a new record, want exactly 1", fresh)
	}
	if all := mustList(t, st); len(all) != 1 {
		t.Errorf("stored %d records, want 1", len(all))
	}
}

func testInvalid(t *testing.T, b Backend) {
	st := b.MustNew(t)
	tests := []struct {
		name   string
		modify func(f *protocol.Feedback)
	}{
		{"label 12", func(f *protocol.Feedback) { f.Labels[2] = 12 }},
		{"negative label", func(f *protocol.Feedback) { f.Labels[0] = -1 }},
		{"labels disagree with code", func(f *protocol.Feedback) { f.Labels[1] = 7 }},
		{"fewer labels than digits", func(f *protocol.Feedback) { f.Labels = f.Labels[:3] }},
		{"letter in code", func(f *protocol.Feedback) { f.Code = "1O115" }},
		{"empty code", func(f *protocol.Feedback) { f.Code, f.Labels, f.Inputs = "", nil, nil }},
		{"missing idempotency key", func(f *protocol.Feedback) { f.IdempotencyKey = "" }},
		{"input not 28x28", func(f *protocol.Feedback) { f.Inputs[1] = f.Inputs[1][:100] }},
		{"fewer inputs than digits", func(f *protocol.Feedback) { f.Inputs = f.Inputs[:4] }},
		{"digit outputs do not match predicted code", func(f *protocol.Feedback) { f.Digits = f.Digits[:2] }},
		{"predicted digit 10", func(f *protocol.Feedback) { f.Digits[0].Digit = 10 }},
		{"probability NaN", func(f *protocol.Feedback) { f.Digits[0].Probs[3] = math.NaN() }},
		{"NUL in client id", func(f *protocol.Feedback) { f.ClientID = "pad\x00" }},
		{"invalid UTF-8 key", func(f *protocol.Feedback) { f.IdempotencyKey = "\xff" }},
		{"ink over 4 MiB", func(f *protocol.Feedback) { f.InkPNG = make([]byte, store.MaxInkPNG+1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := SampleFeedback("bad", "10115")
			tt.modify(&f)
			_, _, err := st.SaveFeedback(ctx(), f)
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("SaveFeedback error = %v, want store.ErrInvalid", err)
			}
			var perr *protocol.Error
			if !errors.As(err, &perr) || perr.Code != protocol.EInvalid {
				t.Errorf("SaveFeedback error = %v, want it to be a *protocol.Error with code %q", err, protocol.EInvalid)
			}
		})
	}
	if all := mustList(t, st); len(all) != 0 {
		t.Errorf("stored %d invalid records, want 0", len(all))
	}
}

func testBatchPredictions(t *testing.T, b Backend) {
	st := b.MustNew(t)
	const n = 600
	ps := make([]store.Prediction, n)
	for i := range ps {
		ps[i] = SamplePrediction(fmt.Sprintf("batch-%04d", i), i)
	}
	if err := st.SavePredictions(ctx(), ps); err != nil {
		t.Fatalf("SavePredictions(%d): %v", n, err)
	}
	// A retried batch (the logger could not tell whether the first attempt committed) is harmless.
	if err := st.SavePredictions(ctx(), ps[:40]); err != nil { // several statements' worth, in whatever sizes a store uses
		t.Fatalf("SavePredictions(retry): %v", err)
	}
	if err := st.SavePredictions(ctx(), nil); err != nil {
		t.Fatalf("SavePredictions(nil): %v", err)
	}
	for _, i := range []int{0, 1, 299, n - 1} {
		got, _, err := st.Prediction(ctx(), ps[i].ID)
		if err != nil {
			t.Fatalf("Prediction(%s): %v", ps[i].ID, err)
		}
		w := ps[i]
		w.CreatedAt = Micro(w.CreatedAt)
		diff(t, "prediction "+w.ID, *got, w)
	}
}

func testInvalidBatch(t *testing.T, b Backend) {
	st := b.MustNew(t)
	ps := []store.Prediction{SamplePrediction("ok", 1), SamplePrediction("", 2)}
	err := st.SavePredictions(ctx(), ps)
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("SavePredictions with an empty id: error = %v, want store.ErrInvalid", err)
	}
	if _, _, err := st.Prediction(ctx(), "ok"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Prediction(ok) after a rejected batch: error = %v, want store.ErrNotFound", err)
	}
}

func testPagination(t *testing.T, b Backend) {
	st := b.MustNew(t)
	const n = 25
	var want []string
	for i := 0; i < n; i++ {
		want = append(want, mustSave(t, st, SampleFeedback(fmt.Sprintf("key-%d", n-i), fmt.Sprint(i))))
	}
	if !sort.StringsAreSorted(want) {
		t.Errorf("ids of successive records do not sort in time order: %v", want)
	}
	var got []string
	var sizes []int
	after := ""
	for {
		page, err := st.Feedback(ctx(), after, 10)
		if err != nil {
			t.Fatalf("Feedback(%q, 10): %v", after, err)
		}
		sizes = append(sizes, len(page))
		if len(page) == 0 {
			break
		}
		for _, f := range page {
			got = append(got, f.ID)
		}
		after = page[len(page)-1].ID
	}
	diff(t, "page sizes", sizes, []int{10, 10, 5, 0})
	diff(t, "ids in listing order", got, want)
}

func testPageUnknownAfter(t *testing.T, b Backend) {
	st := b.MustNew(t)
	mustSave(t, st, SampleFeedback("k", "1"))
	if _, err := st.Feedback(ctx(), "no-such-id", 10); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Feedback(unknown after) error = %v, want store.ErrNotFound", err)
	}
}

func testPageBadLimit(t *testing.T, b Backend) {
	st := b.MustNew(t)
	for _, limit := range []int{0, -1} {
		if _, err := st.Feedback(ctx(), "", limit); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Feedback(limit %d) error = %v, want store.ErrInvalid", limit, err)
		}
	}
}

func testReopenMigrations(t *testing.T, b Backend) {
	dsn := b.NewDSN(t)
	first, err := b.Open(ctx(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	m, ok := first.(Migrator)
	if !ok {
		first.Close()
		t.Fatalf("%T does not list its migrations (storetest.Migrator)", first)
	}
	before, err := m.Migrations(ctx())
	first.Close()
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	if len(before) == 0 || before[0].Version != 1 {
		t.Fatalf("after the first open, applied migrations = %+v, want versions 1..N", before)
	}
	for i := 0; i < 2; i++ {
		again := b.MustOpen(t, dsn)
		after, err := again.(Migrator).Migrations(ctx())
		if err != nil {
			t.Fatalf("Migrations after reopen %d: %v", i, err)
		}
		diff(t, fmt.Sprintf("migrations after reopen %d", i), after, before)
		again.Close()
	}
}

// testClock: a store opened with store.WithClock takes every time it stamps from that clock, truncated to
// microseconds in UTC, so time-based behaviour can be tested without sleeping.
func testClock(t *testing.T, b Backend) {
	var mu sync.Mutex
	now := time.Date(2031, 2, 3, 4, 5, 6, 789_123_456, time.FixedZone("EST", -5*3600))
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	advance := func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(d)
	}
	st := b.MustOpen(t, b.NewDSN(t), store.WithClock(clock))
	first := clock().UTC().Truncate(time.Microsecond)
	m, ok := st.(Migrator)
	if !ok {
		t.Fatalf("%T does not list its migrations (storetest.Migrator)", st)
	}
	applied, err := m.Migrations(ctx())
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	for _, a := range applied {
		if !a.AppliedAt.Equal(first) {
			t.Errorf("migration %d applied at %v, want the injected clock's %v", a.Version, a.AppliedAt, first)
		}
	}
	mustSave(t, st, SampleFeedback("c1", "123"))
	advance(36 * time.Hour)
	mustSave(t, st, SampleFeedback("c2", "456"))
	got := mustList(t, st)
	if len(got) != 2 {
		t.Fatalf("Feedback listed %d records, want 2", len(got))
	}
	second := first.Add(36 * time.Hour)
	for i, want := range []time.Time{first, second} {
		if r := got[i].ReceivedAt; !r.Equal(want) || r.Location() != time.UTC {
			t.Errorf("record %d ReceivedAt = %v, want %v in UTC (the injected clock)", i, r, want)
		}
	}
}

func testReopenData(t *testing.T, b Backend) {
	dsn := b.NewDSN(t)
	st, err := b.Open(ctx(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	f := SampleFeedback("durable", "80331")
	id, _, err := st.SaveFeedback(ctx(), f)
	if err != nil {
		st.Close()
		t.Fatalf("SaveFeedback: %v", err)
	}
	p := SamplePrediction("durable-p", 9)
	if err := st.SavePredictions(ctx(), []store.Prediction{p}); err != nil {
		st.Close()
		t.Fatalf("SavePredictions: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	re := b.MustOpen(t, dsn)
	all := mustList(t, re)
	if len(all) != 1 || all[0].ID != id {
		t.Fatalf("after reopen: %d records, want the 1 saved before (id %s)", len(all), id)
	}
	diff(t, "feedback after reopen", all[0].Feedback, want(f))
	got, _, err := re.Prediction(ctx(), p.ID)
	if err != nil {
		t.Fatalf("Prediction after reopen: %v", err)
	}
	p.CreatedAt = Micro(p.CreatedAt)
	diff(t, "prediction after reopen", *got, p)
	// A resend after a restart is still recognised.
	if again, dup, err := re.SaveFeedback(ctx(), f); err != nil || again != id || !dup {
		t.Errorf("resend after reopen = (%q, %v, %v), want (%q, true, nil)", again, dup, err, id)
	}
}

func testConcurrentWriters(t *testing.T, b Backend) {
	st := b.MustNew(t)
	const writers, each = 6, 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for w := 0; w < writers; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				f := SampleFeedback(fmt.Sprintf("w%d-%d", w, i), "123")
				if _, dup, err := st.SaveFeedback(ctx(), f); err != nil || dup {
					errs <- fmt.Errorf("writer %d record %d: dup=%v err=%v", w, i, dup, err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				ps := []store.Prediction{SamplePrediction(fmt.Sprintf("w%d-%d-a", w, i), i), SamplePrediction(fmt.Sprintf("w%d-%d-b", w, i), i)}
				if err := st.SavePredictions(ctx(), ps); err != nil {
					errs <- fmt.Errorf("prediction writer %d batch %d: %v", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	all := mustList(t, st)
	if len(all) != writers*each {
		t.Fatalf("stored %d feedback records, want %d", len(all), writers*each)
	}
	// Each writer's records are listed in the order that writer saved them.
	next := map[int]int{}
	for _, f := range all {
		var w, i int
		fmt.Sscanf(f.IdempotencyKey, "w%d-%d", &w, &i)
		if i != next[w] {
			t.Errorf("writer %d: record %d listed when %d was expected", w, i, next[w])
		}
		next[w] = i + 1
	}
	for w := 0; w < writers; w++ {
		if _, _, err := st.Prediction(ctx(), fmt.Sprintf("w%d-%d-b", w, each-1)); err != nil {
			t.Errorf("writer %d's last prediction: %v", w, err)
		}
	}
}
