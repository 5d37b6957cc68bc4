package app

import (
	"strings"
	"testing"
)

func TestParseRoles(t *testing.T) {
	cases := []struct {
		name, in string
		want     Roles
		wantErr  string
	}{
		{name: "all_four", in: "api,relay,projectors,notifier", want: AllRoles},
		{name: "the_notifier_alone", in: "notifier", want: Roles{Notifier: true}},
		{name: "one", in: "api", want: Roles{API: true}},
		{name: "spaces_case_and_order_do_not_matter", in: " Projectors , RELAY", want: Roles{Relay: true, Projectors: true}},
		{name: "repeated_is_once", in: "relay,relay", want: Roles{Relay: true}},
		{name: "unknown_name_is_an_error", in: "api,worker", wantErr: `unknown role "worker"`},
		{name: "empty_is_an_error", in: "", wantErr: "at least one"},
		{name: "only_commas_is_an_error", in: ",,", wantErr: "at least one"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRoles(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseRoles(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseRoles(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if again, err := ParseRoles(got.String()); err != nil || again != got {
				t.Errorf("ParseRoles(String()) = %+v, %v; want %+v", again, err, got)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	secrets := func(c Config) Config {
		c.JWTSecret, c.PIIKey = strings.Repeat("j", 32), strings.Repeat("p", 16)
		c.PublicBaseURL = "https://events.example.com"
		return c
	}
	cases := []struct {
		name    string
		cfg     Config
		wantErr []string
	}{
		{name: "defaults_in_embedded_mode_are_valid", cfg: Config{}},
		{name: "a_database_with_secrets_is_valid", cfg: secrets(Config{DatabaseURL: "postgres://db"})},
		{name: "a_database_without_secrets_is_refused", cfg: Config{DatabaseURL: "postgres://db"}, wantErr: []string{"JWT_SECRET", "PII_KEY", "PUBLIC_BASE_URL: required"}},
		{name: "projectors_alone_need_no_pii_key", cfg: func() Config {
			c := secrets(Config{DatabaseURL: "postgres://db", Roles: Roles{Projectors: true}})
			c.PIIKey = ""
			return c
		}()},
		{name: "projectors_with_the_relay_need_the_pii_key", cfg: func() Config {
			c := secrets(Config{DatabaseURL: "postgres://db", Roles: Roles{Relay: true, Projectors: true}})
			c.PIIKey = ""
			return c
		}(), wantErr: []string{"PII_KEY"}},
		{name: "projectors_alone_with_a_short_pii_key_are_refused", cfg: func() Config {
			c := secrets(Config{DatabaseURL: "postgres://db", Roles: Roles{Projectors: true}})
			c.PIIKey = "short"
			return c
		}(), wantErr: []string{"PII_KEY"}},
		{name: "a_bad_public_base_url_is_refused", cfg: Config{PublicBaseURL: "https://example.com/?utm=1"}, wantErr: []string{"PUBLIC_BASE_URL", "no query"}},
		{name: "a_relative_public_base_url_is_refused", cfg: Config{DatabaseURL: "postgres://db", JWTSecret: strings.Repeat("j", 32), PIIKey: strings.Repeat("p", 16), PublicBaseURL: "example.com"}, wantErr: []string{"PUBLIC_BASE_URL", "absolute"}},
		{name: "a_bad_log_level_is_refused", cfg: Config{LogLevel: "loud"}, wantErr: []string{"LOG_LEVEL"}},
		{name: "negative_partitions_are_refused", cfg: Config{KafkaPartitions: -1}, wantErr: []string{"KAFKA_PARTITIONS"}},
		{name: "a_short_webhook_secret_is_refused", cfg: Config{NotifyWebhookSecret: "short"}, wantErr: []string{"NOTIFY_WEBHOOK_SECRET"}},
		{name: "a_webhook_secret_is_valid", cfg: Config{NotifyWebhookSecret: strings.Repeat("w", 32)}},
		{name: "a_webhook_url_with_its_secret_is_valid", cfg: Config{NotifyWebhookURL: "https://sms.example.com/hook", NotifyWebhookSecret: strings.Repeat("w", 32)}},
		{name: "a_webhook_url_without_a_secret_is_refused", cfg: Config{NotifyWebhookURL: "https://sms.example.com/hook"}, wantErr: []string{"NOTIFY_WEBHOOK_SECRET: required with NOTIFY_WEBHOOK_URL"}},
		{name: "a_webhook_url_not_http_is_refused", cfg: Config{NotifyWebhookURL: "ftp://sms.example.com/hook", NotifyWebhookSecret: strings.Repeat("w", 32)}, wantErr: []string{"NOTIFY_WEBHOOK_URL", "http(s)"}},
		{name: "a_relative_webhook_url_is_refused", cfg: Config{NotifyWebhookURL: "/hook", NotifyWebhookSecret: strings.Repeat("w", 32)}, wantErr: []string{"NOTIFY_WEBHOOK_URL"}},
		{name: "too_many_partitions_are_refused", cfg: Config{KafkaPartitions: 20_000}, wantErr: []string{"KAFKA_PARTITIONS"}},
		{name: "a_bad_per_ip_limit_is_refused_by_name", cfg: Config{RateLimitPerIP: "fast"}, wantErr: []string{"RATE_LIMIT_PER_IP"}},
		{name: "a_bad_per_owner_limit_is_refused_by_name", cfg: Config{RateLimitPerOwner: "fast"}, wantErr: []string{"RATE_LIMIT_PER_OWNER"}},
		{name: "per_owner_limit_off_is_valid", cfg: Config{RateLimitPerOwner: "off"}},
		{name: "an_unparsable_jwt_max_ttl_is_refused", cfg: Config{JWTMaxTTL: -1}, wantErr: []string{"JWT_MAX_TTL"}},
		{name: "phone_verification_otp_is_valid", cfg: Config{PhoneVerification: "otp"}},
		{name: "phone_verification_off_is_valid", cfg: Config{PhoneVerification: "off"}},
		{name: "an_unknown_phone_verification_is_refused_by_name", cfg: Config{PhoneVerification: "sms"}, wantErr: []string{"PHONE_VERIFICATION", "off or otp"}},
		{name: "a_padded_jwt_issuer_is_refused", cfg: Config{JWTIssuer: "participation "}, wantErr: []string{"JWT_ISSUER"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.SetDefaults()
			err := tc.cfg.Validate()
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %v, want it to name %s", err, want)
				}
			}
		})
	}
	noRoles := Config{}
	noRoles.SetDefaults()
	noRoles.Roles = Roles{}
	if err := noRoles.Validate(); err == nil || !strings.Contains(err.Error(), "ROLES") {
		t.Errorf("Validate() with no roles = %v, want an error naming ROLES", err)
	}
}

// The base URL of share links: PUBLIC_BASE_URL normalised, or in the
// embedded mode http://localhost with HTTP_ADDR's port.
func TestConfigBaseURL(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"embedded default port", Config{}, "http://localhost:8080"},
		{"embedded HTTP_ADDR's port", Config{HTTPAddr: "0.0.0.0:9000"}, "http://localhost:9000"},
		{"embedded, set", Config{PublicBaseURL: "http://192.168.0.7:8080/"}, "http://192.168.0.7:8080"},
		{"with a database", Config{DatabaseURL: "postgres://db", PublicBaseURL: "https://events.example.com/"}, "https://events.example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.SetDefaults()
			got, err := tc.cfg.BaseURL()
			if err != nil || got != tc.want {
				t.Fatalf("BaseURL() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
