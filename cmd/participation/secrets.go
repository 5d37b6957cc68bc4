package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/shopevents/participation/internal/app"
)

// secret is a setting that may hold a secret: it comes from its variable or
// from the file its _FILE variable names (the Docker and Kubernetes secrets
// convention), never from a flag, which any local user reads in ps.
type secret struct {
	env  string
	flag string // the flag older versions took, now refused; "" if none
	set  func(c *app.Config, v string)
}

var secrets = []secret{
	{"DATABASE_URL", "database-url", func(c *app.Config, v string) { c.DatabaseURL = v }},
	{"JWT_SECRET", "jwt-secret", func(c *app.Config, v string) { c.JWTSecret = v }},
	{"PII_KEY", "pii-key", func(c *app.Config, v string) { c.PIIKey = v }},
	{"NOTIFY_WEBHOOK_SECRET", "", func(c *app.Config, v string) { c.NotifyWebhookSecret = v }},
}

// secretsHelp is the root command's word on secrets for --help: names only.
const secretsHelp = `Secrets come from the environment only, never from flags (a flag shows in ps):
each from its variable or from the file its _FILE variable names:
  DATABASE_URL or DATABASE_URL_FILE    PostgreSQL URL; empty: a private PostgreSQL under --data-dir
  JWT_SECRET or JWT_SECRET_FILE        HS256 secret of owner tokens, at least 32 bytes
  PII_KEY or PII_KEY_FILE              root secret of participant ids and personal data, at least 16 bytes
  NOTIFY_WEBHOOK_SECRET or NOTIFY_WEBHOOK_SECRET_FILE   signs the notifier's webhook calls`

// bindSecretFlags registers the flags older versions took for secrets,
// hidden, so that giving one is refused by name instead of "unknown flag".
func bindSecretFlags(f *pflag.FlagSet) {
	for _, s := range secrets {
		if s.flag != "" {
			f.String(s.flag, "", "refused: set "+s.env+" or "+s.env+"_FILE")
			_ = f.MarkHidden(s.flag)
		}
	}
}

// refuseSecretFlags names every secret given as a flag.
func refuseSecretFlags(f *pflag.FlagSet) error {
	var errs []error
	for _, s := range secrets {
		if fl := f.Lookup(s.flag); s.flag != "" && fl != nil && fl.Changed {
			errs = append(errs, fmt.Errorf("--%s: a secret given as a flag shows in ps to every local user; set %s or %s_FILE instead",
				s.flag, s.env, s.env))
		}
	}
	return errors.Join(errs...)
}

// applySecrets sets each secret from its variable or its _FILE variable's
// file (one trailing newline dropped); both set is an error, as is an
// unreadable or empty file.
func applySecrets(c *app.Config, lookup func(string) (string, bool)) error {
	var errs []error
	for _, s := range secrets {
		v, hasValue := lookup(s.env)
		path, hasFile := lookup(s.env + "_FILE")
		hasValue, hasFile = hasValue && v != "", hasFile && path != ""
		switch {
		case hasValue && hasFile:
			errs = append(errs, fmt.Errorf("%s and %s_FILE are both set: set one", s.env, s.env))
		case hasFile:
			raw, err := os.ReadFile(path)
			if err != nil {
				// The path is the operator's own setting; the error names no content.
				errs = append(errs, fmt.Errorf("%s_FILE: %w", s.env, err))
				continue
			}
			v = strings.TrimSuffix(strings.TrimSuffix(string(raw), "\n"), "\r")
			if v == "" {
				errs = append(errs, fmt.Errorf("%s_FILE: %s is empty", s.env, path))
				continue
			}
			s.set(c, v)
		case hasValue:
			s.set(c, v)
		}
	}
	return errors.Join(errs...)
}
