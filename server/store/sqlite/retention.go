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
func (s *Store) PrunePredictions(ctx context.Context, r store.Retention) (int64, store.LogStats, error) {
	var st store.LogStats
	var cut sql.NullInt64
	if r.MaxAge > 0 {
		if err := s.r.QueryRowContext(ctx, `SELECT MAX(seq) FROM predictions WHERE created_at < ?`,
			toMicro(s.now().Add(-r.MaxAge))).Scan(&cut); err != nil {
			return 0, st, fmt.Errorf("prune predictions by age: %w", err)
		}
	}
	if r.MaxBytes > 0 {
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
	var deleted int64
	if cut.Valid {
		res, err := s.w.ExecContext(ctx, `DELETE FROM predictions WHERE seq <= ?`, cut.Int64)
		if err != nil {
			return 0, st, fmt.Errorf("prune predictions: %w", err)
		}
		deleted, _ = res.RowsAffected()
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), IFNULL(SUM(`+rowBytes+`), 0) FROM predictions`).
		Scan(&st.Rows, &st.Bytes); err != nil {
		return 0, st, fmt.Errorf("prediction log size: %w", err)
	}
	return deleted, st, nil
}
