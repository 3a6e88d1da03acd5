package sqlite

import (
	"context"
	"fmt"

	"digitpad/server/store"
)

var _ store.Pruner = (*Store)(nil)

// rowBytes is store.PredictionBytes in SQL.
const rowBytes = `(length(CAST(id AS BLOB)) + length(CAST(client_id AS BLOB)) + length(CAST(code AS BLOB)) +
	length(CAST(model_sha256 AS BLOB)) + length(CAST(result AS BLOB)) + IFNULL(length(inputs), 0) +
	IFNULL(length(ink_png), 0) + 16)`

// PrunePredictions deletes predictions older than r.MaxAge (store clock), then the oldest (insertion order)
// beyond r.MaxBytes of payload, in one transaction. Both passes scan the table, so the server runs it every few
// minutes rather than per request.
func (s *Store) PrunePredictions(ctx context.Context, r store.Retention) (int64, store.LogStats, error) {
	var st store.LogStats
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, st, fmt.Errorf("prune predictions: %w", err)
	}
	defer tx.Rollback()
	var deleted int64
	if r.MaxAge > 0 {
		res, err := tx.ExecContext(ctx, `DELETE FROM predictions WHERE created_at < ?`, toMicro(s.now().Add(-r.MaxAge)))
		if err != nil {
			return 0, st, fmt.Errorf("prune predictions by age: %w", err)
		}
		n, _ := res.RowsAffected()
		deleted += n
	}
	if r.MaxBytes > 0 {
		// The newest rows whose running total stays within MaxBytes survive; the first row to cross it and all
		// older ones go.
		res, err := tx.ExecContext(ctx, `DELETE FROM predictions WHERE seq <= (
			SELECT seq FROM (SELECT seq, SUM(`+rowBytes+`) OVER (ORDER BY seq DESC) AS total FROM predictions)
			WHERE total > ? ORDER BY seq DESC LIMIT 1)`, r.MaxBytes)
		if err != nil {
			return 0, st, fmt.Errorf("prune predictions by size: %w", err)
		}
		n, _ := res.RowsAffected()
		deleted += n
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), IFNULL(SUM(`+rowBytes+`), 0) FROM predictions`).
		Scan(&st.Rows, &st.Bytes); err != nil {
		return 0, st, fmt.Errorf("prediction log size: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, st, fmt.Errorf("prune predictions: commit: %w", err)
	}
	return deleted, st, nil
}
