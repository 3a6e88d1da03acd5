package postgres

import (
	"context"
	"fmt"
	"time"

	"digitpad/server/store"
)

// TryLock takes the named lock (e.g. "retrain") for holder until ttl passes or release is called. ok is false
// when another holder has it and its time has not run out. Every replica sharing the database sees it (table
// locks, migration 0003; one INSERT ... ON CONFLICT is atomic).
func (s *Store) TryLock(ctx context.Context, name, holder string, ttl time.Duration) (release func() error, ok bool, err error) {
	token, err := store.NewID()
	if err != nil {
		return nil, false, err
	}
	now := s.now()
	tag, err := s.pool.Exec(ctx, `INSERT INTO locks (name, holder, token, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at
		WHERE locks.expires_at <= $5`, name, holder, token, now.Add(ttl).UnixMicro(), now.UnixMicro())
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	if tag.RowsAffected() != 1 {
		return nil, false, nil
	}
	return func() error {
		if _, err := s.pool.Exec(context.WithoutCancel(ctx), `DELETE FROM locks WHERE name = $1 AND token = $2`, name, token); err != nil {
			return fmt.Errorf("unlock %s: %w", name, err)
		}
		return nil
	}, true, nil
}
