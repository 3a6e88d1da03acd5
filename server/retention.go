package server

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"digitpad/server/store"
)

// retainer applies the prediction log's retention (Config.Retain) every Config.RetainEvery and publishes the
// log's size: digitpad_prediction_log_bytes is what the store-size alert watches (DigitpadPredictionLogOverLimit
// compares it with digitpad_prediction_log_max_bytes), digitpad_prediction_log_pruned_total what retention
// removed, digitpad_prediction_log_retention_errors_total its failures (DigitpadPredictionLogRetentionFailing).
type retainer struct {
	s      *Server
	pr     store.Pruner
	stop   chan struct{}
	done   sync.WaitGroup
	rows   prometheus.Gauge
	bytes  prometheus.Gauge
	pruned prometheus.Counter
	errors prometheus.Counter
}

func (s *Server) startRetention() {
	pr, ok := s.cfg.Store.(store.Pruner)
	r := &retainer{s: s, pr: pr, stop: make(chan struct{}),
		rows: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "digitpad_prediction_log_rows", Help: "Predictions in the store's log (after the last retention pass).",
		}),
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "digitpad_prediction_log_bytes",
			Help: "Payload bytes of the store's prediction log (after the last retention pass); the files add page overhead.",
		}),
		pruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "digitpad_prediction_log_pruned_total", Help: "Predictions deleted by retention (--retain, --retain-bytes).",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "digitpad_prediction_log_retention_errors_total", Help: "Retention passes that failed (the log's size is then not bounded).",
		}),
	}
	limit := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "digitpad_prediction_log_max_bytes", Help: "The prediction log's size limit (--retain-bytes; 0: none).",
	})
	limit.Set(float64(s.cfg.Retain.MaxBytes))
	s.metrics.reg.MustRegister(r.rows, r.bytes, r.pruned, r.errors, limit)
	s.retain = r
	if !ok {
		return
	}
	r.done.Add(1)
	go r.loop()
}

func (r *retainer) loop() {
	defer r.done.Done()
	t := time.NewTicker(r.s.cfg.RetainEvery)
	defer t.Stop()
	for {
		r.pass()
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
	}
}

// pass runs one retention pass (bounded to a minute) and updates the metrics.
func (r *retainer) pass() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		select {
		case <-r.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	deleted, st, err := r.pr.PrunePredictions(ctx, r.s.cfg.Retain)
	if err != nil {
		r.errors.Inc()
		r.s.log.Warn("prediction log retention failed", "err", err)
		return
	}
	r.pruned.Add(float64(deleted))
	r.rows.Set(float64(st.Rows))
	r.bytes.Set(float64(st.Bytes))
	if deleted > 0 {
		r.s.log.Info("prediction log retention", "deleted", deleted, "rows", st.Rows, "bytes", st.Bytes)
	}
}

func (r *retainer) close() {
	if r == nil {
		return
	}
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	r.done.Wait()
}
