package registry

import (
	"context"
	"time"
)

// Meta stores registry metadata. Implementations make each method atomic and serialise mutations, so that
// compare-and-set moves and version numbering are correct across processes sharing the store. They return the
// package's errors (ErrNotFound, ErrExists, ErrConflict, ErrInUse) wrapped with context.
type Meta interface {
	CreateModel(ctx context.Context, m Model) error
	GetModel(ctx context.Context, name string) (Model, error)
	ListModels(ctx context.Context) ([]Model, error)
	// SetModelTag sets (value != nil) or deletes (nil) a tag of a model.
	SetModelTag(ctx context.Context, name, key string, value *string, at time.Time) error
	// AddVersion assigns the next version number to v (v.Version is ignored) and stores it.
	AddVersion(ctx context.Context, v Version) (int, error)
	GetVersion(ctx context.Context, name string, version int) (Version, error)
	ListVersions(ctx context.Context, name string) ([]Version, error)
	SetVersionTag(ctx context.Context, name string, version int, key string, value *string) error
	// DeleteVersion refuses (ErrInUse) when an alias points at the version.
	DeleteVersion(ctx context.Context, name string, version int) error
	// MoveAlias points alias at to (0 deletes it) when it currently points at expect (ExpectAny: anywhere,
	// ExpectNone: nowhere), else ErrConflict; the target version must exist. It records and returns the move.
	MoveAlias(ctx context.Context, name, alias string, expect, to int, by, reason string, at time.Time) (AliasMove, error)
	// AliasHistory lists the moves of an alias (all aliases of the model when alias is ""), oldest first.
	AliasHistory(ctx context.Context, name, alias string) ([]AliasMove, error)
	// Seq is a number that changes whenever anything in the store changes (cheap; polled by watchers).
	Seq(ctx context.Context) (int64, error)
	Close() error
}

// Blobs stores immutable file contents by key.
type Blobs interface {
	Put(ctx context.Context, key string, data []byte) error
	// Get returns ErrNotFound (wrapped) for a missing key.
	Get(ctx context.Context, key string) ([]byte, error)
	Exists(ctx context.Context, key string) (bool, error)
	Delete(ctx context.Context, key string) error
	// List returns every stored key under prefix with the time it was stored.
	List(ctx context.Context, prefix string) ([]BlobInfo, error)
	Close() error
}

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Key      string
	Modified time.Time
}

// Notifier is implemented by backends that push changes (PostgreSQL LISTEN/NOTIFY): Watch wakes on a signal at
// once instead of at its next poll. Changes sends (without blocking; signals may merge) after each change by any
// process, until ctx ends.
type Notifier interface {
	Changes(ctx context.Context) <-chan struct{}
}
