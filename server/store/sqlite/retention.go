package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"digitpad/server/store"
)

var _ store.Pruner = (*Store)(nil)

// rowBytes is store.PredictionBytes in SQL.
const rowBytes = `(length(CAST(id AS BLOB)) + length(CAST(client_id AS BLOB)) + length(CAST(code AS BLOB)) +
	length(CAST(model_sha256 AS BLOB)) + length(CAST(result AS BLOB)) + IFNULL(length(inputs), 0) +
	IFNULL(length(ink_png), 0) + 16)`

// PrunePredictions deletes predictions older than r.MaxAge (store clock), then the oldest (insertion order)
// beyond r.MaxBytes of payload. The scans that find the cut run on the read pool (WAL readers do not block the
// writer), so the write lock is held only for a range delete on the primary key: feedback commits do not wait
// behind a scan of the whole log. Predictions are logged in time order, so the age cut is the newest sequence
// number created before the cutoff.
//
// Each of those scans reads every row of the log (~2.5 µs of CPU a row here: ~0.5 s for 200,000 rows), and a
// pass runs every few minutes while predictions are served. So one scan measures the log and finds the age cut
// at once; the running-total scan that finds the size cut runs only when the log is over MaxBytes, and the log
// is measured again only after a delete. A pass that deletes nothing (the usual case) reads the log once instead
// of three times, with the same result.
func (s *Store) PrunePredictions(ctx context.Context, r store.Retention) (int64, store.LogStats, error) {
	var st store.LogStats
	var cut sql.NullInt64
	var before any // NULL: created_at < NULL holds for no row
	if r.MaxAge > 0 {
		before = toMicro(s.now().Add(-r.MaxAge))
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), IFNULL(SUM(`+rowBytes+`), 0),
		MAX(CASE WHEN created_at < ? THEN seq END) FROM predictions`, before).Scan(&st.Rows, &st.Bytes, &cut); err != nil {
		return 0, st, fmt.Errorf("prediction log size: %w", err)
	}
	if r.MaxBytes > 0 && st.Bytes > r.MaxBytes {
		// The newest rows whose running total stays within MaxBytes survive; the first row to cross it and all
		// older ones go.
		var bySize sql.NullInt64
		if err := s.r.QueryRowContext(ctx, `SELECT seq FROM (SELECT seq, SUM(`+rowBytes+`) OVER (ORDER BY seq DESC) AS total
			FROM predictions) WHERE total > ? ORDER BY seq DESC LIMIT 1`, r.MaxBytes).Scan(&bySize); err != nil &&
			!errors.Is(err, sql.ErrNoRows) {
			return 0, st, fmt.Errorf("prune predictions by size: %w", err)
		}
		if bySize.Valid && (!cut.Valid || bySize.Int64 > cut.Int64) {
			cut = bySize
		}
	}
	if !cut.Valid {
		return 0, st, nil
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM predictions WHERE seq <= ?`, cut.Int64)
	if err != nil {
		return 0, st, fmt.Errorf("prune predictions: %w", err)
	}
	deleted, _ := res.RowsAffected()
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), IFNULL(SUM(`+rowBytes+`), 0) FROM predictions`).
		Scan(&st.Rows, &st.Bytes); err != nil {
		return 0, st, fmt.Errorf("prediction log size: %w", err)
	}
	return deleted, st, nil
}
