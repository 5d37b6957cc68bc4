// Package embedded runs the service's dependencies in-process or as child
// processes when no external ones are configured: a private PostgreSQL
// server under the data directory and an in-process Kafka-protocol broker.
package embedded

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgresPort is where the private server listens (loopback only).
const DefaultPostgresPort = 54329

// Postgres is a private PostgreSQL server under a data directory.
type Postgres struct {
	DataDir string // cluster files
	// Relocated is set when DataDir is not the directory asked for: as root,
	// the server's user could not reach that one (see reachableDir).
	Relocated bool
	Port      int
	// PasswordFile holds the superuser's password (0600): in the data
	// directory asked for, even when the cluster is relocated.
	PasswordFile string
	password     string
	binDir       string
	cred         *syscall.Credential // nil unless we run as root
	owned        bool                // we started it, so we stop it
}

// URL is the connection string of the service's database. It holds the
// password: show it through app.Redact only.
func (p *Postgres) URL() string { return p.url("participation") }

func (p *Postgres) url(database string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword("postgres", p.password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port)), Path: "/" + database, RawQuery: "sslmode=disable"}
	return u.String()
}

// StartPostgres starts (or reuses, when one already runs on dir) a private
// server whose files live in dir.
func StartPostgres(ctx context.Context, dir string, port int, logf func(string, ...any)) (*Postgres, error) {
	binDir, err := findPostgresBin()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p := &Postgres{DataDir: abs, Port: port, binDir: binDir, PasswordFile: passwordFile(abs)}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		if p.cred, err = unprivileged(); err != nil {
			return nil, err
		}
		if blocked := unreachableParent(abs, p.cred); blocked != "" {
			p.DataDir, p.Relocated = reachableDir(abs), true
			logf("%s is closed to the PostgreSQL user (uid %d), so the private cluster of %s lives in %s",
				blocked, p.cred.Uid, abs, p.DataDir)
			if blocked := unreachableParent(p.DataDir, p.cred); blocked != "" {
				return nil, fmt.Errorf("neither %s nor %s is reachable by the PostgreSQL user (uid %d; %s is closed): "+
					"set DATA_DIR to a directory it can reach, or set DATABASE_URL", abs, p.DataDir, p.cred.Uid, blocked)
			}
		}
	}
	_, err = os.Stat(filepath.Join(p.DataDir, "PG_VERSION"))
	fresh, trusted := errors.Is(err, os.ErrNotExist), false
	if !fresh {
		// A cluster of an older version trusted every local user: it gets
		// a password now, and a developer's old .data/ keeps working.
		if trusted, err = p.trusts(); err != nil {
			return nil, err
		}
	}
	if p.password, err = loadPassword(p.PasswordFile, fresh || trusted); err != nil {
		return nil, err
	}
	if running, port := p.running(); running {
		p.Port = port
		logf("using the PostgreSQL already running on %s (port %d)", p.DataDir, p.Port)
		return p, p.ready(ctx, trusted, logf)
	}
	if err := p.prepareDir(); err != nil {
		return nil, err
	}
	if fresh {
		if err := p.initdb(logf); err != nil {
			return nil, err
		}
	} else if trusted {
		if err := p.writeHBA(hbaUpgrade); err != nil {
			return nil, err
		}
	}
	if inUse(p.Port) {
		return nil, fmt.Errorf("port %d is taken by another program: stop it, or set DATABASE_URL", p.Port)
	}
	// Loopback only, and the socket for the server's user alone (its
	// directory is the 0700 data directory too).
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c unix_socket_permissions=0700 -c max_connections=200 -c shared_buffers=256MB",
		p.Port, p.DataDir)
	if out, err := p.run(filepath.Join(binDir, "pg_ctl"), "-D", p.DataDir, "-o", opts,
		"-l", filepath.Join(p.DataDir, "server.log"), "-w", "-t", "60", "start"); err != nil {
		return nil, fmt.Errorf("start PostgreSQL: %w\n%s(see %s)", err, out, filepath.Join(p.DataDir, "server.log"))
	}
	p.owned = true
	logf("started a private PostgreSQL on 127.0.0.1:%d", p.Port)
	return p, p.ready(ctx, trusted, logf)
}

