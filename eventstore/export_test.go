package eventstore

import "github.com/jackc/pgx/v5/pgxpool"

// PoolOf gives a test of this package the store's pool, for SQL of the
// test's own (looking at locks, filling a table); the store hands it to no
// other package.
func PoolOf(s *Store) *pgxpool.Pool { return s.pool }
