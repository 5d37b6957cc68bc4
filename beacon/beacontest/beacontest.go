// Package beacontest is a drand-compatible HTTP beacon inside a test
// process: a generated BLS key pair under one of drand's schemes, a genesis
// and a period, rounds signed with drand's own crypto and served by the
// drand HTTP API's routes (v1 and v2) only once due by an injectable clock,
// and fault switches. It is for tests only.
package beacontest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/drand/drand/v2/crypto"
)

// Schemes that drand's networks run: mainnet's default (chained), the
// first unchained testnet, and quicknet (G1 signatures, RFC 9380).
const (
	Chained   = crypto.DefaultSchemeID
	Unchained = crypto.UnchainedSchemeID
	Quicknet  = crypto.SigsOnG1ID
)

// Fault is what the beacon does wrong, switched at any time.
type Fault int

const (
	// Healthy serves correctly signed rounds.
	Healthy Fault = iota
	// Unavailable answers every request 503.
	Unavailable
	// BadSignature serves each round with a signature by another key
	// (a valid point, the randomness its hash): only the BLS check fails.
	BadSignature
	// OtherChain serves another chain (another key, so another hash) on the
	// configured hash's routes.
	OtherChain
)

// API says which of drand's HTTP APIs the beacon answers.
type API int

const (
	BothAPIs API = iota
	V1Only       // /{hash}/info, /{hash}/public/{round}, /{hash}/public/latest
	V2Only       // /v2/chains/{hash}/info, /v2/chains/{hash}/rounds/{round|latest}
)

// Options of New; zero fields take defaults.
type Options struct {
	Scheme   string        // default Quicknet
	Period   time.Duration // whole seconds, default 3 s
	Genesis  time.Time     // default: now, truncated to the second
	BeaconID string        // default "" (a network's default beacon)
	API      API
	// Now is the clock that says which rounds are due (default time.Now).
	// Tests move it to publish rounds.
	Now func() time.Time
}

// Beacon is a running test beacon.
type Beacon struct {
	opts  Options
	real  *chain
	other *chain // OtherChain's key, same genesis and period

	mu       sync.Mutex
	fault    Fault
	down     bool
	addr     string
	srv      *http.Server
	requests int
}

// New starts a beacon on 127.0.0.1 and stops it at the test's end.
func New(t testing.TB, o Options) *Beacon {
	t.Helper()
	if o.Scheme == "" {
		o.Scheme = Quicknet
	}
	if o.Period == 0 {
		o.Period = 3 * time.Second
	}
	if o.Period%time.Second != 0 {
		t.Fatalf("beacontest: period %s is not whole seconds", o.Period)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Genesis.IsZero() {
		o.Genesis = o.Now().Truncate(time.Second)
	}
	b := &Beacon{opts: o}
	var err error
	if b.real, err = newChain(o.Scheme); err != nil {
		t.Fatalf("beacontest: %v", err)
	}
	if b.other, err = newChain(o.Scheme); err != nil {
		t.Fatalf("beacontest: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("beacontest: listen: %v", err)
	}
	b.addr = ln.Addr().String()
	b.serve(ln)
	t.Cleanup(b.close)
	return b
}

// Mirror starts another relay of the same chain, with its own address and
// fault switch: for failover across DRAND_URLS.
func (b *Beacon) Mirror(t testing.TB) *Beacon {
	t.Helper()
	m := &Beacon{opts: b.opts, real: b.real, other: b.other}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("beacontest: listen: %v", err)
	}
	m.addr = ln.Addr().String()
	m.serve(ln)
	t.Cleanup(m.close)
	return m
}

// URL is the beacon's base URL, a DRAND_URLS entry.
func (b *Beacon) URL() string { return "http://" + b.addr }

// ChainHash is the beacon's chain hash, hex: DRAND_CHAIN_HASH.
func (b *Beacon) ChainHash() string { return hex.EncodeToString(b.info(b.real).hash()) }

// InfoJSON is the chain info in the v2 API's shape, for
// beacon.WithChainInfo: a client that names rounds while the beacon is down.
func (b *Beacon) InfoJSON() []byte {
	out, err := json.Marshal(b.info(b.real).v2())
	if err != nil {
		panic(fmt.Sprintf("beacontest: chain info: %v", err))
	}
	return out
}

// OtherChainHash is the hash of the chain OtherChain serves.
func (b *Beacon) OtherChainHash() string { return hex.EncodeToString(b.info(b.other).hash()) }

// Genesis is round 1's time; Period the time between rounds.
func (b *Beacon) Genesis() time.Time    { return b.opts.Genesis }
func (b *Beacon) Period() time.Duration { return b.opts.Period }
func (b *Beacon) TimeOf(r uint64) time.Time {
	return b.opts.Genesis.Add(time.Duration(r-1) * b.opts.Period)
}

// Signature is the true signature of round r and Randomness its SHA-256:
// what a verified fetch must return.
func (b *Beacon) Signature(r uint64) []byte { return b.real.sign(r) }
func (b *Beacon) Randomness(r uint64) []byte {
	s := sha256.Sum256(b.real.sign(r))
	return s[:]
}

// SetFault switches the beacon's behaviour.
func (b *Beacon) SetFault(f Fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fault = f
}

// Requests is how many requests the beacon has answered.
func (b *Beacon) Requests() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests
}

