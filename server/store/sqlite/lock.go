package sqlite

import (
	"context"
	"fmt"
	"time"

	"digitpad/server/store"
)

// TryLock takes the named lock (e.g. "retrain") for holder until ttl passes or release is called. ok is false
// when another holder has it and its time has not run out. The lock lives in the database, so it holds across
// processes sharing the file (table locks, migration 0003).
func (s *Store) TryLock(ctx context.Context, name, holder string, ttl time.Duration) (release func() error, ok bool, err error) {
	token, err := store.NewID()
	if err != nil {
		return nil, false, err
	}
	now := s.now()
	r, err := s.w.ExecContext(ctx, `INSERT INTO locks (name, holder, token, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at
		WHERE locks.expires_at <= ?`, name, holder, token, now.Add(ttl).UnixMicro(), now.UnixMicro())
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	if n, err := r.RowsAffected(); err != nil || n != 1 {
		return nil, false, err
	}
	return func() error {
		if _, err := s.w.ExecContext(context.WithoutCancel(ctx), `DELETE FROM locks WHERE name = ? AND token = ?`, name, token); err != nil {
			return fmt.Errorf("unlock %s: %w", name, err)
		}
		return nil
	}, true, nil
}
