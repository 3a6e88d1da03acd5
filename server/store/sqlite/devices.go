package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"digitpad/server/store"
)

var _ store.Devices = (*Store)(nil)

// CreateEnrolment implements store.Devices.
func (s *Store) CreateEnrolment(ctx context.Context, e store.Enrolment) error {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO enrolments (code_hash, name, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		e.CodeHash, e.Name, toMicro(e.CreatedAt), toMicro(e.ExpiresAt)); err != nil {
		return fmt.Errorf("create enrolment: %w", err)
	}
	return nil
}

// Enrol implements store.Devices.
func (s *Store) Enrol(ctx context.Context, codeHash []byte, now time.Time, d store.Device, credHash []byte) (store.Device, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.Device{}, fmt.Errorf("enrol: %w", err)
	}
	defer tx.Rollback()
	var name string
	err = tx.QueryRowContext(ctx, `UPDATE enrolments SET used_at = ?, device_id = ?
		WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING name`,
		toMicro(now), d.ID, codeHash, toMicro(now)).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Device{}, store.ErrNotFound
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("enrol: spend code: %w", err)
	}
	if d.Name == "" {
		d.Name = name
	}
	d.CreatedAt = now.UTC().Truncate(time.Microsecond)
	if _, err := tx.ExecContext(ctx, `INSERT INTO devices (id, name, credential_hash, created_at) VALUES (?, ?, ?, ?)`,
		d.ID, d.Name, credHash, toMicro(d.CreatedAt)); err != nil {
		return store.Device{}, fmt.Errorf("enrol: add device: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return store.Device{}, fmt.Errorf("enrol: commit: %w", err)
	}
	return d, nil
}

// DeviceByCredential implements store.Devices.
func (s *Store) DeviceByCredential(ctx context.Context, credHash []byte) (*store.Device, error) {
	var d store.Device
	var created int64
	var revoked sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT id, name, created_at, revoked_at FROM devices WHERE credential_hash = ?`,
		credHash).Scan(&d.ID, &d.Name, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("device by credential: %w", err)
	}
	d.CreatedAt = fromMicro(created)
	if revoked.Valid {
		t := fromMicro(revoked.Int64)
		d.RevokedAt = &t
		return &d, store.ErrRevoked
	}
	return &d, nil
}

// RevokeDevice implements store.Devices.
func (s *Store) RevokeDevice(ctx context.Context, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE devices SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, toMicro(at), id)
	if err != nil {
		return fmt.Errorf("revoke device: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ListDevices implements store.Devices.
func (s *Store) ListDevices(ctx context.Context) ([]store.Device, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, created_at, revoked_at FROM devices ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	out := []store.Device{}
	for rows.Next() {
		var d store.Device
		var created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&d.ID, &d.Name, &created, &revoked); err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		d.CreatedAt = fromMicro(created)
		if revoked.Valid {
			t := fromMicro(revoked.Int64)
			d.RevokedAt = &t
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
