package beacon

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// The three kinds of failure. An error from Fetch or Info wraps one or
// more of them (one per relay tried), so errors.Is answers for each;
// check ErrRefused first: some relay served a forged or foreign answer.
var (
	// ErrNotYet: the round is not due by the clock, or no relay has it yet.
	// Ask again later.
	ErrNotYet = errors.New("drand round not yet published")
	// ErrUnavailable: no relay answered usefully (connection refused,
	// timeout, 5xx, a relay without the chain). Ask again later.
	ErrUnavailable = errors.New("drand beacon unreachable")
	// ErrRefused: an answer failed verification. A draw never falls back
	// to local randomness on it; it stays pending.
	ErrRefused = errors.New("drand answer refused")
	// ErrWrongChain: the chain info does not hash to DRAND_CHAIN_HASH.
	ErrWrongChain = fmt.Errorf("%w: chain info does not match DRAND_CHAIN_HASH", ErrRefused)
	// ErrBadSignature: a round's signature, number or randomness is wrong.
	ErrBadSignature = fmt.Errorf("%w: invalid round", ErrRefused)
)

// Retryable says whether asking again later may succeed: the round was not
// yet published or the relays were unreachable, and none refused.
func Retryable(err error) bool {
	return err != nil && !errors.Is(err, ErrRefused) &&
		(errors.Is(err, ErrNotYet) || errors.Is(err, ErrUnavailable))
}

// maxBody bounds a relay's answer: chain info and rounds are < 1 KiB.
const maxBody = 64 << 10

// Client reads one drand chain from relays tried in order. It is safe for
// concurrent use; the verified chain info is kept once read.
type Client struct {
	urls    []string
	hash    []byte
	margin  time.Duration
	wait    time.Duration
	timeout time.Duration
	http    *http.Client
	now     func() time.Time
	poll    time.Duration
	pinned  []byte

	mu   sync.Mutex
	info *ChainInfo
	v1   map[string]bool // relays that answered only the v1 routes
}

// Option changes a Client built by New.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: a client of its own).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithClock sets the clock that says which rounds are due (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithChainInfo pins the chain info (a relay's answer, or what
// ChainInfo.MarshalJSON wrote): New checks that it hashes to
// DRAND_CHAIN_HASH, and the client then names rounds without a relay.
// The League of Entropy's mainnet chains are pinned without it.
func WithChainInfo(data []byte) Option { return func(c *Client) { c.pinned = data } }

// WithPoll sets how often Wait asks again (default 1 s).
func WithPoll(d time.Duration) Option { return func(c *Client) { c.poll = d } }

// New builds a client for cfg's DRAND_URLS and DRAND_CHAIN_HASH. It does no
// I/O: the chain info is pinned (WithChainInfo, or a known mainnet chain)
// or read from a relay on first use.
func New(cfg Config, opts ...Option) (*Client, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.URLList()) == 0 || cfg.ChainHashBytes() == nil {
		return nil, errors.New("beacon: DRAND_URLS and DRAND_CHAIN_HASH are required")
	}
	c := &Client{
		urls:    cfg.URLList(),
		hash:    cfg.ChainHashBytes(),
		margin:  cfg.Margin,
		wait:    cfg.Wait,
		timeout: cfg.RequestTimeout,
		http:    &http.Client{},
		now:     time.Now,
		poll:    time.Second,
		v1:      map[string]bool{},
	}
	for _, o := range opts {
		o(c)
	}
	if c.pinned == nil {
		if known, ok := knownChains[c.ChainHash()]; ok {
			c.pinned = []byte(known)
		}
	}
	if c.pinned != nil {
		info, err := ParseChainInfo(c.pinned)
		if err != nil {
			return nil, fmt.Errorf("beacon: pinned chain info: %w", err)
		}
		if !bytes.Equal(info.Hash, c.hash) {
			return nil, fmt.Errorf("beacon: pinned chain info is chain %s, not DRAND_CHAIN_HASH", info.HashHex())
		}
		c.info = &info
	}
	return c, nil
}

// ChainHash is DRAND_CHAIN_HASH in hex, as a commit records it.
func (c *Client) ChainHash() string { return hex.EncodeToString(c.hash) }

// Margin is DRAND_MARGIN.
func (c *Client) Margin() time.Duration { return c.margin }

// DrawWait is DRAW_WAIT: how long a draw request gives Wait.
func (c *Client) DrawWait() time.Duration { return c.wait }

