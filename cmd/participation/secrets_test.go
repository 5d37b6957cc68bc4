package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shopevents/participation/internal/app"
)

// Each secret comes from its variable or from the file its _FILE variable
// names, one trailing newline dropped; both, or an empty or missing file,
// is an error that names the variable and never the secret.
func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	jwtFile := file("jwt", "file-jwt-secret-file-jwt-secret-0123456789\n")
	piiFile := file("pii", "file-pii-key-0123456789\r\n")
	dbFile := file("db", "postgres://app:filepass@db.internal/participation\n")
	notifyFile := file("notify", "file-notify-secret-file-notify-secret-01")
	emptyFile := file("empty", "\n")
	tests := []struct {
		name    string
		env     map[string]string
		want    app.Config
		wantErr []string
	}{
		{"variables", map[string]string{"JWT_SECRET": "a", "PII_KEY": "b", "DATABASE_URL": "c", "NOTIFY_WEBHOOK_SECRET": "d"},
			app.Config{JWTSecret: "a", PIIKey: "b", DatabaseURL: "c", NotifyWebhookSecret: "d"}, nil},
		{"files, trailing newline dropped", map[string]string{"JWT_SECRET_FILE": jwtFile, "PII_KEY_FILE": piiFile,
			"DATABASE_URL_FILE": dbFile, "NOTIFY_WEBHOOK_SECRET_FILE": notifyFile},
			app.Config{JWTSecret: "file-jwt-secret-file-jwt-secret-0123456789", PIIKey: "file-pii-key-0123456789",
				DatabaseURL: "postgres://app:filepass@db.internal/participation", NotifyWebhookSecret: "file-notify-secret-file-notify-secret-01"}, nil},
		{"empty variables are unset", map[string]string{"JWT_SECRET": "", "JWT_SECRET_FILE": jwtFile},
			app.Config{JWTSecret: "file-jwt-secret-file-jwt-secret-0123456789"}, nil},
		{"both a variable and its file", map[string]string{"JWT_SECRET": "a", "JWT_SECRET_FILE": jwtFile, "PII_KEY": "b", "PII_KEY_FILE": piiFile},
			app.Config{}, []string{"JWT_SECRET and JWT_SECRET_FILE are both set", "PII_KEY and PII_KEY_FILE are both set"}},
		{"missing file", map[string]string{"DATABASE_URL_FILE": filepath.Join(dir, "nope")},
			app.Config{}, []string{"DATABASE_URL_FILE: open"}},
		{"empty file", map[string]string{"NOTIFY_WEBHOOK_SECRET_FILE": emptyFile},
			app.Config{}, []string{"NOTIFY_WEBHOOK_SECRET_FILE: " + emptyFile + " is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got app.Config
			err := applySecrets(&got, func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got.JWTSecret != tt.want.JWTSecret || got.PIIKey != tt.want.PIIKey ||
					got.DatabaseURL != tt.want.DatabaseURL || got.NotifyWebhookSecret != tt.want.NotifyWebhookSecret {
					t.Errorf("got %+v\nwant %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "file-jwt-secret") || strings.Contains(err.Error(), "filepass") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
}

// A secret given as a flag is refused by name, whatever the command, and a
// secret from a file reaches the command.
func TestSecretFlagsRefused(t *testing.T) {
	setSecretEnv(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"jwt secret before the command", []string{"--jwt-secret", "x", "token", "--owner", "o"}, "--jwt-secret: a secret given as a flag"},
		{"jwt secret after the command", []string{"token", "--owner", "o", "--jwt-secret=x"}, "--jwt-secret: a secret given as a flag"},
		{"pii key", []string{"migrate", "--pii-key", "x"}, "--pii-key: a secret given as a flag"},
		{"database url", []string{"migrate", "--database-url", "postgres://a:b@c/d"}, "--database-url: a secret given as a flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRootCommand()
			root.SetArgs(tt.args)
			var out strings.Builder
			root.SetOut(&out)
			root.SetErr(&out)
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "_FILE") {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// The token command signs with the secret of JWT_SECRET_FILE.
func TestSecretFileReachesTheCommand(t *testing.T) {
	setSecretEnv(t)
	path := filepath.Join(t.TempDir(), "jwt")
	secret := "from-a-file-from-a-file-from-a-file-0123"
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JWT_SECRET", "")
	t.Setenv("JWT_SECRET_FILE", path)
	root := newRootCommand()
	root.SetArgs([]string{"token", "--owner", "o"})
	var out strings.Builder
	root.SetOut(&out)
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	keyFunc := func(*jwt.Token) (any, error) { return []byte(secret), nil }
	if _, err := jwt.Parse(strings.TrimSpace(out.String()), keyFunc, jwt.WithValidMethods([]string{"HS256"})); err != nil {
		t.Fatalf("token not signed with the file's secret: %v", err)
	}
}