func (p *Postgres) initdb(logf func(string, ...any)) error {
	logf("initializing a private PostgreSQL in %s", p.DataDir)
	pwfile, err := p.initdbPasswordFile()
	if err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if out, err := p.run(filepath.Join(p.binDir, "initdb"), "-D", p.DataDir, "-U", "postgres",
		"--auth=scram-sha-256", "--pwfile="+pwfile, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// ready secures the running server (see secure) and creates the service's database.
func (p *Postgres) ready(ctx context.Context, trusted bool, logf func(string, ...any)) error {
	if err := p.secure(ctx, trusted); err != nil {
		return err
	}
	if trusted {
		logf("the private PostgreSQL trusted local users; it now asks for the password kept in %s", p.PasswordFile)
	}
	return p.ensureDatabase(ctx)
}

// Stop stops the server if this process started it.
func (p *Postgres) Stop() error {
	if p == nil || !p.owned {
		return nil
	}
	out, err := p.run(filepath.Join(p.binDir, "pg_ctl"), "-D", p.DataDir, "-m", "fast", "-w", "stop")
	if err != nil {
		return fmt.Errorf("stop PostgreSQL: %w\n%s", err, out)
	}
	return nil
}

// running reports whether a server already serves DataDir, and its port.
func (p *Postgres) running() (bool, int) {
	raw, err := os.ReadFile(filepath.Join(p.DataDir, "postmaster.pid"))
	if err != nil {
		return false, 0
	}
	lines := strings.Split(string(raw), "\n")
	if len(lines) < 4 {
		return false, 0
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(lines[0]))
	port, err2 := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err1 != nil || err2 != nil || syscall.Kill(pid, 0) != nil {
		return false, 0
	}
	return inUse(port), port
}

func (p *Postgres) ensureDatabase(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.url("postgres"))
	if err != nil {
		// pgx's message names the user, never the password.
		return fmt.Errorf("connect to the private PostgreSQL: %w", passwordHint(err, p))
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'participation')`).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE DATABASE participation`); err != nil {
			return fmt.Errorf("create database: %w", err)
		}
	}
	return nil
}

// prepareDir creates the data directory and, as root, hands it to the
// unprivileged user the server runs as.
func (p *Postgres) prepareDir() error {
	// The parent stays searchable: the server may run as another user.
	if err := os.MkdirAll(filepath.Dir(p.DataDir), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(p.DataDir, 0o700); err != nil {
		return err
	}
	if p.Relocated { // whatever the umask: the server's user goes through these
		for _, d := range []string{RelocationRoot, filepath.Dir(p.DataDir)} {
			if err := os.Chmod(d, 0o755); err != nil {
				return err
			}
		}
	}
	if p.cred == nil {
		return nil
	}
	return os.Chown(p.DataDir, int(p.cred.Uid), int(p.cred.Gid))
}

// RelocationRoot is where, as root, a cluster goes whose data directory the
// server's user cannot reach (a checkout under root's 0700 home): one
// directory per asked path, so each checkout finds its own cluster again.
var RelocationRoot = "/var/lib/participation"

func reachableDir(asked string) string {
	sum := sha256.Sum256([]byte(asked))
	return filepath.Join(RelocationRoot, filepath.Base(filepath.Dir(asked))+"-"+hex.EncodeToString(sum[:6]), filepath.Base(asked))
}

// unreachableParent returns the first existing ancestor of dir that the user
// of cred cannot search (so cannot reach dir through), or "".
func unreachableParent(dir string, cred *syscall.Credential) string {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		var st syscall.Stat_t
		if err := syscall.Stat(d, &st); err == nil {
			var bit uint32 = 0o001
			switch {
			case st.Uid == cred.Uid:
				bit = 0o100
			case st.Gid == cred.Gid:
				bit = 0o010
			}
			if st.Mode&bit == 0 {
				return d
			}
		}
		if d == "/" {
			return ""
		}
	}
}

func (p *Postgres) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = p.DataDir
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
		cmd.Dir = "/"
		cmd.Env = append(os.Environ(), "HOME="+p.DataDir)
	}
	// The server must outlive neither a Ctrl-C to the terminal's process
	// group before we stop it cleanly, nor us: its own session does both.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	return cmd.CombinedOutput()
}

// findPostgresBin finds the server binaries: PG_BIN, the newest
// /usr/lib/postgresql/*/bin, or pg_ctl on PATH.
func findPostgresBin() (string, error) {
	if dir := os.Getenv("PG_BIN"); dir != "" {
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if path, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(path), nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries found (looked in PG_BIN, /usr/lib/postgresql/*/bin and PATH): " +
		"install PostgreSQL (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL to a server you have")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// unprivileged returns the credentials of the user the server runs as when
// we are root: "postgres" if it exists, else "nobody".
func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and no unprivileged user (postgres or nobody) to run PostgreSQL as")
}

func inUse(port int) bool {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 500*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
