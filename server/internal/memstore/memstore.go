// Package memstore is an in-memory store.Store for tests and load runs ("--db mem:"): same validation and
// idempotency as the real stores, nothing persists. Fail lets tests simulate an unreachable database.
package memstore

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"digitpad/server/store"
	"digitpad/shared/protocol"
)

// Store keeps everything in maps guarded by one mutex.
type Store struct {
	mu          sync.Mutex
	predictions map[string]store.Prediction
	order       []string // prediction ids in insertion order (retention deletes the oldest first)
	feedback    []store.Feedback
	byKey       map[string]int // idempotency key -> index in feedback
	fail        error
	closed      bool
	now         func() time.Time
}

// New returns an empty store; opts as for the real stores (store.WithClock).
func New(opts ...store.Option) *Store {
	return &Store{predictions: make(map[string]store.Prediction), byKey: make(map[string]int),
		now: store.NewOptions(opts...).Now}
}

// Fail makes every later call return err (nil: work again).
func (s *Store) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

func (s *Store) check() error {
	if s.closed {
		return errors.New("memstore: closed")
	}
	return s.fail
}

// SavePredictions implements store.Store.
func (s *Store) SavePredictions(ctx context.Context, ps []store.Prediction) error {
	for i := range ps {
		if err := store.ValidatePrediction(&ps[i]); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	for _, p := range ps {
		if _, ok := s.predictions[p.ID]; ok {
			continue // as the SQL stores: a stored id is skipped
		}
		s.predictions[p.ID] = p
		s.order = append(s.order, p.ID)
	}
	return nil
}

// Prediction implements store.Store.
func (s *Store) Prediction(ctx context.Context, id string) (*store.Prediction, []store.Feedback, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return nil, nil, err
	}
	p, ok := s.predictions[id]
	if !ok {
		return nil, nil, store.ErrNotFound
	}
	var fs []store.Feedback
	for _, f := range s.feedback {
		if f.PredictionID == id {
			fs = append(fs, f)
		}
	}
	return &p, fs, nil
}

// SaveFeedback implements store.Store.
func (s *Store) SaveFeedback(ctx context.Context, f protocol.Feedback) (string, bool, error) {
	if err := store.ValidateFeedback(&f); err != nil {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return "", false, err
	}
	if i, ok := s.byKey[f.IdempotencyKey]; ok {
		return s.feedback[i].ID, true, nil
	}
	id, err := store.NewID()
	if err != nil {
		return "", false, err
	}
	s.byKey[f.IdempotencyKey] = len(s.feedback)
	s.feedback = append(s.feedback, store.Feedback{ID: id, ReceivedAt: s.now().UTC(), Feedback: f})
	return id, false, nil
}

// Feedback implements store.Store.
func (s *Store) Feedback(ctx context.Context, afterID string, limit int) ([]store.Feedback, error) {
	if limit <= 0 {
		return nil, store.Invalidf("limit %d, want > 0", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	start := 0
	if afterID != "" {
		start = -1
		for i, f := range s.feedback {
			if f.ID == afterID {
				start = i + 1
				break
			}
		}
		if start < 0 {
			return nil, store.ErrNotFound
		}
	}
	end := min(start+limit, len(s.feedback))
	return append([]store.Feedback(nil), s.feedback[start:end]...), nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.check()
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

var _ store.Pruner = (*Store)(nil)

// PrunePredictions implements store.Pruner with store.PredictionBytes as the measure.
func (s *Store) PrunePredictions(ctx context.Context, r store.Retention) (int64, store.LogStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var st store.LogStats
	if err := s.check(); err != nil {
		return 0, st, err
	}
	cutoff := s.now().Add(-r.MaxAge)
	keep := make([]bool, len(s.order))
	var total int64
	for i := len(s.order) - 1; i >= 0; i-- { // newest first
		p := s.predictions[s.order[i]]
		b := predictionBytes(&p)
		if (r.MaxAge > 0 && p.CreatedAt.Before(cutoff)) || (r.MaxBytes > 0 && total+b > r.MaxBytes) {
			if r.MaxBytes > 0 && total+b > r.MaxBytes {
				break // this one and every older one go
			}
			continue
		}
		keep[i] = true
		total += b
	}
	var deleted int64
	order := s.order[:0]
	for i, id := range s.order {
		if keep[i] {
			order = append(order, id)
			continue
		}
		delete(s.predictions, id)
		deleted++
	}
	s.order = order
	return deleted, store.LogStats{Rows: int64(len(order)), Bytes: total}, nil
}

func predictionBytes(p *store.Prediction) int64 {
	res, _ := json.Marshal(p.Result)
	return store.PredictionBytes(p.ID, p.ClientID, p.Result.Code, p.Result.Model.SHA256, string(res),
		4*784*len(p.Result.Inputs), len(p.InkPNG))
}
