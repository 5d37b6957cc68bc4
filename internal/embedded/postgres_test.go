package embedded

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestStartPostgresAsRootFromClosedDirectory is the newcomer's `make run` as
// root from a checkout under a 0700 directory (root's home): the server's
// user cannot enter it, so the cluster must live where that user can reach
// it, and serve.
func TestStartPostgresAsRootFromClosedDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root, and this test needs root: it tests what root's `make run` does")
		}
		t.Skip("needs root: initdb runs as another user only when we are root (CI runs it)")
	}
	if _, err := findPostgresBin(); err != nil {
		t.Fatal(err)
	}
	closed := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	asked := filepath.Join(closed, "checkout", ".data", "postgres")

	// Short: the server's socket lives in its data directory (108 bytes at most).
	root, err := os.MkdirTemp("", "pgrel")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	old := RelocationRoot
	RelocationRoot = filepath.Join(root, "participation")
	t.Cleanup(func() { RelocationRoot = old })

	var logs []string
	logf := func(format string, args ...any) { logs = append(logs, format) }
	port := freeTCPPort(t)
	ctx := context.Background()
	pg, err := StartPostgres(ctx, asked, port, logf)
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(reachableDir(asked), "server.log"))
		t.Fatalf("StartPostgres from a 0700 directory as root: %v\n%s", err, log)
	}
	t.Cleanup(func() {
		if err := pg.Stop(); err != nil {
			t.Error(err)
		}
	})
	if !pg.Relocated || !strings.HasPrefix(pg.DataDir, RelocationRoot+string(filepath.Separator)) {
		t.Fatalf("DataDir = %s (relocated %v), want it under %s", pg.DataDir, pg.Relocated, RelocationRoot)
	}
	if !strings.Contains(strings.Join(logs, "\n"), "lives in") {
		t.Errorf("no log line says where the cluster lives: %q", logs)
	}
	conn, err := pgx.Connect(ctx, pg.URL())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1: %d %v", one, err)
	}

	// A second start of the same checkout finds the same cluster.
	again, err := StartPostgres(ctx, asked, port, logf)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if again.DataDir != pg.DataDir {
		t.Errorf("second start: DataDir %s, first %s", again.DataDir, pg.DataDir)
	}
}

func TestUnreachableParent(t *testing.T) {
	dir := t.TempDir()
	closed := filepath.Join(dir, "closed")
	open := filepath.Join(dir, "open")
	for d, mode := range map[string]os.FileMode{closed: 0o700, open: 0o755} {
		if err := os.Mkdir(d, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
	}
	openUp(t, dir)
	other := &syscall.Credential{Uid: 65534, Gid: 65534} // nobody: owns none of these
	tests := []struct {
		name, dir, want string
	}{
		{"below a 0700 directory of another user", filepath.Join(closed, "x", "postgres"), closed},
		{"below open directories", filepath.Join(open, "x", "postgres"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unreachableParent(tt.dir, other); got != tt.want {
				t.Errorf("unreachableParent(%s) = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

// openUp makes a t.TempDir() and its per-test parent (both 0700) searchable.
func openUp(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
