package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// Pool exposes a store's connection pool to the package's external tests.
func Pool(s *Store) *pgxpool.Pool { return s.pool }
