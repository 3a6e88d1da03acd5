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
