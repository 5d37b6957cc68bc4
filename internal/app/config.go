// Package app wires the participation service by role: the API (HTTP,
// commands, queries), the relay (store → Kafka) and the projectors (Kafka →
// read models). What an instance runs is data (Roles), not forks in main;
// cmd/participation is only its command line.
package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/notify"
)

// DefaultTopic is the topic of the domain events (DESIGN "Publishing").
const DefaultTopic = "participant-events"

// DefaultPartitions is the topic's partition count unless KAFKA_PARTITIONS says otherwise.
const DefaultPartitions = 12

// DemoOwner is the owner of the token the banner prints in the embedded mode.
const DemoOwner = "owner-demo"

// Config is what an instance is built from. The CLI fills it from the
// environment and flags; zero fields take the defaults of SetDefaults.
type Config struct {
	DatabaseURL  string // empty: a private PostgreSQL under DataDir (the embedded mode)
	KafkaBrokers string // comma-separated; empty: an in-process broker
	KafkaTopic   string
	// KafkaPartitions is the partition count of the topic when the relay (or
	// the embedded broker) creates it (default 12); an existing topic keeps its own.
	KafkaPartitions int32
	HTTPAddr        string
	JWTSecret       string
	PIIKey          string
	// NotifyWebhookURL is NOTIFY_WEBHOOK_URL: the notifier POSTs its
	// messages there (notify.Webhook); empty: the log adapter, which sends
	// nothing and shows the messages on the owner's page.
	NotifyWebhookURL string
	// NotifyWebhookSecret signs the notifier's webhook calls
	// (NOTIFY_WEBHOOK_SECRET); required with NotifyWebhookURL.
	NotifyWebhookSecret string
	LogLevel            string
	DataDir             string // embedded mode: PostgreSQL, Kafka and secrets live here
	Roles               Roles
	// Retention of personal data after a campaign's announceAt (the CLI
	// defaults them to 168h and 2160h; 0s erases once announceAt passed).
	RetentionNonWinners time.Duration
	RetentionWinners    time.Duration

	// MetricsAddr serves /metrics (and pprof when Pprof): default
	// 127.0.0.1:9090, never the API's port; "off" serves none.
	MetricsAddr string
	// Pprof serves net/http/pprof on MetricsAddr (serve --pprof only).
	Pprof bool
	// RateLimitPerIP is RATE_LIMIT_PER_IP: "10/s" (the default, burst
	// twice the rate), "10/s,50" (an explicit burst) or "off".
	RateLimitPerIP string
	// TrustedProxies is TRUSTED_PROXIES: comma-separated addresses or CIDR
	// prefixes whose X-Forwarded-For names the client.
	TrustedProxies string
	// PublicBaseURL is PUBLIC_BASE_URL, where customers reach the pages:
	// share links and QR codes are built from it, never from a request's
	// Host. Required outside the embedded mode, which defaults it to
	// http://localhost:<HTTP_ADDR's port>.
	PublicBaseURL string
	// RateLimitPerOwner is RATE_LIMIT_PER_OWNER, in RATE_LIMIT_PER_IP's
	// format: the owner routes' bucket per token sub (default "20/s").
	RateLimitPerOwner string

	// JWTIssuer, JWTAudience and JWTMaxTTL are JWT_ISSUER, JWT_AUDIENCE and
	// JWT_MAX_TTL: the iss and aud owner tokens must carry and their longest
	// exp − iat (zero: participation, participation-owner, 744h).
	JWTIssuer   string
	JWTAudience string
	JWTMaxTTL   time.Duration

	// PhoneVerification is PHONE_VERIFICATION: "off" (the default) or
	// "otp", a code sent to the phone before registration, erase and claim.
	PhoneVerification string

	// Draw is the draw's randomness: DRAW_RANDOMNESS, DRAND_URLS,
	// DRAND_CHAIN_HASH, DRAND_MARGIN, DRAW_WAIT (package beacon).
	Draw beacon.Config

	// OnStart, when set, is called once the instance listens, with what an
	// operator needs to reach it (the CLI prints its banner from it).
	OnStart func(Started) error
}

