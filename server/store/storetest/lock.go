package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"digitpad/server/store"
)

// Locker is implemented by stores that hold named locks across processes (the retrain lock).
type Locker interface {
	TryLock(ctx context.Context, name, holder string, ttl time.Duration) (release func() error, ok bool, err error)
}

// testLock: a held lock refuses a second holder (also on a second connection to the same database), is free
// again after release, and a holder that died is replaced once its time runs out.
func testLock(t *testing.T, b Backend) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	dsn := b.NewDSN(t)
	s1, ok1 := b.MustOpen(t, dsn, store.WithClock(clock)).(Locker)
	s2, ok2 := b.MustOpen(t, dsn, store.WithClock(clock)).(Locker)
	if !ok1 || !ok2 {
		t.Fatal("store does not implement TryLock")
	}
	rel, ok, err := s1.TryLock(ctx, "retrain", "first", time.Hour)
	if err != nil || !ok {
		t.Fatalf("first TryLock: ok=%v err=%v", ok, err)
	}
	if _, ok, err := s2.TryLock(ctx, "retrain", "second", time.Hour); err != nil || ok {
		t.Fatalf("second TryLock while held: ok=%v err=%v, want refused", ok, err)
	}
	if _, ok, err := s2.TryLock(ctx, "other", "second", time.Hour); err != nil || !ok {
		t.Fatalf("a different lock name: ok=%v err=%v, want taken", ok, err)
	}
	if err := rel(); err != nil {
		t.Fatal(err)
	}
	rel2, ok, err := s2.TryLock(ctx, "retrain", "second", time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLock after release: ok=%v err=%v", ok, err)
	}
	// The second holder "dies" (never releases); after its ttl the lock can be taken again, and its late
	// release does not free the new holder's lock.
	advance(2 * time.Minute)
	if _, ok, err := s1.TryLock(ctx, "retrain", "third", time.Hour); err != nil || !ok {
		t.Fatalf("TryLock after expiry: ok=%v err=%v", ok, err)
	}
	if err := rel2(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s2.TryLock(ctx, "retrain", "fourth", time.Hour); err != nil || ok {
		t.Fatalf("a stale release freed the new holder's lock: ok=%v err=%v", ok, err)
	}
	// Concurrent attempts: exactly one wins.
	dsn2 := b.NewDSN(t)
	var wins sync.WaitGroup
	var mw sync.Mutex
	won := 0
	for i := 0; i < 6; i++ {
		l := b.MustOpen(t, dsn2).(Locker)
		wins.Add(1)
		go func() {
			defer wins.Done()
			_, ok, err := l.TryLock(ctx, "retrain", "racer", time.Hour)
			if err != nil {
				t.Errorf("racing TryLock: %v", err)
			}
			if ok {
				mw.Lock()
				won++
				mw.Unlock()
			}
		}()
	}
	wins.Wait()
	if won != 1 {
		t.Fatalf("%d of 6 concurrent TryLocks won, want exactly 1", won)
	}
}
