// Package batcher groups concurrent requests into batches for a fixed pool of workers, the way Triton's dynamic
// batcher does: a worker takes the oldest waiting item, then up to MaxBatch-1 more, waiting at most MaxWait for
// them, and runs the batch in one call. The queue in front of the workers is bounded: past it, Do fails at once
// with ErrOverloaded instead of letting latency grow without bound.
package batcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrOverloaded is returned by Do when the queue is full.
var ErrOverloaded = errors.New("batcher: queue full")

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("batcher: closed")

// Config tunes a Batcher; zero fields take the defaults noted.
type Config struct {
	// MaxBatch is the most items one run receives (default 64).
	MaxBatch int
	// MaxWait is how long a worker holding a partial batch waits for more items (default 1ms; negative: never).
	MaxWait time.Duration
	// Workers is the number of goroutines calling run (default 1).
	Workers int
	// Queue is the number of items that may wait for a worker (default 1024).
	Queue int
	// OnBatch, when set, is called after every run with the batch size and the run's duration.
	OnBatch func(size int, took time.Duration)
}

func (c Config) withDefaults() Config {
	if c.MaxBatch <= 0 {
		c.MaxBatch = 64
	}
	if c.MaxWait == 0 {
		c.MaxWait = time.Millisecond
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.Queue <= 0 {
		c.Queue = 1024
	}
	return c
}

type call[T any] struct {
	item T
	done chan error
}

// Batcher runs batches of T. It is safe for concurrent use.
type Batcher[T any] struct {
	cfg   Config
	run   func([]T) error
	queue chan *call[T]
	pool  sync.Pool

	mu     sync.RWMutex // guards closed against concurrent sends on queue
	closed bool
	wg     sync.WaitGroup
}

// New starts cfg.Workers workers calling run with batches of 1..MaxBatch items in arrival order. run's error is
// returned to every caller of the batch; run must not keep the slice.
func New[T any](cfg Config, run func(items []T) error) *Batcher[T] {
	cfg = cfg.withDefaults()
	b := &Batcher[T]{cfg: cfg, run: run, queue: make(chan *call[T], cfg.Queue)}
	b.pool.New = func() any { return &call[T]{done: make(chan error, 1)} }
	b.wg.Add(cfg.Workers)
	for range cfg.Workers {
		go b.worker()
	}
	return b
}

// Do queues item and waits until the batch holding it has run. It returns ErrOverloaded at once when the queue is
// full, ErrClosed after Close, or ctx's error if ctx ends first (the item may still run).
func (b *Batcher[T]) Do(ctx context.Context, item T) error {
	c := b.pool.Get().(*call[T])
	c.item = item
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		b.pool.Put(c)
		return ErrClosed
	}
	select {
	case b.queue <- c:
	default:
		b.mu.RUnlock()
		b.pool.Put(c)
		return ErrOverloaded
	}
	b.mu.RUnlock()
	select {
	case err := <-c.done:
		var zero T
		c.item = zero
		b.pool.Put(c)
		return err
	case <-ctx.Done():
		// The worker still owns c and will send on its buffered channel; c is simply not reused.
		return ctx.Err()
	}
}

// Len is the number of queued items not yet taken by a worker.
func (b *Batcher[T]) Len() int { return len(b.queue) }

// Close stops accepting items, lets the workers run everything already queued and waits for them.
func (b *Batcher[T]) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *Batcher[T]) worker() {
	defer b.wg.Done()
	calls := make([]*call[T], 0, b.cfg.MaxBatch)
	items := make([]T, 0, b.cfg.MaxBatch)
	var timer *time.Timer
	if b.cfg.MaxWait > 0 {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
	}
	for {
		first, ok := <-b.queue
		if !ok {
			return
		}
		calls = append(calls[:0], first)
		calls = b.fill(calls, timer)
		items = items[:0]
		for _, c := range calls {
			items = append(items, c.item)
		}
		start := time.Now()
		err := b.runSafely(items)
		if b.cfg.OnBatch != nil {
			b.cfg.OnBatch(len(items), time.Since(start))
		}
		for _, c := range calls {
			c.done <- err
		}
		clear(items)
	}
}

// fill adds queued calls to calls: first whatever is already waiting, then, if the batch is still partial, what
// arrives within MaxWait.
func (b *Batcher[T]) fill(calls []*call[T], timer *time.Timer) []*call[T] {
	for len(calls) < b.cfg.MaxBatch {
		select {
		case c, ok := <-b.queue:
			if !ok {
				return calls
			}
			calls = append(calls, c)
			continue
		default:
		}
		break
	}
	if len(calls) == b.cfg.MaxBatch || timer == nil {
		return calls
	}
	timer.Reset(b.cfg.MaxWait)
	defer timer.Stop()
	for len(calls) < b.cfg.MaxBatch {
		select {
		case c, ok := <-b.queue:
			if !ok {
				return calls
			}
			calls = append(calls, c)
		case <-timer.C:
			return calls
		}
	}
	return calls
}

// runSafely turns a panic in run into an error for the batch's callers: one bad batch must not kill a worker.
func (b *Batcher[T]) runSafely(items []T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r}
		}
	}()
	return b.run(items)
}

// PanicError reports a panic inside run.
type PanicError struct{ Value any }

func (e *PanicError) Error() string { return fmt.Sprintf("batcher: run panicked: %v", e.Value) }