// Info is the chain's info, read from the first relay whose answer hashes
// to DRAND_CHAIN_HASH, and kept.
func (c *Client) Info(ctx context.Context) (ChainInfo, error) {
	c.mu.Lock()
	if c.info != nil {
		defer c.mu.Unlock()
		return *c.info, nil
	}
	c.mu.Unlock()
	var errs []error
	for _, base := range c.urls {
		info, err := c.infoFrom(ctx, base)
		if err == nil {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.info = &info
			return info, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", redact(base), err))
	}
	return ChainInfo{}, fmt.Errorf("drand chain info: %w", errors.Join(errs...))
}

// CommitRound is the round a commit at t names, the first due at least
// DRAND_MARGIN after t, and when it is due.
func (c *Client) CommitRound(ctx context.Context, t time.Time) (uint64, time.Time, error) {
	info, err := c.Info(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	r := info.FirstRoundFrom(t.Add(c.margin))
	return r, info.TimeOf(r), nil
}

// Fetch reads round and verifies it. Relays are tried in order; the first
// verified answer wins, so one forged or unreachable relay does not stop a
// draw while another serves the true round. A round not yet due by the
// clock is ErrNotYet without a request.
func (c *Client) Fetch(ctx context.Context, round uint64) (Round, error) {
	if round == 0 {
		return Round{}, errors.New("drand: round 0 is not a round")
	}
	info, err := c.Info(ctx)
	if err != nil {
		return Round{}, err
	}
	if due := info.TimeOf(round); c.now().Before(due) {
		return Round{}, fmt.Errorf("%w: round %d is due at %s", ErrNotYet, round, due.UTC().Format(time.RFC3339))
	}
	var errs []error
	for _, base := range c.urls {
		r, err := c.roundFrom(ctx, info, base, round)
		if err == nil {
			return r, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", redact(base), err))
	}
	return Round{}, fmt.Errorf("drand round %d: %w", round, errors.Join(errs...))
}

// Wait fetches round, asking again while it is not yet published or the
// relays are unreachable, until ctx ends (a draw request gives it
// DRAW_WAIT). A refusal ends it at once. On ctx's end the error wraps the
// last attempt's error and ctx's.
func (c *Client) Wait(ctx context.Context, round uint64) (Round, error) {
	for {
		r, err := c.Fetch(ctx, round)
		if err == nil || !Retryable(err) {
			return r, err
		}
		pause := c.poll
		if info, ierr := c.Info(ctx); ierr == nil {
			if until := info.TimeOf(round).Sub(c.now()); until > 0 && until < pause {
				pause = until // wake when it is due, not a poll later
			}
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return Round{}, errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

func (c *Client) infoFrom(ctx context.Context, base string) (ChainInfo, error) {
	hash := hex.EncodeToString(c.hash)
	body, status, err := c.get(ctx, base+"/v2/chains/"+hash+"/info")
	v1 := false
	if err == nil && status == http.StatusNotFound { // a relay of the v1 API only
		v1 = true
		body, status, err = c.get(ctx, base+"/"+hash+"/info")
	}
	if err != nil {
		return ChainInfo{}, err
	}
	if status != http.StatusOK {
		return ChainInfo{}, fmt.Errorf("%w: chain info: HTTP %d", ErrUnavailable, status)
	}
	info, err := ParseChainInfo(body)
	if err != nil {
		return ChainInfo{}, fmt.Errorf("%w: %w", ErrWrongChain, err)
	}
	if !bytes.Equal(info.Hash, c.hash) {
		return ChainInfo{}, fmt.Errorf("%w: the relay's chain is %s", ErrWrongChain, info.HashHex())
	}
	c.mu.Lock()
	c.v1[base] = v1
	c.mu.Unlock()
	return info, nil
}

func (c *Client) roundFrom(ctx context.Context, info ChainInfo, base string, round uint64) (Round, error) {
	c.mu.Lock()
	v1, known := c.v1[base]
	c.mu.Unlock()
	if !known { // this relay's info was not read yet: learn its API and check its chain
		if _, err := c.infoFrom(ctx, base); err != nil {
			return Round{}, err
		}
		c.mu.Lock()
		v1 = c.v1[base]
		c.mu.Unlock()
	}
	path := base + "/v2/chains/" + info.HashHex() + "/rounds/" + strconv.FormatUint(round, 10)
	if v1 {
		path = base + "/" + info.HashHex() + "/public/" + strconv.FormatUint(round, 10)
	}
	body, status, err := c.get(ctx, path)
	switch {
	case err != nil:
		return Round{}, err
	case status == http.StatusNotFound || status == http.StatusTooEarly:
		// Due by our clock, not yet at the relay: its network is late.
		return Round{}, fmt.Errorf("%w: HTTP %d", ErrNotYet, status)
	case status != http.StatusOK:
		return Round{}, fmt.Errorf("%w: HTTP %d", ErrUnavailable, status)
	}
	return VerifyRound(info, round, body)
}

// get is one bounded request; a transport failure is ErrUnavailable.
func (c *Client) get(ctx context.Context, u string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: reading the answer: %w", ErrUnavailable, err)
	}
	return body, resp.StatusCode, nil
}

// redact names a relay by scheme and host only, for errors and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "relay"
	}
	return u.Scheme + "://" + u.Host
}
