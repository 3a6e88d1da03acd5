// Package sqlite is the embedded store: one SQLite file in WAL mode with synchronous=FULL, so that a record
// acknowledged to a clerk survives a crash or power loss (the background prediction log's batches commit with
// synchronous=NORMAL: they survive the process's death, not a power loss). Writes go through a single connection (SQLite has one
// writer anyway; queuing in Go avoids SQLITE_BUSY retries), reads through a small pool.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"digitpad/server/store"
	"digitpad/server/store/internal/codec"
	"digitpad/server/store/schema"
	"digitpad/shared/protocol"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Readers is the size of the read connection pool.
const Readers = 4

// busyTimeoutMS is how long a connection waits for another process's lock (e.g. a second server on the same file
// or a concurrent export) before failing.
const busyTimeoutMS = 10_000

// Store is the SQLite implementation of store.Store.
type Store struct {
	w   *sql.DB // exactly one connection: all writes are serialised here
	r   *sql.DB // read-only pool
	now func() time.Time
	// insertPrediction is the prediction log's INSERT, prepared once on the writer connection (again by
	// database/sql if that connection is replaced) rather than per batch: SQLite's parse and code generation
	// were ~1.4 µs of a 64-row batch's cost per row.
	insertPrediction *sql.Stmt
	// insertPredictions is the same INSERT for insertRows rows at once, which most of a batch goes through: a
	// statement's own cost (database/sql's and the driver's call, binding, SQLite's start and halt with its
	// AUTOINCREMENT bookkeeping) is then paid once per insertRows rows.
	insertPredictions *sql.Stmt
}

// insertRows is how many rows insertPredictions writes.
const insertRows = 16

const insertPredictionSQL = `INSERT INTO predictions
	(id, created_at, client_id, code, model_sha256, result, inputs, ink_png)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`

// insertPredictionsSQL is insertPredictionSQL for insertRows rows.
var insertPredictionsSQL = `INSERT INTO predictions
	(id, created_at, client_id, code, model_sha256, result, inputs, ink_png)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)` + strings.Repeat(`, (?, ?, ?, ?, ?, ?, ?, ?)`, insertRows-1) +
	` ON CONFLICT (id) DO NOTHING`

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and applies pending migrations.
func Open(ctx context.Context, path string, opts ...store.Option) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite %q: want a file path", path)
	}
	if strings.ContainsAny(path, "?#") {
		// The driver would take what follows '?' as connection parameters.
		return nil, fmt.Errorf("open sqlite %q: path must not contain '?' or '#'", path)
	}
	base := fmt.Sprintf("%s?_busy_timeout=%d&_foreign_keys=1", path, busyTimeoutMS)
	w, err := sql.Open("sqlite", base+"&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, now: store.NewOptions(opts...).Now}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	if s.insertPrediction, err = w.PrepareContext(ctx, insertPredictionSQL); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	if s.insertPredictions, err = w.PrepareContext(ctx, insertPredictionsSQL); err != nil {
		s.insertPrediction.Close()
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	r.SetMaxOpenConns(Readers)
	r.SetMaxIdleConns(Readers)
	s.r = r
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	return s, nil
}

