package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"digitpad/server/store"
)

// predLog writes predictions to the store in the background, in batches, so a prediction never waits for a disk.
// Its buffer is bounded: when the store falls behind and the buffer is full, new predictions are dropped (counted
// in digitpad_prediction_log_dropped_total) rather than blocking recognition. Predictions are a debugging and
// analytics log; feedback, the training data, is written synchronously and never dropped.
type predLog struct {
	st      store.Store
	max     int
	every   time.Duration
	log     *slog.Logger
	metrics *metrics

	mu      sync.Mutex
	buf     []store.Prediction
	pending map[string]store.Prediction // buffered or being written: served to GET before they reach the store
	journal *lossJournal                // counts what a process death would lose (nil: not counted)
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// logFlushRows is how many buffered predictions wake the writer before its interval is up. A batch has a fixed
// cost (the connection, the synchronous pragmas, the commit's partly filled pages written again to the WAL):
// 256-row batches cost 10.7 µs of CPU a row in SQLite against 12.6 µs for 64-row ones
// (BenchmarkSavePredictions_Rows, no ink), ~2 % of a small grey answer's CPU. Such a flush is ~3 ms of CPU on one
// of the cores that serve requests (it was ~8 ms when a row cost 30 µs, when 64 was chosen), well inside the
// latency objective. When the store is slow the writer takes whatever has accumulated, so batches grow by
// themselves.
const logFlushRows = 256

func newPredLog(st store.Store, max int, every time.Duration, log *slog.Logger, m *metrics) *predLog {
	l := &predLog{
		st: st, max: max, every: every, log: log, metrics: m,
		pending: make(map[string]store.Prediction),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go l.loop()
	return l
}

// pendingLen is the number of predictions answered but not yet committed to the store.
func (l *predLog) pendingLen() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// add queues p; it reports false when p was dropped because the buffer is full.
func (l *predLog) add(p store.Prediction) bool {
	l.mu.Lock()
	if len(l.pending) >= l.max {
		l.mu.Unlock()
		l.metrics.logDropped.Inc()
		return false
	}
	l.buf = append(l.buf, p)
	l.pending[p.ID] = p
	l.journal.handedOne()
	full := len(l.buf) >= logFlushRows
	l.mu.Unlock()
	if full {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// get returns a prediction not yet in the store.
func (l *predLog) get(id string) (store.Prediction, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.pending[id]
	return p, ok
}

func (l *predLog) loop() {
	defer close(l.done)
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			l.flush(context.Background())
			return
		case <-t.C:
		case <-l.wake:
		}
		l.flush(context.Background())
	}
}

// flush writes everything buffered; entries leave pending only once written, so GET never misses them.
func (l *predLog) flush(ctx context.Context) {
	l.mu.Lock()
	batch := l.buf
	l.buf = nil
	l.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := l.st.SavePredictions(ctx, batch); err != nil {
		l.metrics.logErrors.Inc()
		l.metrics.logDropped.Add(float64(len(batch)))
		l.log.Error("prediction log write failed", "n", len(batch), "err", err)
	} else {
		l.metrics.logWritten.Add(float64(len(batch)))
	}
	l.mu.Lock()
	l.journal.settle(len(batch))
	for i := range batch {
		delete(l.pending, batch[i].ID)
	}
	l.mu.Unlock()
}

// close writes what is buffered and stops the writer.
func (l *predLog) close() {
	close(l.stop)
	<-l.done
}
