package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"digitpad/server/store"
)

var _ store.Pruner = (*Store)(nil)

// rowBytes is store.PredictionBytes in SQL (result measured as its JSON text, as the other stores keep it).
const rowBytes = `(octet_length(id) + octet_length(client_id) + octet_length(code) + octet_length(model_sha256) +
	octet_length(result::text) + COALESCE(octet_length(inputs), 0) + COALESCE(octet_length(ink_png), 0) + 16)`

// PrunePredictions deletes predictions older than r.MaxAge (store clock), then the oldest (insertion order)
// beyond r.MaxBytes of payload. Predictions carry no index but their sequence number, so every scan that finds
// a cut or measures the log reads the whole table, and a pass runs every few minutes while predictions are
// served. So, as in the SQLite store, one scan measures the log and finds the age cut at once: predictions are
// logged in time order, so the cut is the newest sequence number created before the cutoff (with replicas
// sharing the database, batches near the cutoff interleave by their flush delay and clock skew: a row within
// that of the cutoff may go one pass early or late). The running-total scan that finds the size cut runs only
// when the log is over MaxBytes, and the delete, a range on the primary key, returns what it removed, so the
// log is not measured again. A pass that deletes nothing (the usual case) reads the log once instead of three
// times. The stats are the log as the first scan saw it less what was deleted.
func (s *Store) PrunePredictions(ctx context.Context, r store.Retention) (int64, store.LogStats, error) {
	var st store.LogStats
	var cut pgtype.Int8
	var before any // NULL: created_at < NULL holds for no row
	if r.MaxAge > 0 {
		before = micro(s.now().Add(-r.MaxAge))
	}
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(`+rowBytes+`), 0)::bigint,
		MAX(seq) FILTER (WHERE created_at < $1::timestamptz) FROM predictions`, before).Scan(&st.Rows, &st.Bytes, &cut); err != nil {
		return 0, st, fmt.Errorf("prediction log size: %w", err)
	}
	if r.MaxBytes > 0 && st.Bytes > r.MaxBytes {
		// The newest rows whose running total stays within MaxBytes survive; the first row to cross it and all
		// older ones go. (Always one row: the whole log's total is over MaxBytes.)
		var bySize pgtype.Int8
		if err := s.pool.QueryRow(ctx, `SELECT MAX(seq) FROM (SELECT seq, SUM(`+rowBytes+`) OVER (ORDER BY seq DESC) AS total
			FROM predictions) t WHERE total > $1`, r.MaxBytes).Scan(&bySize); err != nil {
			return 0, st, fmt.Errorf("prune predictions by size: %w", err)
		}
		if bySize.Valid && (!cut.Valid || bySize.Int64 > cut.Int64) {
			cut = bySize
		}
	}
	if !cut.Valid {
		return 0, st, nil
	}
	var deleted, bytes int64
	if err := s.pool.QueryRow(ctx, `WITH gone AS (DELETE FROM predictions WHERE seq <= $1 RETURNING `+rowBytes+` AS n)
		SELECT COUNT(*), COALESCE(SUM(n), 0)::bigint FROM gone`, cut.Int64).Scan(&deleted, &bytes); err != nil {
		return 0, st, fmt.Errorf("prune predictions: %w", err)
	}
	st.Rows = max(st.Rows-deleted, 0)
	st.Bytes = max(st.Bytes-bytes, 0)
	return deleted, st, nil
}
