package main

import (
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/internal/app"
)

// envFlag is a flag that an environment variable sets when the flag is not
// given. Its default in --help is the literal default, never the variable's
// value: --help must not print JWT_SECRET, PII_KEY or a database password.
type envFlag struct {
	name, env string
	set       func(v string) // takes the variable's value
}

// envFlags are the flags bound to the environment, applied by applyEnv.
type envFlags []envFlag

func (e *envFlags) string(f *pflag.FlagSet, p *string, name, env, def, usage string) {
	f.StringVar(p, name, def, usage+" ("+env+")")
	*e = append(*e, envFlag{name: name, env: env, set: func(v string) { *p = v }})
}

// duration binds a Go duration; an unparsable variable becomes -1, which
// Validate refuses by name.
func (e *envFlags) duration(f *pflag.FlagSet, p *time.Duration, name, env string, def time.Duration, usage string) {
	f.DurationVar(p, name, def, usage+" ("+env+")")
	*e = append(*e, envFlag{name: name, env: env, set: func(v string) {
		d, err := time.ParseDuration(v)
		if err != nil {
			d = -1
		}
		*p = d
	}})
}

// int32 binds an integer; an unparsable variable becomes -1, which Validate
// refuses by name.
func (e *envFlags) int32(f *pflag.FlagSet, p *int32, name, env string, def int32, usage string) {
	f.Int32Var(p, name, def, usage+" ("+env+")")
	*e = append(*e, envFlag{name: name, env: env, set: func(v string) {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			n = -1
		}
		*p = int32(n)
	}})
}

// applyEnv takes each variable that is set for a flag that was not given.
func (e envFlags) applyEnv(f *pflag.FlagSet) {
	for _, ef := range e {
		if fl := f.Lookup(ef.name); fl != nil && fl.Changed {
			continue
		}
		if v, ok := os.LookupEnv(ef.env); ok && v != "" {
			ef.set(v)
		}
	}
}

// bindFlags binds the configuration shared by every command: environment
// variables, with flags of the same meaning taking precedence.
func bindFlags(cmd *cobra.Command, c *app.Config) *envFlags {
	// Operator commands (token, seed, migrate, ...) validate the same
	// config; only serve narrows the roles (--roles).
	c.Roles = app.AllRoles
	f := cmd.PersistentFlags()
	e := &envFlags{}
	e.string(f, &c.KafkaBrokers, "kafka-brokers", "KAFKA_BROKERS", "", "comma-separated Kafka brokers; empty: an in-process broker on 127.0.0.1:9092")
	e.string(f, &c.KafkaTopic, "kafka-topic", "KAFKA_TOPIC", app.DefaultTopic, "topic of the domain events")
	e.int32(f, &c.KafkaPartitions, "kafka-partitions", "KAFKA_PARTITIONS", app.DefaultPartitions,
		"partitions of the topic when the relay creates it; an existing topic keeps its own")
	e.string(f, &c.HTTPAddr, "http-addr", "HTTP_ADDR", ":8080", "HTTP listen address")
	e.string(f, &c.MetricsAddr, "metrics-addr", "METRICS_ADDR", app.DefaultMetricsAddr, `listen address of /metrics (and pprof with serve --pprof); "off": none`)
	e.string(f, &c.LogLevel, "log-level", "LOG_LEVEL", "info", "debug, info, warn or error")
	e.string(f, &c.DataDir, "data-dir", "DATA_DIR", ".data", "embedded mode's data directory")
	e.string(f, &c.RateLimitPerIP, "rate-limit-per-ip", "RATE_LIMIT_PER_IP", "10/s", `public routes' limit per client IP: "10/s" (burst twice the rate), "10/s,50" or "off"`)
	e.string(f, &c.PublicBaseURL, "public-base-url", "PUBLIC_BASE_URL", "",
		"where customers open the pages, such as https://events.example.com: share links and QR codes carry it; "+
			"required with DATABASE_URL, embedded mode default http://localhost:<http-addr port>")
	e.string(f, &c.RateLimitPerOwner, "rate-limit-per-owner", "RATE_LIMIT_PER_OWNER", "20/s", `owner routes' limit per owner (token sub), a draw, verify or CSV counting 10: "20/s" (burst twice the rate), "20/s,100" or "off"`)
	e.string(f, &c.JWTIssuer, "jwt-issuer", "JWT_ISSUER", api.DefaultJWTIssuer, "iss that owner tokens must carry")
	e.string(f, &c.JWTAudience, "jwt-audience", "JWT_AUDIENCE", api.DefaultJWTAudience, "aud that owner tokens must carry")
	e.duration(f, &c.JWTMaxTTL, "jwt-max-ttl", "JWT_MAX_TTL", api.DefaultJWTMaxTTL, "longest lifetime (exp - iat) of an owner token")
	e.string(f, &c.TrustedProxies, "trusted-proxies", "TRUSTED_PROXIES", "", "comma-separated proxy addresses or CIDRs whose X-Forwarded-For names the client")
	e.duration(f, &c.RetentionNonWinners, "retention-non-winners", "RETENTION_NON_WINNERS", 168*time.Hour,
		"keep non-winners' personal data this long after announceAt")
	e.duration(f, &c.RetentionWinners, "retention-winners", "RETENTION_WINNERS", 2160*time.Hour,
		"keep winners' personal data this long after announceAt, for prize delivery")
	e.string(f, &c.PhoneVerification, "phone-verification", "PHONE_VERIFICATION", app.PhoneVerificationOff,
		`"otp": registration, erase and claim need a 6-digit code sent to the phone first; "off": none`)
	e.string(f, &c.Draw.Randomness, "draw-randomness", "DRAW_RANDOMNESS", beacon.SourceLocal,
		`a draw's randomness: "local" (crypto/rand, the operator is trusted) or "drand" (a public round named at the commit)`)
	e.string(f, &c.Draw.URLs, "drand-urls", "DRAND_URLS", "", "comma-separated drand HTTP relays, tried in order (drand randomness)")
	e.string(f, &c.Draw.ChainHash, "drand-chain-hash", "DRAND_CHAIN_HASH", "", "the drand chain's hash, 64 hex digits: what the relays' answers are checked against")
	e.duration(f, &c.Draw.Margin, "drand-margin", "DRAND_MARGIN", beacon.DefaultMargin, "a commit names the first drand round due at least this long after it")
	e.duration(f, &c.Draw.Wait, "draw-wait", "DRAW_WAIT", beacon.DefaultWait, "how long a drand draw request waits for its round before answering 202 PENDING")
	e.string(f, &c.NotifyWebhookURL, "notify-webhook-url", "NOTIFY_WEBHOOK_URL", "",
		"the notifier POSTs its messages to this http(s) URL, signed with NOTIFY_WEBHOOK_SECRET; empty: they are logged, phone masked, and shown on the owner's page")
	bindSecretFlags(f)
	return e
}

// envBool reads a boolean variable such as PPROF=true.
func envBool(key string) bool {
	switch os.Getenv(key) {
	case "1", "true", "TRUE", "True", "yes", "on":
		return true
	}
	return false
}
