package embedded

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/internal/pgerr"
)

// The private cluster never trusts (DESIGN "Nobody gets in where they don't
// belong"): any local account could otherwise connect as superuser, run
// COPY ... TO PROGRAM and read the secrets under the data directory.

// hbaConf is the whole pg_hba.conf of the private cluster: a password for
// every connection, over TCP from loopback only and over the socket, which
// lives in the 0700 data directory.
const hbaConf = `# Written by participation: password authentication only (see its README, Security).
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
`

// hbaUpgrade is pg_hba.conf while a cluster of an older version, made with
// trust, gets its password: trust only on the socket, whose 0700 directory
// only the server's user (and root) can enter; TCP already needs a password.
const hbaUpgrade = `# Written by participation while it sets the superuser's password; replaced once set.
local all all trust
host  all all 127.0.0.1/32 scram-sha-256
`

// passwordFile is where the superuser's password is kept: next to the
// cluster's directory in the data directory asked for, readable by the
// process that connects only — as root the server's user never needs it
// after initdb, and it stays in root's data directory even when the
// cluster is relocated.
func passwordFile(asked string) string {
	return filepath.Join(filepath.Dir(asked), filepath.Base(asked)+"-password")
}

// loadPassword reads the password file, or creates one with a random
// password when it is missing and the cluster has none yet (fresh, or made
// with trust by an older version).
func loadPassword(path string, clusterNeedsOne bool) (string, error) {
	raw, err := os.ReadFile(path)
	if err == nil {
		if err := os.Chmod(path, 0o600); err != nil {
			return "", err
		}
		pw := strings.TrimSpace(string(raw))
		if pw == "" {
			return "", fmt.Errorf("%s is empty: delete it only together with the cluster", path)
		}
		return pw, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if !clusterNeedsOne {
		return "", fmt.Errorf("the private PostgreSQL's password file %s is missing: restore it, "+
			"or delete the cluster's directory to start afresh", path)
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(buf)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	// Written whole, then renamed: a crash leaves no half password behind.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".password-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(pw + "\n"); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return pw, nil
}

// initdbPasswordFile writes the password where initdb, run as the server's
// user, can read it; the caller removes it once initdb is done.
func (p *Postgres) initdbPasswordFile() (string, error) {
	f, err := os.CreateTemp(filepath.Dir(p.DataDir), ".initdb-pw-*") // 0600
	if err != nil {
		return "", err
	}
	_, werr := f.WriteString(p.password + "\n")
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	if p.cred != nil {
		if err := os.Chown(f.Name(), int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			os.Remove(f.Name())
			return "", err
		}
	}
	return f.Name(), nil
}

// trusts reports whether the cluster's pg_hba.conf lets any connection in
// without a password.
func (p *Postgres) trusts() (bool, error) {
	f, err := os.Open(filepath.Join(p.DataDir, "pg_hba.conf"))
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		for _, field := range strings.Fields(line) {
			if field == "trust" {
				return true, nil
			}
		}
	}
	return false, sc.Err()
}

// writeHBA replaces pg_hba.conf, owned by the server's user as initdb left it.
func (p *Postgres) writeHBA(content string) error {
	path := filepath.Join(p.DataDir, "pg_hba.conf")
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	if p.cred != nil {
		if err := os.Chown(tmp, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			return err
		}
	}
	return os.Rename(tmp, path)
}

// secure leaves the running server with hbaConf and the superuser's
// password set: it connects over the socket (trusted while a cluster of an
// older version is upgraded, then with the password), sets the password
// when the cluster trusted, writes hbaConf if it is not there and reloads.
func (p *Postgres) secure(ctx context.Context, trusted bool) error {
	current, err := os.ReadFile(filepath.Join(p.DataDir, "pg_hba.conf"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", p.DataDir, p.Port))
	if err != nil {
		return err
	}
	cfg.Password = p.password
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to the private PostgreSQL over its socket: %w", passwordHint(err, p))
	}
	defer conn.Close(ctx)
	if trusted {
		verifier, err := scramVerifier(p.password)
		if err != nil {
			return err
		}
		// The verifier, not the password, goes over the wire and into any
		// server log line about the statement (as psql's \password does).
		if _, err := conn.Exec(ctx, "ALTER ROLE postgres PASSWORD '"+verifier+"'"); err != nil {
			return fmt.Errorf("set the private PostgreSQL's password: %w", err)
		}
	}
	if string(current) != hbaConf {
		if err := p.writeHBA(hbaConf); err != nil {
			return err
		}
	}
	// Reloaded even when the file was already ours: a server left running
	// by a start that died between the write and the reload still trusts.
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return fmt.Errorf("reload pg_hba.conf: %w", err)
	}
	return nil
}

// passwordHint explains a refused password: the file and the cluster
// disagree, which only deleting or restoring one of them mends.
func passwordHint(err error, p *Postgres) error {
	if pgerr.Is(err, pgerr.InvalidPassword) {
		return fmt.Errorf("%w (the password in %s is not the cluster's: restore the file, or delete %s to start afresh)",
			err, p.PasswordFile, p.DataDir)
	}
	return err
}

// scramVerifier is what PostgreSQL stores for a SCRAM-SHA-256 password
// (RFC 5803's format, 4096 iterations like the server's default).
func scramVerifier(password string) (string, error) {
	const iterations = 4096
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(stored[:]), b64(mac(salted, "Server Key"))), nil
}
