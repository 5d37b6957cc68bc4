// Package testenv gives tests the real services they need: a fresh PostgreSQL
// database and Kafka brokers.
//
// PostgreSQL comes from DATABASE_URL, or from libpq's PG* variables when
// DATABASE_URL is empty. `make test` runs the tests under
// deploy/postgres/with-postgres.sh, which starts a throwaway server when neither
// is set. A test that needs PostgreSQL and finds none fails; it never skips, so a
// green run means the database code ran.
//
// Kafka comes from KAFKA_BROKERS (comma-separated); without it each test gets an
// in-process Kafka-protocol broker (kfake). CI sets KAFKA_BROKERS to a real
// Apache Kafka started by deploy/kafka/kafka.sh, so the same tests run against both.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Database creates an empty database with a unique name on the PostgreSQL
// server named by DATABASE_URL (or the PG* variables), returns its connection
// string, and drops it, with any connection still open, when the test ends.
func Database(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	admin := os.Getenv("DATABASE_URL")
	conn := connectAdmin(ctx, t, admin)
	defer conn.Close(context.Background())

	name := uniqueName("test_", t.Name(), "_", 63)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	return withDatabase(admin, name)
}

// DatabaseFrom is Database copied from template (which nobody may be
// connected to), for a test that needs a big store many times over: a copy
// of the files costs seconds where filling it again costs minutes.
func DatabaseFrom(t testing.TB, template string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	admin := os.Getenv("DATABASE_URL")
	conn := connectAdmin(ctx, t, admin)
	defer conn.Close(context.Background())
	name := uniqueName("test_", t.Name(), "_", 63)
	// FILE_COPY: the default WAL_LOG strategy writes the whole copy to the WAL.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+
		pgx.Identifier{template}.Sanitize()+" STRATEGY FILE_COPY"); err != nil {
		t.Fatalf("testenv: create database %s from %s: %v", name, template, err)
	}
	t.Cleanup(func() { DropDatabase(t, name) })
	return withDatabase(admin, name)
}

// DatabaseURL is the connection string of the database name on the server
// of DATABASE_URL.
func DatabaseURL(name string) string { return withDatabase(os.Getenv("DATABASE_URL"), name) }

// DropDatabase drops database name, with any connection still open.
func DropDatabase(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := connectAdmin(ctx, t, os.Getenv("DATABASE_URL"))
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("testenv: drop database %s: %v", name, err)
	}
}

func connectAdmin(ctx context.Context, t testing.TB, connString string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, connString)
	if err == nil {
		return conn
	}
	where := "DATABASE_URL is empty, PGHOST=" + os.Getenv("PGHOST")
	if connString != "" {
		where = "DATABASE_URL=" + redact(connString)
	}
	t.Fatalf("testenv: this test needs PostgreSQL and none answers (%s): %v\n"+
		"Run the tests with `make test`, which starts a throwaway server, "+
		"or point DATABASE_URL at a server where this user may CREATE DATABASE.", where, err)
	return nil
}

// withDatabase returns connString with its database replaced by name.
func withDatabase(connString, name string) string {
	if u, err := url.Parse(connString); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		u.RawPath = ""
		return u.String()
	}
	// keyword/value form, or empty (the PG* variables supply the rest):
	// a later keyword wins over an earlier one.
	return strings.TrimSpace(connString + " dbname=" + name)
}

func redact(connString string) string {
	if u, err := url.Parse(connString); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	}
	return connString
}

// KafkaBrokers returns the brokers in KAFKA_BROKERS or, when it is empty, the
// address of an in-process kfake cluster on a random loopback port that lives
// until the test ends. Topics are created on first use, with 3 partitions.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	if env := os.Getenv("KAFKA_BROKERS"); strings.TrimSpace(env) != "" {
		var brokers []string
		for b := range strings.SplitSeq(env, ",") {
			if b = strings.TrimSpace(b); b != "" {
				brokers = append(brokers, b)
			}
		}
		return brokers
	}
	cluster, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(3),
	)
	if err != nil {
		t.Fatalf("testenv: start in-process Kafka (kfake): %v", err)
	}
	t.Cleanup(cluster.Close)
	return cluster.ListenAddrs()
}

// Topic returns a topic name no other test uses, so tests that share a real
// broker never read each other's messages.
func Topic(t testing.TB) string {
	t.Helper()
	return uniqueName("test-", t.Name(), "-", 200)
}

// uniqueName is prefix + the test name reduced to [a-z0-9] and sep + 8 random
// hex digits, at most max bytes: legal both as a PostgreSQL identifier and as a
// Kafka topic name.
func uniqueName(prefix, testName, sep string, max int) string {
	var b strings.Builder
	lastSep := true
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			lastSep = false
		case !lastSep:
			b.WriteString(sep)
			lastSep = true
		}
	}
	suffix := randomHex(4)
	base := strings.TrimSuffix(b.String(), sep)
	if room := max - len(prefix) - len(sep) - len(suffix); len(base) > room {
		base = base[:room]
	}
	return prefix + base + sep + suffix
}

func randomHex(n int) string {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(fmt.Sprintf("testenv: crypto/rand: %v", err))
	}
	return hex.EncodeToString(buf)
}

// Pool opens a pool of at most maxConns connections to a fresh Database,
// closed when the test ends. The caller applies the migrations it needs.
func Pool(t testing.TB, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(Database(t))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