// migrate applies pending migrations in one IMMEDIATE transaction: it holds the write lock, so two processes
// opening the same new file cannot both apply them.
func (s *Store) migrate(ctx context.Context) error {
	all, err := schema.Load(migrationFS, "migrations")
	if err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	pending, err := schema.Pending(all, applied)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return nil // nothing to write: leave the file untouched
	}
	for _, m := range pending {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, s.now().UnixMicro()); err != nil {
			return fmt.Errorf("record migration %d: %w", m.Version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// Migrations lists the applied schema migrations in version order.
func (s *Store) Migrations(ctx context.Context) ([]schema.Applied, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	defer rows.Close()
	var out []schema.Applied
	for rows.Next() {
		var a schema.Applied
		var at int64
		if err := rows.Scan(&a.Version, &a.Name, &at); err != nil {
			return nil, fmt.Errorf("list migrations: %w", err)
		}
		a.AppliedAt = fromMicro(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	return out, nil
}

// SavePredictions writes a batch of predictions in one transaction. A prediction whose id is already stored is
// skipped, so a retried batch is harmless.
func (s *Store) SavePredictions(ctx context.Context, ps []store.Prediction) error {
	if len(ps) == 0 {
		return nil
	}
	rs := make([]predictionRow, len(ps))
	for i := range ps {
		if err := store.ValidatePrediction(&ps[i]); err != nil {
			return fmt.Errorf("save predictions: [%d]: %w", i, err)
		}
		res, err := codec.ResultOf(&ps[i].Result, ps[i].ResultJSON)
		if err != nil {
			return fmt.Errorf("save predictions: [%d] %s: %w", i, ps[i].ID, err)
		}
		rs[i] = predictionRow{res, codec.PackFloatInputs(ps[i].Result.Inputs)}
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("save predictions: %w", err)
	}
	if err := logSync(ctx, conn); err != nil {
		return fmt.Errorf("save predictions: %w", err)
	}
	err = savePredictions(ctx, conn, s.insertPrediction, s.insertPredictions, ps, rs)
	if rerr := durableSync(conn); rerr != nil {
		err = errors.Join(err, fmt.Errorf("save predictions: %w", rerr))
	}
	return err
}

// logSync makes the writer connection commit without an fsync (synchronous=NORMAL) for a prediction batch: in
// WAL mode such a commit survives the process's death (its pages are in the file, the OS writes them) but
// not a power loss before the next synced commit or checkpoint. That is the prediction log's own promise (a
// background log whose last rows a crash may lose, counted by the loss journal, which is no more durable);
// the fsync was ~15 % of a row's cost. durableSync restores FULL for everything else.
func logSync(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`)
	return err
}

// durableSync restores synchronous=FULL on the writer connection and gives it back to the pool; if that fails,
// the connection is discarded (the next one is opened with FULL), so no durable write ever runs on NORMAL.
func durableSync(conn *sql.Conn) error {
	_, err := conn.ExecContext(context.Background(), `PRAGMA synchronous = FULL`)
	if err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return errors.Join(err, conn.Close())
}

type predictionRow struct {
	result string
	inputs []byte
}

// savePredictions inserts ps in one transaction on conn: insertRows at a time with inserts
// (insertPredictionsSQL), the rest one by one with insert (insertPredictionSQL).
func savePredictions(ctx context.Context, conn *sql.Conn, insert, inserts *sql.Stmt, ps []store.Prediction, rs []predictionRow) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save predictions: %w", err)
	}
	defer tx.Rollback()
	// The statements run without ctx, which is checked between them instead: a statement under a cancellable
	// context costs the driver a watcher goroutine and a progress handler each.
	rowCtx := context.WithoutCancel(ctx)
	args := make([]any, 0, 8*insertRows)
	row := func(i int) []any {
		p := &ps[i]
		return append(args, p.ID, toMicro(p.CreatedAt), p.ClientID, p.Result.Code, p.Result.Model.SHA256,
			rs[i].result, rs[i].inputs, codec.Blob(p.InkPNG))
	}
	i := 0
	if len(ps) >= insertRows {
		many := tx.StmtContext(ctx, inserts)
		defer many.Close()
		for ; i+insertRows <= len(ps); i += insertRows {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("save predictions: %w", err)
			}
			args = args[:0]
			for j := i; j < i+insertRows; j++ {
				args = row(j)
			}
			if _, err := many.ExecContext(rowCtx, args...); err != nil {
				return fmt.Errorf("save predictions: %s..%s: %w", ps[i].ID, ps[i+insertRows-1].ID, err)
			}
		}
	}
	if i < len(ps) {
		one := tx.StmtContext(ctx, insert)
		defer one.Close()
		for ; i < len(ps); i++ {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("save predictions: %w", err)
			}
			args = args[:0]
			if _, err := one.ExecContext(rowCtx, row(i)...); err != nil {
				return fmt.Errorf("save predictions: %s: %w", ps[i].ID, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save predictions: commit: %w", err)
	}
	return nil
}

// Prediction returns a prediction and the feedback that names it, or store.ErrNotFound.
func (s *Store) Prediction(ctx context.Context, id string) (*store.Prediction, []store.Feedback, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, fmt.Errorf("prediction %q: %w", id, err)
	}
	defer tx.Rollback()
	var (
		p       = store.Prediction{ID: id}
		created int64
		result  string
		inputs  []byte
	)
	err = tx.QueryRowContext(ctx, `SELECT created_at, client_id, result, inputs, ink_png FROM predictions WHERE id = ?`, id).
		Scan(&created, &p.ClientID, &result, &inputs, &p.InkPNG)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("prediction %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("prediction %q: %w", id, err)
	}
	p.CreatedAt = fromMicro(created)
	if p.Result, err = codec.ParseResult(result, inputs); err != nil {
		return nil, nil, fmt.Errorf("prediction %q: %w", id, err)
	}
	p.InkPNG = codec.Blob(p.InkPNG)
	fb, err := queryFeedback(ctx, tx, `WHERE prediction_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("prediction %q: %w", id, err)
	}
	return &p, fb, nil
}

// SaveFeedback validates and commits one feedback record, returning after the commit is durable. A repeated
// idempotency key returns the first record's id with duplicate=true and stores nothing.
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
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return "", false, fmt.Errorf("save feedback: %w", err)
	}
	defer tx.Rollback()
	var id string
	err = tx.QueryRowContext(ctx, `INSERT INTO feedback
		(id, idempotency_key, prediction_id, client_id, code, labels, predicted, digits, ink_png, inputs,
		 model_sha256, created_at, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
		newID, f.IdempotencyKey, f.PredictionID, f.ClientID, f.Code, codec.Labels(f.Labels), f.Predicted, digits,
		codec.Blob(f.InkPNG), codec.PackInputs(f.Inputs), f.ModelSHA256, toMicro(f.CreatedAt),
		toMicro(s.now())).Scan(&id)
	duplicate := false
	if errors.Is(err, sql.ErrNoRows) {
		duplicate = true
		err = tx.QueryRowContext(ctx, `SELECT id FROM feedback WHERE idempotency_key = ?`, f.IdempotencyKey).Scan(&id)
	}
	if err != nil {
		return "", false, fmt.Errorf("save feedback %q: %w", f.IdempotencyKey, err)
	}
	if err := tx.Commit(); err != nil {
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
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("list feedback: %w", err)
	}
	defer tx.Rollback()
	var after int64
	if afterID != "" {
		err := tx.QueryRowContext(ctx, `SELECT seq FROM feedback WHERE id = ?`, afterID).Scan(&after)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("list feedback after %q: %w", afterID, store.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("list feedback after %q: %w", afterID, err)
		}
	}
	fb, err := queryFeedback(ctx, tx, `WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list feedback: %w", err)
	}
	return fb, nil
}

func queryFeedback(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]store.Feedback, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, idempotency_key, prediction_id, client_id, code, labels, predicted,
		digits, ink_png, inputs, model_sha256, created_at, received_at FROM feedback `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Feedback
	for rows.Next() {
		var (
			f                 store.Feedback
			labels, digits    string
			inputs            []byte
			created, received int64
		)
		if err := rows.Scan(&f.ID, &f.IdempotencyKey, &f.PredictionID, &f.ClientID, &f.Code, &labels, &f.Predicted,
			&digits, &f.InkPNG, &inputs, &f.ModelSHA256, &created, &received); err != nil {
			return nil, err
		}
		if f.Labels, err = codec.ParseLabels(labels); err != nil {
			return nil, fmt.Errorf("feedback %s: %w", f.ID, err)
		}
		if f.Digits, err = codec.ParseDigits(digits); err != nil {
			return nil, fmt.Errorf("feedback %s: %w", f.ID, err)
		}
		if f.Inputs, err = codec.UnpackInputs(inputs); err != nil {
			return nil, fmt.Errorf("feedback %s: %w", f.ID, err)
		}
		f.InkPNG = codec.Blob(f.InkPNG)
		f.CreatedAt = fromMicro(created)
		f.ReceivedAt = fromMicro(received)
		out = append(out, f)
	}
	return out, rows.Err()
}

// Ping checks that the file can be read.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.insertPredictions != nil {
		errs = append(errs, s.insertPredictions.Close())
	}
	if s.insertPrediction != nil {
		errs = append(errs, s.insertPrediction.Close())
	}
	errs = append(errs, s.w.Close())
	return errors.Join(errs...)
}

func toMicro(t time.Time) int64 { return t.UnixMicro() }

func fromMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Synchronous reports the writer connection's PRAGMA synchronous (2 = FULL), for tests and diagnostics.
func (s *Store) Synchronous(ctx context.Context) (int, error) {
	var v int
	if err := s.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read synchronous: %w", err)
	}
	return v, nil
}
