package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/internal/app"
)

// parseOwnerToken checks tok as the server does under rules.
func parseOwnerToken(t *testing.T, tok string, secret []byte, rules api.TokenRules) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithIssuer(rules.Issuer), jwt.WithAudience(rules.Audience))
	if err != nil {
		t.Fatalf("token %q: %v", tok, err)
	}
	return claims
}

func TestTokenCommandIssuesConformingTokens(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		args    []string
		rules   api.TokenRules
		ttl     time.Duration
		wantErr string
	}{
		{"defaults", nil, nil, api.TokenRules{}.WithDefaults(), 24 * time.Hour, ""},
		{"issuer_and_audience_from_the_environment", map[string]string{"JWT_ISSUER": "shop", "JWT_AUDIENCE": "owners"}, nil,
			api.TokenRules{Issuer: "shop", Audience: "owners"}.WithDefaults(), 24 * time.Hour, ""},
		{"issuer_and_audience_from_flags", map[string]string{"JWT_ISSUER": "shop"}, []string{"--jwt-issuer", "flag-shop", "--jwt-audience", "flag-owners"},
			api.TokenRules{Issuer: "flag-shop", Audience: "flag-owners"}.WithDefaults(), 24 * time.Hour, ""},
		{"the_longest_ttl", nil, []string{"--ttl", "744h"}, api.TokenRules{}.WithDefaults(), 744 * time.Hour, ""},
		{"a_ttl_above_the_default_max_is_an_error", nil, []string{"--ttl", "745h"}, api.TokenRules{}, 0, "JWT_MAX_TTL"},
		{"a_ttl_above_jwt_max_ttl_is_an_error", map[string]string{"JWT_MAX_TTL": "1h"}, []string{"--ttl", "2h"}, api.TokenRules{}, 0, "JWT_MAX_TTL"},
		{"an_unparsable_jwt_max_ttl_is_an_error", map[string]string{"JWT_MAX_TTL": "a month"}, nil, api.TokenRules{}, 0, "JWT_MAX_TTL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setSecretEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			root := newRootCommand()
			root.SetArgs(append([]string{"token", "--owner", "owner-7"}, tc.args...))
			var out strings.Builder
			root.SetOut(&out)
			root.SetErr(&out)
			err := root.Execute()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("token: %v, want an error naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			claims := parseOwnerToken(t, strings.TrimSpace(out.String()), []byte(envJWTSecret), tc.rules)
			exp, _ := claims.GetExpirationTime()
			iat, _ := claims.GetIssuedAt()
			if claims["sub"] != "owner-7" || iat == nil || exp.Sub(iat.Time) != tc.ttl {
				t.Errorf("claims = %v, want sub owner-7 and exp − iat = %s", claims, tc.ttl)
			}
		})
	}
}

// The banner's token follows the instance's rules, and a JWT_MAX_TTL
// shorter than its month shortens it, as the banner says.
func TestBannerTokenFollowsTheRules(t *testing.T) {
	secret := []byte("banner-test-secret-banner-test-secret")
	rules := api.TokenRules{Issuer: "shop", Audience: "owners", MaxTTL: 2 * time.Hour}
	var out strings.Builder
	err := printBanner(&out, app.Started{
		Addr: &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, Roles: app.AllRoles, Embedded: true, JWTSecret: secret, Tokens: rules,
	})
	if err != nil {
		t.Fatal(err)
	}
	const link = "http://localhost:8080/owner/#token="
	i := strings.Index(out.String(), link)
	if i < 0 {
		t.Fatalf("no dashboard link in the banner:\n%s", out.String())
	}
	tok, _, _ := strings.Cut(out.String()[i+len(link):], "\n")
	claims := parseOwnerToken(t, tok, secret, rules)
	exp, _ := claims.GetExpirationTime()
	iat, _ := claims.GetIssuedAt()
	if exp.Sub(iat.Time) != 2*time.Hour || !strings.Contains(out.String(), "(valid 2h0m0s)") {
		t.Errorf("exp − iat = %s, want 2h, said as such:\n%s", exp.Sub(iat.Time), out.String())
	}
}
