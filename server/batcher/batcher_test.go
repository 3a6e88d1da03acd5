package batcher_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"digitpad/server/batcher"
)

func TestBatcher_ConcurrentItemsShareOneRun(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	b := batcher.New(batcher.Config{MaxBatch: 8, MaxWait: 50 * time.Millisecond, Workers: 1, Queue: 100},
		func(items []int) error {
			mu.Lock()
			sizes = append(sizes, len(items))
			mu.Unlock()
			if items[0] == -1 { // the blocker: hold the only worker so the rest queue up
				started <- struct{}{}
				<-release
			}
			return nil
		})
	defer b.Close()

	var wg sync.WaitGroup
	wg.Go(func() { _ = b.Do(context.Background(), -1) })
	<-started
	for i := range 8 {
		wg.Go(func() {
			if err := b.Do(context.Background(), i); err != nil {
				t.Errorf("Do(%d): %v", i, err)
			}
		})
	}
	waitFor(t, func() bool { return b.Len() == 8 })
	close(release)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if want := []int{1, 8}; !equal(sizes, want) {
		t.Errorf("batch sizes = %v, want %v", sizes, want)
	}
}

func TestBatcher_KeepsArrivalOrderWithinBatch(t *testing.T) {
	got := make(chan []int, 1)
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	b := batcher.New(batcher.Config{MaxBatch: 16, MaxWait: time.Millisecond, Workers: 1},
		func(items []int) error {
			if items[0] == -1 {
				started <- struct{}{}
				<-release
				return nil
			}
			got <- append([]int(nil), items...)
			return nil
		})
	defer b.Close()

	go func() { _ = b.Do(context.Background(), -1) }()
	<-started
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { _ = b.Do(context.Background(), i) })
		waitFor(t, func() bool { return b.Len() == i+1 }) // enqueue strictly in order
	}
	close(release)
	wg.Wait()

	want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	if g := <-got; !equal(g, want) {
		t.Errorf("batch = %v, want %v", g, want)
	}
}

func TestBatcher_SplitsAtMaxBatch(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	b := batcher.New(batcher.Config{MaxBatch: 4, MaxWait: time.Millisecond, Workers: 1},
		func(items []int) error {
			if items[0] == -1 {
				started <- struct{}{}
				<-release
				return nil
			}
			mu.Lock()
			sizes = append(sizes, len(items))
			mu.Unlock()
			return nil
		})
	defer b.Close()
	go func() { _ = b.Do(context.Background(), -1) }()
	<-started
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { _ = b.Do(context.Background(), i) })
	}
	waitFor(t, func() bool { return b.Len() == 10 })
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if want := []int{4, 4, 2}; !equal(sizes, want) {
		t.Errorf("batch sizes = %v, want %v", sizes, want)
	}
}

func TestBatcher_QueueFullIsOverloaded(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	b := batcher.New(batcher.Config{MaxBatch: 1, Workers: 1, Queue: 2},
		func(items []int) error {
			if items[0] == -1 {
				started <- struct{}{}
				<-release
			}
			return nil
		})
	defer b.Close()
	go func() { _ = b.Do(context.Background(), -1) }()
	<-started
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			if err := b.Do(context.Background(), i); err != nil {
				t.Errorf("queued Do(%d): %v", i, err)
			}
		})
	}
	waitFor(t, func() bool { return b.Len() == 2 })

	if err := b.Do(context.Background(), 99); !errors.Is(err, batcher.ErrOverloaded) {
		t.Errorf("Do on a full queue = %v, want ErrOverloaded", err)
	}
	close(release)
	wg.Wait()
}

func TestBatcher_RunErrorReachesEveryCaller(t *testing.T) {
	boom := errors.New("boom")
	b := batcher.New(batcher.Config{Workers: 2}, func(items []int) error { return boom })
	defer b.Close()
	if err := b.Do(context.Background(), 1); !errors.Is(err, boom) {
		t.Errorf("Do = %v, want %v", err, boom)
	}
}

func TestBatcher_PanicBecomesErrorAndWorkerSurvives(t *testing.T) {
	b := batcher.New(batcher.Config{Workers: 1}, func(items []int) error {
		if items[0] == 0 {
			panic("bad item")
		}
		return nil
	})
	defer b.Close()
	var pe *batcher.PanicError
	if err := b.Do(context.Background(), 0); !errors.As(err, &pe) {
		t.Fatalf("Do(panicking) = %v, want *PanicError", err)
	}
	if err := b.Do(context.Background(), 1); err != nil {
		t.Errorf("Do after a panic = %v, want nil", err)
	}
}

func TestBatcher_CloseRunsQueuedItemsThenRejects(t *testing.T) {
	var mu sync.Mutex
	ran := 0
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	b := batcher.New(batcher.Config{MaxBatch: 1, Workers: 1, Queue: 3}, func(items []int) error {
		if items[0] == -1 {
			started <- struct{}{}
			<-release
		}
		mu.Lock()
		ran++
		mu.Unlock()
		return nil
	})
	go func() { _ = b.Do(context.Background(), -1) }()
	<-started
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if err := b.Do(context.Background(), i); err != nil {
				t.Errorf("queued Do(%d) = %v, want nil (drained)", i, err)
			}
		})
	}
	waitFor(t, func() bool { return b.Len() == 3 })
	closed := make(chan struct{})
	go func() { b.Close(); close(closed) }()
	waitFor(t, func() bool { return errors.Is(b.Do(context.Background(), 7), batcher.ErrClosed) })
	close(release)
	<-closed
	wg.Wait()
	if ran != 4 {
		t.Errorf("ran %d items, want 4 (blocker + 3 queued)", ran)
	}
}

func TestBatcher_ContextCancelReturnsEarly(t *testing.T) {
	release := make(chan struct{})
	b := batcher.New(batcher.Config{Workers: 1}, func(items []int) error { <-release; return nil })
	defer b.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.Do(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Do = %v, want DeadlineExceeded", err)
	}
}

func BenchmarkBatcher_Do(b *testing.B) {
	b.SetParallelism(16)
	bt := batcher.New(batcher.Config{MaxBatch: 64, MaxWait: 100 * time.Microsecond, Workers: 2, Queue: 4096},
		func(items []int) error { return nil })
	defer bt.Close()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := bt.Do(context.Background(), 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkBatcher_DoNoWait(b *testing.B) {
	bt := batcher.New(batcher.Config{MaxBatch: 64, MaxWait: -1, Workers: 2, Queue: 4096},
		func(items []int) error { return nil })
	defer bt.Close()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := bt.Do(context.Background(), 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
