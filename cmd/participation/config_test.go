package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/spf13/cobra"

	"github.com/shopevents/participation/internal/app"
)

const (
	envJWTSecret = "env-jwt-secret-env-jwt-secret-0123456789"
	envPIIKey    = "env-pii-key-env-pii-key-0123"
	envPassword  = "hunter2-the-password"
)

func setSecretEnv(t *testing.T) {
	t.Helper()
	t.Setenv("JWT_SECRET", envJWTSecret)
	t.Setenv("PII_KEY", envPIIKey)
	t.Setenv("DATABASE_URL", "postgres://app:"+envPassword+"@db.internal:5432/participation")
	t.Setenv("DATA_DIR", t.TempDir())
	t.Setenv("PUBLIC_BASE_URL", "https://events.example.test")
}

// --help of every command shows literal defaults, never a secret taken from
// the environment.
func TestHelpNeverPrintsASecret(t *testing.T) {
	setSecretEnv(t)
	var commands [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		commands = append(commands, append(append([]string(nil), path...), "--help"))
		for _, sub := range c.Commands() {
			walk(sub, append(path, sub.Name()))
		}
	}
	walk(newRootCommand(), nil)
	for _, args := range commands {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			root := newRootCommand()
			root.SetArgs(args)
			var out strings.Builder
			root.SetOut(&out)
			root.SetErr(&out)
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{envJWTSecret, envPIIKey, envPassword, "db.internal"} {
				if strings.Contains(out.String(), secret) {
					t.Errorf("%v prints %q:\n%s", args, secret, out.String())
				}
			}
		})
	}
	root := newRootCommand()
	root.SetArgs([]string{"--help"})
	var out strings.Builder
	root.SetOut(&out)
	_ = root.Execute()
	for _, want := range []string{`(default ":8080")`, `(default "127.0.0.1:9090")`, `(default "10/s")`, "JWT_SECRET_FILE", "(HTTP_ADDR)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %s:\n%s", want, out.String())
		}
	}
}

// The environment configures the commands, secrets included.
func TestEnvironmentConfiguresTheCommands(t *testing.T) {
	setSecretEnv(t)
	root := newRootCommand()
	root.SetArgs([]string{"token", "--owner", "o"})
	var out strings.Builder
	root.SetOut(&out)
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(out.String())
	_, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte(envJWTSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(time.Now))
	if err != nil {
		t.Fatalf("token not signed with JWT_SECRET: %v", err)
	}
}

// The banner shows the database as host and database only.
func TestBannerShowsNoPassword(t *testing.T) {
	for _, url := range []string{
		"postgres://app:" + envPassword + "@db.internal:5432/participation",
		"host=db.internal user=app password=" + envPassword + " dbname=participation",
	} {
		var out strings.Builder
		err := printBanner(&out, app.Started{
			Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, MetricsAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090},
			DatabaseURL: url, Roles: app.AllRoles,
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), envPassword) || strings.Contains(out.String(), "app:") || !strings.Contains(out.String(), "db.internal:5432/participation") {
			t.Errorf("banner for %q:\n%s", url, out.String())
		}
		if !strings.Contains(out.String(), "http://127.0.0.1:9090/metrics") {
			t.Errorf("banner lacks the metrics address:\n%s", out.String())
		}
	}
}

// The embedded mode's banner links the owner dashboard with a working token
// in the fragment (the part of a URL a browser never sends).
func TestBannerLinksTheDashboard(t *testing.T) {
	secret := []byte("banner-test-secret-banner-test-secret")
	var out strings.Builder
	err := printBanner(&out, app.Started{
		Addr: &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, MetricsAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090},
		Roles: app.AllRoles, Embedded: true, JWTSecret: secret, PublicBaseURL: "http://localhost:8080",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Share links http://localhost:8080/p/") {
		t.Errorf("the banner does not say where share links point:\n%s", out.String())
	}
	i := strings.Index(out.String(), "http://localhost:8080/owner/#token=")
	if i < 0 {
		t.Fatalf("no dashboard link in the banner:\n%s", out.String())
	}
	tok, _, _ := strings.Cut(out.String()[i+len("http://localhost:8080/owner/#token="):], "\n")
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return secret, nil }, jwt.WithValidMethods([]string{"HS256"})); err != nil {
		t.Errorf("the link's token does not verify: %v", err)
	}
}
