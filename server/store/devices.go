package store

import (
	"context"
	"errors"
	"time"
)

// ErrRevoked is returned for a device credential whose device was revoked.
var ErrRevoked = errors.New("device revoked")

// Device is an enrolled pad or kiosk. Its credential is never stored, only the credential's SHA-256.
type Device struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Enrolment is a one-time enrolment code waiting for its device, stored as the code's SHA-256.
type Enrolment struct {
	CodeHash  []byte
	Name      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Devices keeps enrolment codes and enrolled devices (migration 0002_devices). Both backends implement it.
type Devices interface {
	// CreateEnrolment stores a one-time code's hash.
	CreateEnrolment(ctx context.Context, e Enrolment) error
	// Enrol spends the enrolment code with hash codeHash (unused and not expired at now) and creates device d
	// with credential hash credHash, in one transaction. An unknown, spent or expired code is ErrNotFound.
	Enrol(ctx context.Context, codeHash []byte, now time.Time, d Device, credHash []byte) (Device, error)
	// DeviceByCredential finds the device of a credential hash: ErrNotFound when unknown, ErrRevoked (with the
	// device) when revoked.
	DeviceByCredential(ctx context.Context, credHash []byte) (*Device, error)
	// RevokeDevice revokes a device at the given time; revoking twice keeps the first time. Unknown ids are
	// ErrNotFound.
	RevokeDevice(ctx context.Context, id string, at time.Time) error
	// ListDevices lists devices, oldest first.
	ListDevices(ctx context.Context) ([]Device, error)
}
