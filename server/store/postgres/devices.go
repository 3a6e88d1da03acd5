package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"digitpad/server/store"
)

var _ store.Devices = (*Store)(nil)

// CreateEnrolment implements store.Devices.
func (s *Store) CreateEnrolment(ctx context.Context, e store.Enrolment) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO enrolments (code_hash, name, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		e.CodeHash, e.Name, e.CreatedAt.UTC(), e.ExpiresAt.UTC()); err != nil {
		return fmt.Errorf("create enrolment: %w", err)
	}
	return nil
}

// Enrol implements store.Devices.
func (s *Store) Enrol(ctx context.Context, codeHash []byte, now time.Time, d store.Device, credHash []byte) (store.Device, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.Device{}, fmt.Errorf("enrol: %w", err)
	}
	defer tx.Rollback(ctx)
	var name string
	// The row lock of the UPDATE makes two devices racing for one code take turns; the second finds it used.
	err = tx.QueryRow(ctx, `UPDATE enrolments SET used_at = $1, device_id = $2
		WHERE code_hash = $3 AND used_at IS NULL AND expires_at > $1 RETURNING name`,
		now.UTC(), d.ID, codeHash).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Device{}, store.ErrNotFound
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("enrol: spend code: %w", err)
	}
	if d.Name == "" {
		d.Name = name
	}
	d.CreatedAt = now.UTC().Truncate(time.Microsecond)
	if _, err := tx.Exec(ctx, `INSERT INTO devices (id, name, credential_hash, created_at) VALUES ($1, $2, $3, $4)`,
		d.ID, d.Name, credHash, d.CreatedAt); err != nil {
		return store.Device{}, fmt.Errorf("enrol: add device: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Device{}, fmt.Errorf("enrol: commit: %w", err)
	}
	return d, nil
}

// DeviceByCredential implements store.Devices.
func (s *Store) DeviceByCredential(ctx context.Context, credHash []byte) (*store.Device, error) {
	var d store.Device
	var revoked *time.Time
	err := s.pool.QueryRow(ctx, `SELECT id, name, created_at, revoked_at FROM devices WHERE credential_hash = $1`,
		credHash).Scan(&d.ID, &d.Name, &d.CreatedAt, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("device by credential: %w", err)
	}
	d.CreatedAt = d.CreatedAt.UTC()
	if revoked != nil {
		t := revoked.UTC()
		d.RevokedAt = &t
		return &d, store.ErrRevoked
	}
	return &d, nil
}

// RevokeDevice implements store.Devices.
func (s *Store) RevokeDevice(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE devices SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, at.UTC(), id)
	if err != nil {
		return fmt.Errorf("revoke device: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ListDevices implements store.Devices.
func (s *Store) ListDevices(ctx context.Context) ([]store.Device, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, created_at, revoked_at FROM devices ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	out := []store.Device{}
	for rows.Next() {
		var d store.Device
		var revoked *time.Time
		if err := rows.Scan(&d.ID, &d.Name, &d.CreatedAt, &revoked); err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		d.CreatedAt = d.CreatedAt.UTC()
		if revoked != nil {
			t := revoked.UTC()
			d.RevokedAt = &t
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