// Down closes the listener and open connections: a connection is refused
// until Up listens again on the same address.
func (b *Beacon) Down() {
	b.mu.Lock()
	srv := b.srv
	b.srv, b.down = nil, true
	b.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Up listens again on the address Down gave up.
func (b *Beacon) Up(t testing.TB) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.down {
		return
	}
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		t.Fatalf("beacontest: listen again on %s: %v", b.addr, err)
	}
	b.down = false
	b.serveLocked(ln)
}

func (b *Beacon) close() { b.Down() }

func (b *Beacon) serve(ln net.Listener) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.serveLocked(ln)
}

func (b *Beacon) serveLocked(ln net.Listener) {
	mux := http.NewServeMux()
	if b.opts.API != V2Only {
		mux.HandleFunc("GET /{hash}/info", b.handleInfo(false))
		mux.HandleFunc("GET /{hash}/public/{round}", b.handleRound(false))
	}
	if b.opts.API != V1Only {
		mux.HandleFunc("GET /v2/chains/{hash}/info", b.handleInfo(true))
		mux.HandleFunc("GET /v2/chains/{hash}/rounds/{round}", b.handleRound(true))
	}
	srv := &http.Server{Handler: b.count(mux), ReadHeaderTimeout: 5 * time.Second}
	b.srv = srv
	go func() { _ = srv.Serve(ln) }()
}

func (b *Beacon) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.requests++
		fault := b.fault
		b.mu.Unlock()
		if fault == Unavailable {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "service unavailable"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serving is the chain answered now and whether its rounds are forged.
func (b *Beacon) serving() (c *chain, forge bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.fault {
	case OtherChain:
		return b.other, false
	case BadSignature:
		return b.real, true
	}
	return b.real, false
}

// knows says whether hash names the served chain; a relay answers 404 for
// a chain it does not serve. OtherChain answers on the real chain's hash.
func (b *Beacon) knows(hash string) bool {
	return hash == b.ChainHash() || hash == b.OtherChainHash()
}

func (b *Beacon) handleInfo(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !b.knows(r.PathValue("hash")) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "chain not found"})
			return
		}
		c, _ := b.serving()
		info := b.info(c)
		if v2 {
			writeJSON(w, http.StatusOK, info.v2())
			return
		}
		writeJSON(w, http.StatusOK, info.v1())
	}
}

func (b *Beacon) handleRound(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !b.knows(r.PathValue("hash")) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "chain not found"})
			return
		}
		current := b.currentRound()
		var round uint64
		if s := r.PathValue("round"); s == "latest" {
			if current == 0 {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "latest randomness not available"})
				return
			}
			round = current
		} else {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil || n == 0 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid round"})
				return
			}
			round = n
		}
		if round > current { // relays do not serve a round before it is due
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "round not found"})
			return
		}
		c, forge := b.serving()
		sig := c.sign(round)
		if forge {
			sig = b.forged(round)
		}
		out := map[string]any{"round": round, "signature": hex.EncodeToString(sig)}
		if !v2 {
			rnd := sha256.Sum256(sig)
			out["randomness"] = hex.EncodeToString(rnd[:])
		}
		if c.scheme.Name == Chained {
			out["previous_signature"] = hex.EncodeToString(c.sign(round - 1))
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// forged is round r signed by another key over the right message.
func (b *Beacon) forged(r uint64) []byte {
	prev := b.real.sign(r - 1)
	msg := b.other.scheme.DigestBeacon(beaconMsg{round: r, prev: prev})
	sig, err := b.other.scheme.AuthScheme.Sign(b.other.priv, msg)
	if err != nil {
		panic(fmt.Sprintf("beacontest: sign: %v", err))
	}
	return sig
}

// currentRound is the latest round due by the beacon's clock; 0 before genesis.
func (b *Beacon) currentRound() uint64 {
	since := b.opts.Now().Sub(b.opts.Genesis)
	if since < 0 {
		return 0
	}
	return uint64(since/b.opts.Period) + 1
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a client that went away needs no answer
}
