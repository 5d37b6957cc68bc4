package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The private cluster asks every connection for the generated password: over
// TCP and over its socket, without one or with a wrong one it refuses.
func TestEmbeddedPostgresRequiresThePassword(t *testing.T) {
	dir := shortDataDir(t)
	pg := startForTest(t, dir)
	assertLocked(t, pg)
}

// A .data/ of an older version, whose cluster trusted every local user,
// keeps its data and gets the password on start.
func TestEmbeddedPostgresUpgradesATrustCluster(t *testing.T) {
	dir := shortDataDir(t)
	old := oldTrustCluster(t, dir)
	if _, err := os.Stat(passwordFile(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an old cluster has no password file; stat: %v", err)
	}
	pg := startForTest(t, dir)
	if pg.DataDir != old.DataDir {
		t.Fatalf("DataDir %s, the old cluster's %s", pg.DataDir, old.DataDir)
	}
	assertLocked(t, pg)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var marker string
	if err := conn.QueryRow(ctx, "SELECT v FROM marker").Scan(&marker); err != nil || marker != "kept" {
		t.Fatalf("the old cluster's data: %q, %v", marker, err)
	}

	// Started again, the upgraded cluster (stopped with its password) opens.
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	again := startForTest(t, dir)
	assertLocked(t, again)
}

// assertLocked checks the password file and that only its password gets in.
func assertLocked(t *testing.T, pg *Postgres) {
	t.Helper()
	ctx := context.Background()
	st, err := os.Stat(pg.PasswordFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", pg.PasswordFile, st.Mode().Perm())
	}
	raw, _ := os.ReadFile(pg.PasswordFile)
	if pw := strings.TrimSpace(string(raw)); len(pw) < 32 || pw != pg.password {
		t.Errorf("password file holds %d characters, not the password in use", len(pw))
	}
	hba, _ := os.ReadFile(filepath.Join(pg.DataDir, "pg_hba.conf"))
	if string(hba) != hbaConf {
		t.Errorf("pg_hba.conf:\n%s", hba)
	}
	tcp := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=participation sslmode=disable", pg.Port)
	socket := fmt.Sprintf("host=%s port=%d user=postgres dbname=participation sslmode=disable", pg.DataDir, pg.Port)
	tests := []struct {
		name, conn, password string
		want                 bool
	}{
		{"tcp without a password", tcp, "", false},
		{"tcp with a wrong password", tcp, "not-the-password", false},
		{"socket without a password", socket, "", false},
		{"socket with a wrong password", socket, "not-the-password", false},
		{"tcp with the password", tcp, pg.password, true},
		{"the service's URL", pg.URL(), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := pgx.ParseConfig(tt.conn)
			if err != nil {
				t.Fatal(err)
			}
			if tt.password != "" {
				cfg.Password = tt.password
			}
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if !tt.want {
				var pgErr *pgconn.PgError
				if err == nil {
					conn.Close(ctx)
					t.Fatal("connected")
				}
				if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
					t.Fatalf("refused, but not for the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer conn.Close(ctx)
			var one int
			if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func startForTest(t *testing.T, dir string) *Postgres {
	t.Helper()
	if _, err := findPostgresBin(); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	logf := func(format string, args ...any) { fmt.Fprintf(&logs, format+"\n", args...) }
	pg, err := StartPostgres(context.Background(), dir, freeTCPPort(t), logf)
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		t.Fatalf("StartPostgres: %v\n%s", err, log)
	}
	t.Cleanup(func() { _ = pg.Stop() })
	serverLog, _ := os.ReadFile(filepath.Join(pg.DataDir, "server.log"))
	for name, text := range map[string]string{"our log": logs.String(), "the server's log": string(serverLog)} {
		if strings.Contains(text, pg.password) {
			t.Errorf("%s shows the password:\n%s", name, text)
		}
	}
	if st, err := os.Stat(filepath.Join(pg.DataDir, fmt.Sprintf(".s.PGSQL.%d", pg.Port))); err != nil {
		t.Error(err)
	} else if st.Mode().Perm()&0o077 != 0 {
		t.Errorf("the socket is open to others: %v", st.Mode())
	}
	return pg
}

// oldTrustCluster makes a cluster as earlier versions did (initdb -A trust),
// with a table in the service's database, and leaves it stopped.
func oldTrustCluster(t *testing.T, dir string) *Postgres {
	t.Helper()
	binDir, err := findPostgresBin()
	if err != nil {
		t.Fatal(err)
	}
	p := &Postgres{DataDir: dir, Port: freeTCPPort(t), binDir: binDir}
	if os.Geteuid() == 0 {
		if p.cred, err = unprivileged(); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.prepareDir(); err != nil {
		t.Fatal(err)
	}
	if out, err := p.run(filepath.Join(binDir, "initdb"), "-D", dir, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", p.Port, dir)
	if out, err := p.run(filepath.Join(binDir, "pg_ctl"), "-D", dir, "-o", opts, "-l", filepath.Join(dir, "server.log"), "-w", "start"); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
	p.owned = true
	ctx := context.Background()
	trustURL := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%%s?sslmode=disable", p.Port)
	for _, sql := range []struct{ db, stmt string }{
		{"postgres", "CREATE DATABASE participation"},
		{"participation", "CREATE TABLE marker AS SELECT 'kept' AS v"},
	} {
		conn, err := pgx.Connect(ctx, fmt.Sprintf(trustURL, sql.db))
		if err != nil {
			t.Fatalf("the trust cluster: %v", err)
		}
		_, err = conn.Exec(ctx, sql.stmt)
		conn.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	return p
}

// shortDataDir is a cluster directory with a short path (the server's socket
// lives in it: 108 bytes at most) that the server's user can reach as root.
func shortDataDir(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp("", "pgauth")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, ".data", "postgres")
}
