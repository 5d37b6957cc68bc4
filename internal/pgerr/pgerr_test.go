package pgerr_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/internal/pgerr"
	"github.com/shopevents/participation/internal/testenv"
)

// Each error comes from a real PostgreSQL: the classes are checked against
// what the server sends, not against hand-made values.
func TestClassesOfRealServerErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.Database(t)
	connect := func(t *testing.T) *pgx.Conn {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close(context.Background()) })
		return conn
	}
	setup := connect(t)
	if _, err := setup.Exec(ctx, `CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name                          string
		err                           func(t *testing.T) error
		code                          string
		permanent, retry, unavailable bool
	}{
		{"unique violation", func(t *testing.T) error {
			_, err := connect(t).Exec(ctx, `INSERT INTO t VALUES (1)`)
			return err
		}, pgerr.UniqueViolation, true, false, false},
		{"unique violation, wrapped", func(t *testing.T) error {
			_, err := connect(t).Exec(ctx, `INSERT INTO t VALUES (1)`)
			return fmt.Errorf("append: %w", err)
		}, pgerr.UniqueViolation, true, false, false},
		{"division by zero", func(t *testing.T) error {
			_, err := connect(t).Exec(ctx, `SELECT 1 / (id - 1) FROM t`)
			return err
		}, "22012", true, false, false},
		{"syntax error: none of the classes", func(t *testing.T) error {
			_, err := connect(t).Exec(ctx, `SELEC 1`)
			return err
		}, "42601", false, false, false},
		{"lock not available", func(t *testing.T) error {
			holder := connect(t)
			if _, err := holder.Exec(ctx, `BEGIN; LOCK TABLE t`); err != nil {
				t.Fatal(err)
			}
			_, err := connect(t).Exec(ctx, `SET lock_timeout = '50ms'; LOCK TABLE t`)
			return err
		}, pgerr.LockNotAvailable, false, true, false},
		{"serialization failure", func(t *testing.T) error {
			_, err := connect(t).Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = 'serialization_failure'; END $$`)
			return err
		}, pgerr.SerializationFailure, false, true, false},
		{"terminated by the administrator", func(t *testing.T) error {
			_, err := connect(t).Exec(ctx, `SELECT pg_terminate_backend(pg_backend_pid())`)
			return err
		}, "57P01", false, false, true},
		{"connection refused", func(t *testing.T) error {
			_, err := pgx.Connect(ctx, fmt.Sprintf("postgres://nobody@127.0.0.1:%d/none?connect_timeout=5", testenv.FreePort(t)))
			return err
		}, "", false, false, true},
		{"not PostgreSQL's", func(*testing.T) error { return errors.New("something else") }, "", false, false, false},
		{"nil", func(*testing.T) error { return nil }, "", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err(t)
			if (err == nil) != (tt.name == "nil") {
				t.Fatalf("err = %v", err)
			}
			if got := pgerr.Code(err); got != tt.code {
				t.Errorf("Code = %q, want %q (%v)", got, tt.code, err)
			}
			if tt.code != "" && !pgerr.Is(err, "00000", tt.code) {
				t.Errorf("Is(%q) = false (%v)", tt.code, err)
			}
			if pgerr.Is(err, "") {
				t.Errorf(`Is("") = true (%v)`, err)
			}
			if got := pgerr.Permanent(err); got != tt.permanent {
				t.Errorf("Permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if got := pgerr.Retry(err); got != tt.retry {
				t.Errorf("Retry = %v, want %v (%v)", got, tt.retry, err)
			}
			if got := pgerr.Unavailable(err); got != tt.unavailable {
				t.Errorf("Unavailable = %v, want %v (%v)", got, tt.unavailable, err)
			}
		})
	}
}

func TestUniqueViolationNamesItsConstraint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	_, err = conn.Exec(ctx, `CREATE TABLE k (key text CONSTRAINT k_key UNIQUE); INSERT INTO k VALUES ('a')`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `INSERT INTO k VALUES ('a')`)
	pgErr, ok := pgerr.As(fmt.Errorf("wrapped: %w", err))
	if !ok || pgErr.ConstraintName != "k_key" {
		t.Fatalf("As = %+v, %v; want the unique violation on k_key", pgErr, ok)
	}
}