// SetDefaults fills the zero fields.
func (c *Config) SetDefaults() {
	if c.KafkaTopic == "" {
		c.KafkaTopic = DefaultTopic
	}
	if c.KafkaPartitions == 0 {
		c.KafkaPartitions = DefaultPartitions
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = ":8080"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.DataDir == "" {
		c.DataDir = ".data"
	}
	if c.Roles == (Roles{}) {
		c.Roles = AllRoles
	}
	if c.MetricsAddr == "" {
		c.MetricsAddr = DefaultMetricsAddr
	}
	if c.PhoneVerification == "" {
		c.PhoneVerification = PhoneVerificationOff
	}
	c.Draw.SetDefaults()
}

// MetricsOff reports whether no metrics listener is wanted.
func (c Config) MetricsOff() bool { return strings.EqualFold(c.MetricsAddr, "off") }

// Embedded reports whether the instance runs its own PostgreSQL (and then
// generates its development secrets).
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// BaseURL is PublicBaseURL normalised, or the embedded mode's default.
func (c Config) BaseURL() (string, error) {
	if c.PublicBaseURL == "" && c.Embedded() {
		_, port, err := net.SplitHostPort(c.HTTPAddr)
		if err != nil || port == "" {
			port = "8080"
		}
		return "http://localhost:" + port, nil
	}
	if c.PublicBaseURL == "" {
		return "", errors.New("PUBLIC_BASE_URL: required when DATABASE_URL is set: the address customers open " +
			"(such as https://events.example.com), which share links and QR codes carry")
	}
	return api.ParsePublicBaseURL(c.PublicBaseURL)
}

// Brokers splits KafkaBrokers.
func (c Config) Brokers() []string {
	var out []string
	for b := range strings.SplitSeq(c.KafkaBrokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Validate reports every problem at once. Outside the embedded mode a
// missing secret is an error, never a default.
func (c Config) Validate() error {
	var errs []error
	if c.KafkaTopic == "" {
		errs = append(errs, errors.New("KAFKA_TOPIC is empty"))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.RetentionNonWinners < 0 || c.RetentionWinners < 0 {
		errs = append(errs, errors.New("RETENTION_NON_WINNERS, RETENTION_WINNERS: must not be negative"))
	}
	if c.KafkaPartitions < 0 || c.KafkaPartitions > 10_000 {
		errs = append(errs, fmt.Errorf("KAFKA_PARTITIONS %d: want 1 to 10000 (0: the default)", c.KafkaPartitions))
	}
	if c.Roles == (Roles{}) {
		errs = append(errs, errors.New("ROLES: name at least one of "+strings.Join(roleNames, ", ")))
	}
	if _, err := api.ParseRateLimit(c.RateLimitPerIP); err != nil {
		errs = append(errs, fmt.Errorf("RATE_LIMIT_PER_IP: %w", err))
	}
	if _, err := api.ParseRateLimit(c.RateLimitPerOwner); err != nil {
		errs = append(errs, fmt.Errorf("RATE_LIMIT_PER_OWNER: %w", err))
	}
	if err := c.TokenRules().Validate(); err != nil {
		errs = append(errs, err)
	}
	if _, err := api.ParseTrustedProxies(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %w", err))
	}
	if err := c.Draw.Validate(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.BaseURL(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.OTP(); err != nil {
		errs = append(errs, err)
	}
	if c.Pprof && c.MetricsOff() {
		errs = append(errs, errors.New("pprof is served on METRICS_ADDR, which is off"))
	}
	if c.NotifyWebhookSecret != "" && len(c.NotifyWebhookSecret) < 32 {
		errs = append(errs, errors.New("NOTIFY_WEBHOOK_SECRET: at least 32 bytes when set"))
	}
	if c.NotifyWebhookURL != "" {
		if err := notify.CheckWebhookURL(c.NotifyWebhookURL); err != nil {
			errs = append(errs, fmt.Errorf("NOTIFY_WEBHOOK_URL: %w", err))
		}
		if c.NotifyWebhookSecret == "" {
			errs = append(errs, errors.New("NOTIFY_WEBHOOK_SECRET: required with NOTIFY_WEBHOOK_URL (the calls are signed)"))
		}
	}
	if !c.Embedded() {
		if len(c.JWTSecret) < 32 {
			errs = append(errs, errors.New("JWT_SECRET: at least 32 bytes are required when DATABASE_URL is set"))
		}
		// The projectors fold what the relay published, masked: an
		// instance that runs them alone opens nothing and needs no key.
		if len(c.PIIKey) < 16 && !(c.PIIKey == "" && c.Roles.projectorsOnly()) {
			errs = append(errs, errors.New("PII_KEY: at least 16 bytes are required when DATABASE_URL is set (only --roles projectors runs without it)"))
		}
	}
	return errors.Join(errs...)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// PHONE_VERIFICATION's values.
const (
	PhoneVerificationOff = "off"
	PhoneVerificationOTP = "otp"
)

// OTP reports whether PHONE_VERIFICATION asks for codes ("otp"); empty is off.
func (c Config) OTP() (bool, error) {
	switch strings.ToLower(strings.TrimSpace(c.PhoneVerification)) {
	case "", PhoneVerificationOff:
		return false, nil
	case PhoneVerificationOTP:
		return true, nil
	}
	return false, fmt.Errorf("PHONE_VERIFICATION %q: want off or otp", c.PhoneVerification)
}

// TokenRules are the claims owner tokens must carry, defaults filled.
func (c Config) TokenRules() api.TokenRules {
	return api.TokenRules{Issuer: c.JWTIssuer, Audience: c.JWTAudience, MaxTTL: c.JWTMaxTTL}.WithDefaults()
}

// Logger is the instance's structured logger on stderr.
func (c Config) Logger() *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// Roles says what an instance runs (DESIGN "Roles and scale-out").
type Roles struct{ API, Relay, Projectors, Notifier bool }

// projectorsOnly: the one role that opens no personal data.
func (r Roles) projectorsOnly() bool { return r == Roles{Projectors: true} }

// AllRoles is the default: one instance runs everything.
var AllRoles = Roles{API: true, Relay: true, Projectors: true, Notifier: true}

var roleNames = []string{"api", "relay", "projectors", "notifier"}

// ParseRoles reads a comma-separated list such as "api,relay"; an unknown
// or missing name is an error.
func ParseRoles(s string) (Roles, error) {
	var r Roles
	for name := range strings.SplitSeq(s, ",") {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "api":
			r.API = true
		case "relay":
			r.Relay = true
		case "projectors":
			r.Projectors = true
		case "notifier":
			r.Notifier = true
		case "":
		default:
			return Roles{}, fmt.Errorf("ROLES: unknown role %q (known: %s)", strings.TrimSpace(name), strings.Join(roleNames, ", "))
		}
	}
	if r == (Roles{}) {
		return Roles{}, fmt.Errorf("ROLES %q: name at least one of %s", s, strings.Join(roleNames, ", "))
	}
	return r, nil
}

// String is the comma-separated list ParseRoles reads.
func (r Roles) String() string {
	var out []string
	for i, on := range []bool{r.API, r.Relay, r.Projectors, r.Notifier} {
		if on {
			out = append(out, roleNames[i])
		}
	}
	return strings.Join(out, ",")
}
