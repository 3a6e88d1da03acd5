package server

import (
	"testing"
	"time"
)

func TestAdmitter_RefusesAtTheLimit(t *testing.T) {
	a := newAdmitter(1, 2, -1)
	if !a.acquire() || !a.acquire() {
		t.Fatal("could not take the first two slots")
	}
	if a.acquire() {
		t.Error("took a third slot with limit 2")
	}
	a.release(time.Second, time.Now())
	if !a.acquire() {
		t.Error("no slot after a release")
	}
}

func TestAdmitter_SlowCompletionsShrinkTheLimitToMin(t *testing.T) {
	a := newAdmitter(4, 64, 10*time.Millisecond)
	now := time.Now()
	for i := range 100 {
		a.acquire()
		a.release(50*time.Millisecond, now.Add(time.Duration(i)*20*time.Millisecond))
	}
	if got := a.current(); got != 4 {
		t.Errorf("limit after slow completions = %d, want the minimum 4", got)
	}
}

func TestAdmitter_DecreasesAtMostOncePerTarget(t *testing.T) {
	a := newAdmitter(1, 100, 10*time.Millisecond)
	now := time.Now()
	for range 10 { // ten slow completions at the same instant: one decrease
		a.acquire()
		a.release(time.Second, now)
	}
	if got := a.current(); got != 90 {
		t.Errorf("limit = %d, want 90 (one decrease by a tenth)", got)
	}
}

func TestAdmitter_FastCompletionsGrowBackToMax(t *testing.T) {
	a := newAdmitter(2, 16, 10*time.Millisecond)
	now := time.Now()
	for i := range 50 {
		a.acquire()
		a.release(time.Second, now.Add(time.Duration(i)*20*time.Millisecond))
	}
	if a.current() != 2 {
		t.Fatalf("setup: limit %d, want 2", a.current())
	}
	for range 1000 {
		a.acquire()
		a.release(time.Millisecond, now)
	}
	if got := a.current(); got != 16 {
		t.Errorf("limit after fast completions = %d, want the maximum 16", got)
	}
}

func TestAdmitter_IsolatedSlowCompletionsKeepTheLimit(t *testing.T) {
	a := newAdmitter(8, 32, 10*time.Millisecond)
	now := time.Now()
	for w := range 20 { // 20 windows of 50 completions, the first of each slow (a pause, a neighbour's burst)
		for i := range 50 {
			a.acquire()
			took := time.Millisecond
			if i == 0 {
				took = 30 * time.Millisecond
			}
			a.release(took, now.Add(time.Duration(w)*10*time.Millisecond+time.Duration(i)*100*time.Microsecond))
		}
	}
	if got := a.current(); got != 32 {
		t.Errorf("limit = %d, want 32: one slow completion in fifty is no overload", got)
	}
	for i := range 50 { // then most completions slow: the limit comes down
		a.acquire()
		a.release(30*time.Millisecond, now.Add(200*time.Millisecond+time.Duration(i)*time.Millisecond))
	}
	if got := a.current(); got >= 32 {
		t.Errorf("limit = %d after mostly slow completions, want below 32", got)
	}
}
