package server

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// lossJournal counts what the documented logging policy may lose: predictions answered but still in the log
// buffer when the process dies (SIGKILL, OOM kill, crash; up to --log-interval of them, 100 ms). Two counters
// live in a small memory-mapped file (Config.LossJournal): predictions handed to the log and predictions the log
// has settled (written, or counted as dropped). Stores into a shared mapping are in the kernel's page cache the
// moment they are made, so they survive the death of the process without a write or fsync on the prediction
// path — one atomic add each. At the next start the difference is what may have been lost (an upper bound: a
// batch committed in the instant before the death is not yet settled): it is added to
// digitpad_prediction_log_lost_total, logged as a warning, and the counters start again from zero. (A host
// crash can lose the file's last updates along with the predictions; a process crash cannot.)
type lossJournal struct {
	mem      []byte
	handed   *atomic.Uint64
	settled  *atomic.Uint64
	unmap    func() error
	lostLast uint64 // what the previous run lost, read at open
}

// lossJournalBytes is the file's size: two little-endian uint64 counters (the mapping is page-aligned).
const lossJournalBytes = 16

// newLossJournal opens (creating it if needed) the journal at path and reads what the previous run lost; an
// empty path gives a nil journal, whose methods do nothing.
func newLossJournal(path string) (*lossJournal, error) {
	if path == "" {
		return nil, nil
	}
	j, err := mapLossJournal(path)
	if err != nil {
		return nil, fmt.Errorf("prediction loss journal %s: %w", path, err)
	}
	h, s := j.handed.Load(), j.settled.Load()
	if h > s {
		j.lostLast = h - s
	}
	j.handed.Store(0)
	j.settled.Store(0)
	return j, nil
}

// handedOne records a prediction handed to the log (answered, not yet stored).
func (j *lossJournal) handedOne() {
	if j != nil {
		j.handed.Add(1)
	}
}

// settle records n predictions the log has written or given up on (counted as dropped).
func (j *lossJournal) settle(n int) {
	if j != nil {
		j.settled.Add(uint64(n))
	}
}

// register publishes digitpad_prediction_log_lost_total, starting at what the previous run lost, and warns about
// a loss.
func (j *lossJournal) register(reg prometheus.Registerer, log *slog.Logger, path string) {
	lost := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "digitpad_prediction_log_lost_total",
		Help: "Predictions answered but never stored because the process died with them in the log buffer (counted " +
			"at the next start from the loss journal, DATA/prediction-log.journal; see digitpad_prediction_log_pending).",
	})
	reg.MustRegister(lost)
	if j == nil {
		return
	}
	lost.Add(float64(j.lostLast))
	if j.lostLast > 0 {
		log.Warn("predictions answered before the last stop were not stored: the process died with them in the "+
			"log buffer (written every --log-interval)", "lost", j.lostLast, "journal", path)
	}
}

// close unmaps the journal; the counters are equal after the log's last flush.
func (j *lossJournal) close() error {
	if j == nil {
		return nil
	}
	return j.unmap()
}
