// Package memstore is an in-memory store.Store for tests and load runs ("--db mem:"): same validation and
// idempotency as the real stores, nothing persists. Fail lets tests simulate an unreachable database.
package memstore

import (
	"context"
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
		s.predictions[p.ID] = p
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
