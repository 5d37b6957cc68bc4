// Package beacon fetches a drand round and verifies it: the chain info
// against DRAND_CHAIN_HASH, the round's BLS signature against the chain's
// public key under the chain's scheme (drand's own crypto package), and the
// randomness as SHA-256 of the signature. It is a pure client: no SQL, no
// store. The draw commands name a round at the commit and complete the
// draw with it once it is published.
package beacon

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Randomness sources of a draw (DRAW_RANDOMNESS).
const (
	SourceLocal = "local"
	SourceDrand = "drand"
)

// Defaults of Config.
const (
	DefaultMargin         = 5 * time.Second
	DefaultWait           = 15 * time.Second
	DefaultRequestTimeout = 5 * time.Second
)

// Config is what the draw's randomness is built from; zero fields take the
// defaults of SetDefaults.
type Config struct {
	// Randomness is DRAW_RANDOMNESS: "local" (the default) or "drand".
	Randomness string
	// URLs is DRAND_URLS: comma-separated base URLs of drand HTTP relays
	// (e.g. https://api.drand.sh), tried in order.
	URLs string
	// ChainHash is DRAND_CHAIN_HASH: the chain's hash, 64 hex digits; the
	// only thing trusted, everything else is checked against it.
	ChainHash string
	// Margin is DRAND_MARGIN: a commit names the first round due at least
	// this long after it, so nobody knows the round's value at the commit.
	Margin time.Duration
	// Wait is DRAW_WAIT: how long a draw request waits for its round
	// before it answers 202 PENDING.
	Wait time.Duration
	// RequestTimeout bounds one HTTP request to one relay, so that a
	// stalled relay cannot hold the failover to the next one.
	RequestTimeout time.Duration
}

// SetDefaults fills the zero fields. A zero Margin or Wait is a default,
// not "none": drand's periods are seconds, and an answer at once is 202.
func (c *Config) SetDefaults() {
	if c.Randomness == "" {
		c.Randomness = SourceLocal
	}
	if c.Margin == 0 {
		c.Margin = DefaultMargin
	}
	if c.Wait == 0 {
		c.Wait = DefaultWait
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
}

// Drand says whether draws take their randomness from drand.
func (c Config) Drand() bool { return c.Randomness == SourceDrand }

// URLList is DRAND_URLS split, blanks and trailing slashes dropped.
func (c Config) URLList() []string {
	var out []string
	for u := range strings.SplitSeq(c.URLs, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// ChainHashBytes is DRAND_CHAIN_HASH decoded; nil when it is not 32 bytes
// of hex (Validate says so by name).
func (c Config) ChainHashBytes() []byte {
	b, err := hex.DecodeString(strings.TrimSpace(c.ChainHash))
	if err != nil || len(b) != 32 {
		return nil
	}
	return b
}

// Validate reports every problem at once. The drand settings are checked
// whenever they are set, so a typo shows before the day drand is switched on.
func (c Config) Validate() error {
	var errs []error
	switch c.Randomness {
	case "", SourceLocal, SourceDrand: // "": the default, local
	default:
		errs = append(errs, fmt.Errorf("DRAW_RANDOMNESS %q: want %s or %s", c.Randomness, SourceLocal, SourceDrand))
	}
	for _, u := range c.URLList() {
		if err := checkURL(u); err != nil {
			errs = append(errs, fmt.Errorf("DRAND_URLS: %w", err))
		}
	}
	if c.ChainHash != "" && c.ChainHashBytes() == nil {
		errs = append(errs, errors.New("DRAND_CHAIN_HASH: want 64 hex digits (32 bytes)"))
	}
	if c.Drand() {
		if len(c.URLList()) == 0 {
			errs = append(errs, errors.New("DRAND_URLS: at least one URL is required when DRAW_RANDOMNESS=drand"))
		}
		if c.ChainHash == "" {
			errs = append(errs, errors.New("DRAND_CHAIN_HASH: required when DRAW_RANDOMNESS=drand"))
		}
	}
	if c.Margin < 0 {
		errs = append(errs, errors.New("DRAND_MARGIN: must be a duration of 0s or more"))
	}
	if c.Wait < 0 {
		errs = append(errs, errors.New("DRAW_WAIT: must be a duration of 0s or more"))
	}
	if c.RequestTimeout < 0 {
		errs = append(errs, errors.New("drand request timeout: must not be negative"))
	}
	return errors.Join(errs...)
}

// checkURL accepts an absolute http(s) URL without credentials, query or
// fragment: the chain's routes are appended to it.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: want an http or https URL", raw)
	case u.Host == "":
		return fmt.Errorf("%q: no host", raw)
	case u.User != nil:
		return errors.New("a URL carries credentials: not supported")
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q: no query or fragment, the routes are appended", raw)
	}
	return nil
}
