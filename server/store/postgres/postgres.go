// Package postgres is the store for several server replicas sharing one PostgreSQL database (pgx + pgxpool).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"digitpad/server/store"
	"digitpad/server/store/internal/codec"
	"digitpad/server/store/schema"
	"digitpad/shared/protocol"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Advisory lock keys (arbitrary constants, unique to digitpad).
const (
	// lockMigrate serialises schema migrations of replicas starting at the same time.
	lockMigrate int64 = 0x6469_6769_7061_6401
	// lockFeedback serialises feedback inserts so that seq order equals commit order: otherwise an export paging
	// by seq could pass a lower seq whose transaction commits later, and miss that record for good. Feedback
	// arrives at clerks' pace, so one commit at a time is plenty.
	lockFeedback int64 = 0x6469_6769_7061_6402
)

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (postgres://...) and applies pending migrations.
func Open(ctx context.Context, dsn string, opts ...store.Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error can echo the DSN with its password, so do not wrap it verbatim.
		return nil, errors.New("open postgres: invalid connection string")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", cfg.ConnConfig.Host, err)
	}
	s := &Store{pool: pool, now: store.NewOptions(opts...).Now}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	all, err := schema.Load(migrationFS, "migrations")
	if err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	// Held until commit: a second replica waits here, then finds the migrations applied.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockMigrate); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int]bool{}
	for _, v := range versions {
		applied[int(v)] = true
	}
	pending, err := schema.Pending(all, applied)
	if err != nil {
		return err
	}
	for _, m := range pending {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, micro(s.now())); err != nil {
			return fmt.Errorf("record migration %d: %w", m.Version, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// Migrations lists the applied schema migrations in version order.
func (s *Store) Migrations(ctx context.Context) ([]schema.Applied, error) {
	rows, err := s.pool.Query(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (schema.Applied, error) {
		var a schema.Applied
		var v int32
		err := r.Scan(&v, &a.Name, &a.AppliedAt)
		a.Version, a.AppliedAt = int(v), a.AppliedAt.UTC()
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	return out, nil
}

// SavePredictions writes a batch of predictions with one statement (arrays unnested server-side, one round trip).
// A prediction whose id is already stored is skipped, so a retried batch is harmless.
func (s *Store) SavePredictions(ctx context.Context, ps []store.Prediction) error {
	if len(ps) == 0 {
		return nil
	}
	var (
		ids, clients, codes, models, results = make([]string, len(ps)), make([]string, len(ps)),
			make([]string, len(ps)), make([]string, len(ps)), make([]string, len(ps))
		created      = make([]time.Time, len(ps))
		inputs, inks = make([][]byte, len(ps)), make([][]byte, len(ps))
	)
	for i := range ps {
		p := &ps[i]
		if err := store.ValidatePrediction(p); err != nil {
			return fmt.Errorf("save predictions: [%d]: %w", i, err)
		}
		res, err := codec.ResultOf(&p.Result, p.ResultJSON)
		if err != nil {
			return fmt.Errorf("save predictions: [%d] %s: %w", i, p.ID, err)
		}
		ids[i], clients[i], codes[i], models[i], results[i] = p.ID, p.ClientID, p.Result.Code, p.Result.Model.SHA256, res
		created[i] = micro(p.CreatedAt)
		inputs[i], inks[i] = codec.PackFloatInputs(p.Result.Inputs), codec.Blob(p.InkPNG)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO predictions
		(id, created_at, client_id, code, model_sha256, result, inputs, ink_png)
		SELECT id, created_at, client_id, code, model_sha256, result::jsonb, inputs, ink_png
		FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::bytea[])
			AS t (id, created_at, client_id, code, model_sha256, result, inputs, ink_png)
		ON CONFLICT (id) DO NOTHING`,
		ids, created, clients, codes, models, results, inputs, inks)
	if err != nil {
		return fmt.Errorf("save predictions: %w", err)
	}
	return nil
}

// Prediction returns a prediction and the feedback that names it, or store.ErrNotFound.
func (s *Store) Prediction(ctx context.Context, id string) (*store.Prediction, []store.Feedback, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, nil, fmt.Errorf("prediction %q: %w", id, err)
	}
	defer tx.Rollback(ctx)
	var (
		p      = store.Prediction{ID: id}
		result string
		inputs []byte
	)
	err = tx.QueryRow(ctx, `SELECT created_at, client_id, result::text, inputs, ink_png FROM predictions WHERE id = $1`, id).
		Scan(&p.CreatedAt, &p.ClientID, &result, &inputs, &p.InkPNG)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, fmt.Errorf("prediction %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("prediction %q: %w", id, err)
	}
	p.CreatedAt = p.CreatedAt.UTC()
	if p.Result, err = codec.ParseResult(result, inputs); err != nil {
		return nil, nil, fmt.Errorf("prediction %q: %w", id, err)
	}
	p.InkPNG = codec.Blob(p.InkPNG)
	fb, err := queryFeedback(ctx, tx, `WHERE prediction_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("prediction %q: %w", id, err)
	}
	return &p, fb, nil
}

// SaveFeedback validates and commits one feedback record (synchronous commit), returning after the commit. A
// repeated idempotency key returns the first record's id with duplicate=true and stores nothing.
func (s *Store) SaveFeedback(ctx context.Context, f protocol.Feedback) (string, bool, error) {
	if err := store.ValidateFeedback(&f); err != nil {
		return "", false, fmt.Errorf("save feedback: %w", err)
	}
	digits, err := codec.Digits(f.Digits)
	if err != nil {
		return "", false, fmt.Errorf("save feedback: %w", err)
	}
	newID, err := store.NewID()
	if err != nil {
		return "", false, fmt.Errorf("save feedback: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", false, fmt.Errorf("save feedback: %w", err)
	}
	defer tx.Rollback(ctx)
	// The ack promises durability even if the server was configured with asynchronous commit.
	if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
		return "", false, fmt.Errorf("save feedback: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockFeedback); err != nil {
		return "", false, fmt.Errorf("save feedback: lock: %w", err)
	}
	var id string
	err = tx.QueryRow(ctx, `INSERT INTO feedback
		(id, idempotency_key, prediction_id, client_id, code, labels, predicted, digits, ink_png, inputs,
		 model_sha256, created_at, received_at)
		VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8::text::jsonb, $9, $10, $11, $12, $13)
		ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
		newID, f.IdempotencyKey, f.PredictionID, f.ClientID, f.Code, codec.Labels(f.Labels), f.Predicted, digits,
		codec.Blob(f.InkPNG), codec.PackInputs(f.Inputs), f.ModelSHA256, micro(f.CreatedAt), micro(s.now())).Scan(&id)
	duplicate := false
	if errors.Is(err, pgx.ErrNoRows) {
		duplicate = true
		err = tx.QueryRow(ctx, `SELECT id FROM feedback WHERE idempotency_key = $1`, f.IdempotencyKey).Scan(&id)
	}
	if err != nil {
		return "", false, fmt.Errorf("save feedback %q: %w", f.IdempotencyKey, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", false, fmt.Errorf("save feedback %q: commit: %w", f.IdempotencyKey, err)
	}
	return id, duplicate, nil
}

// Feedback lists feedback in insertion order after the record afterID ("" = from the start); an unknown afterID
// is store.ErrNotFound.
func (s *Store) Feedback(ctx context.Context, afterID string, limit int) ([]store.Feedback, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list feedback: %w", store.Invalidf("limit %d, want > 0", limit))
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("list feedback: %w", err)
	}
	defer tx.Rollback(ctx)
	var after int64
	if afterID != "" {
		err := tx.QueryRow(ctx, `SELECT seq FROM feedback WHERE id = $1`, afterID).Scan(&after)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("list feedback after %q: %w", afterID, store.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("list feedback after %q: %w", afterID, err)
		}
	}
	fb, err := queryFeedback(ctx, tx, `WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list feedback: %w", err)
	}
	return fb, nil
}

func queryFeedback(ctx context.Context, tx pgx.Tx, where string, args ...any) ([]store.Feedback, error) {
	rows, err := tx.Query(ctx, `SELECT id, idempotency_key, prediction_id, client_id, code, labels::text, predicted,
		digits::text, ink_png, inputs, model_sha256, created_at, received_at FROM feedback `+where, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Feedback, error) {
		var (
			f              store.Feedback
			labels, digits string
			inputs         []byte
		)
		if err := r.Scan(&f.ID, &f.IdempotencyKey, &f.PredictionID, &f.ClientID, &f.Code, &labels, &f.Predicted,
			&digits, &f.InkPNG, &inputs, &f.ModelSHA256, &f.CreatedAt, &f.ReceivedAt); err != nil {
			return f, err
		}
		var err error
		if f.Labels, err = codec.ParseLabels(labels); err != nil {
			return f, fmt.Errorf("feedback %s: %w", f.ID, err)
		}
		if f.Digits, err = codec.ParseDigits(digits); err != nil {
			return f, fmt.Errorf("feedback %s: %w", f.ID, err)
		}
		if f.Inputs, err = codec.UnpackInputs(inputs); err != nil {
			return f, fmt.Errorf("feedback %s: %w", f.ID, err)
		}
		f.InkPNG = codec.Blob(f.InkPNG)
		f.CreatedAt, f.ReceivedAt = f.CreatedAt.UTC(), f.ReceivedAt.UTC()
		return f, nil
	})
}

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// micro drops sub-microsecond precision explicitly (PostgreSQL keeps microseconds), matching the sqlite store.
func micro(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }
