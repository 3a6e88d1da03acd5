package postgres

import (
	"context"
	"fmt"
	"time"

	"digitpad/server/store"
)

const createLocks = `CREATE TABLE IF NOT EXISTS locks (
	name       text   PRIMARY KEY,
	holder     text   NOT NULL,
	token      text   NOT NULL,
	expires_at bigint NOT NULL -- unix microseconds
)`

// TryLock takes the named lock (e.g. "retrain") for holder until ttl passes or release is called. ok is false
// when another holder has it and its time has not run out. Every replica sharing the database sees it.
func (s *Store) TryLock(ctx context.Context, name, holder string, ttl time.Duration) (release func() error, ok bool, err error) {
	token, err := store.NewID()
	if err != nil {
		return nil, false, err
	}
	// Serialise the table's creation between processes (CREATE TABLE IF NOT EXISTS alone can race).
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7217014)`); err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	if _, err := tx.Exec(ctx, createLocks); err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	now := s.now()
	tag, err := tx.Exec(ctx, `INSERT INTO locks (name, holder, token, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at
		WHERE locks.expires_at <= $5`, name, holder, token, now.Add(ttl).UnixMicro(), now.UnixMicro())
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := tx.Commit(ctx); err != nil {
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
