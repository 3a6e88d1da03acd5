package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"digitpad/server/store"
)

var _ store.Pruner = (*Store)(nil)

// rowBytes is store.PredictionBytes in SQL (result measured as its JSON text, as the other stores keep it).
const rowBytes = `(octet_length(id) + octet_length(client_id) + octet_length(code) + octet_length(model_sha256) +
	octet_length(result::text) + COALESCE(octet_length(inputs), 0) + COALESCE(octet_length(ink_png), 0) + 16)`

// PrunePredictions deletes predictions older than r.MaxAge (store clock), then the oldest (insertion order)
// beyond r.MaxBytes of payload, in one transaction.
func (s *Store) PrunePredictions(ctx context.Context, r store.Retention) (int64, store.LogStats, error) {
	var st store.LogStats
	var deleted int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if r.MaxAge > 0 {
			tag, err := tx.Exec(ctx, `DELETE FROM predictions WHERE created_at < $1`, micro(s.now().Add(-r.MaxAge)))
			if err != nil {
				return fmt.Errorf("by age: %w", err)
			}
			deleted += tag.RowsAffected()
		}
		if r.MaxBytes > 0 {
			tag, err := tx.Exec(ctx, `DELETE FROM predictions WHERE seq <= (
				SELECT seq FROM (SELECT seq, SUM(`+rowBytes+`) OVER (ORDER BY seq DESC) AS total FROM predictions) t
				WHERE total > $1 ORDER BY seq DESC LIMIT 1)`, r.MaxBytes)
			if err != nil {
				return fmt.Errorf("by size: %w", err)
			}
			deleted += tag.RowsAffected()
		}
		return tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(`+rowBytes+`), 0)::bigint FROM predictions`).
			Scan(&st.Rows, &st.Bytes)
	})
	if err != nil {
		return 0, st, fmt.Errorf("prune predictions: %w", err)
	}
	return deleted, st, nil
}
