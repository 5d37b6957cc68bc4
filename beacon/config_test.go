package beacon_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shopevents/participation/beacon"
)

func TestConfigDefaults(t *testing.T) {
	var c beacon.Config
	c.SetDefaults()
	if c.Randomness != beacon.SourceLocal || c.Drand() || c.Margin != 5*time.Second || c.Wait != 15*time.Second {
		t.Fatalf("defaults = %+v, want local randomness, margin 5s, wait 15s", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	const hash = quicknetHash
	tests := []struct {
		name string
		cfg  beacon.Config
		want string // "" when valid
	}{
		{"local_needs_nothing", beacon.Config{Randomness: "local"}, ""},
		{"drand_with_urls_and_hash", beacon.Config{Randomness: "drand", URLs: "https://api.drand.sh, https://api2.drand.sh/", ChainHash: hash}, ""},
		{"unknown_source", beacon.Config{Randomness: "dice"}, "DRAW_RANDOMNESS"},
		{"drand_without_urls", beacon.Config{Randomness: "drand", ChainHash: hash}, "DRAND_URLS"},
		{"drand_without_hash", beacon.Config{Randomness: "drand", URLs: "https://api.drand.sh"}, "DRAND_CHAIN_HASH: required"},
		{"hash_not_hex", beacon.Config{ChainHash: strings.Repeat("z", 64)}, "64 hex digits"},
		{"hash_too_short", beacon.Config{ChainHash: hash[:62]}, "64 hex digits"},
		{"url_without_scheme", beacon.Config{URLs: "api.drand.sh"}, "http or https"},
		{"url_with_credentials", beacon.Config{URLs: "https://u:p@api.drand.sh"}, "credentials"},
		{"url_with_query", beacon.Config{URLs: "https://api.drand.sh?x=1"}, "no query"},
		{"negative_margin", beacon.Config{Margin: -1}, "DRAND_MARGIN"},
		{"negative_wait", beacon.Config{Wait: -1}, "DRAW_WAIT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.SetDefaults()
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("valid config refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want one naming %q", err, tt.want)
			}
		})
	}
	// The credentials of a URL never appear in the error.
	c := beacon.Config{URLs: "https://user:secret@api.drand.sh"}
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("err = %v, want one without the URL's password", err)
	}
}

func TestConfigURLList(t *testing.T) {
	c := beacon.Config{URLs: " https://a.example/ ,, https://b.example "}
	got := c.URLList()
	if len(got) != 2 || got[0] != "https://a.example" || got[1] != "https://b.example" {
		t.Fatalf("URLList = %q", got)
	}
}

func TestNewRefusesAnIncompleteConfig(t *testing.T) {
	if _, err := beacon.New(beacon.Config{URLs: "https://api.drand.sh"}); err == nil {
		t.Fatal("a client without DRAND_CHAIN_HASH was built")
	}
}
