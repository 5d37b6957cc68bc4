package api

import (
	"container/list"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// RateLimit is a token bucket: each client IP's on the public routes, each
// owner's on the owner routes.
type RateLimit struct {
	PerSecond float64 // refill rate; default 10 (the owner's: 20)
	Burst     int     // bucket size; default 2 × PerSecond
	Off       bool    // no limit (tests, benchmarks behind a limiter of their own)
}

func (r *RateLimit) setDefaults() {
	if r.PerSecond <= 0 {
		r.PerSecond = 10
	}
	if r.Burst <= 0 {
		r.Burst = max(1, int(math.Ceil(2*r.PerSecond)))
	}
}

// maxBuckets bounds the limiter's memory (about 150 bytes a bucket). A full
// table makes room rather than refusing newcomers: an attacker rotating
// addresses (IPv6 /64s are cheap) must not lock everyone else out.
const maxBuckets = 100_000

// evictScan is how far from the least recently seen end a full table looks
// for a bucket that has refilled, so that making room stays O(1).
const evictScan = 64

// limiter keeps one token bucket per key (a client IP, an owner), in the
// order they were last seen. A bucket that has refilled to its burst is
// identical to a new one, so evicting it changes nothing; idle ones go
// first, on every call.
type limiter[K comparable] struct {
	limit   rate.Limit
	burst   int
	idle    time.Duration
	max     int
	now     func() time.Time
	mu      sync.Mutex
	buckets map[K]*list.Element // of *bucket[K]
	lru     list.List           // front: the most recently seen
}

type bucket[K comparable] struct {
	key  K
	lim  *rate.Limiter
	seen time.Time
}

// newLimiter is nil (no limit) when cfg is off.
func newLimiter[K comparable](cfg RateLimit, now func() time.Time) *limiter[K] {
	if cfg.Off {
		return nil
	}
	cfg.setDefaults()
	refill := time.Duration(float64(cfg.Burst) / cfg.PerSecond * float64(time.Second))
	return &limiter[K]{
		limit:   rate.Limit(cfg.PerSecond),
		burst:   cfg.Burst,
		idle:    max(refill, time.Second),
		max:     maxBuckets,
		now:     now,
		buckets: make(map[K]*list.Element),
	}
}

func newIPLimiter(cfg RateLimit, now func() time.Time) *limiter[netip.Addr] {
	return newLimiter[netip.Addr](cfg, now)
}

// allow takes a token from key's bucket, or says how long until one is there.
func (l *limiter[K]) allow(key K) (bool, time.Duration) { return l.allowN(key, 1) }

// allowN takes n tokens at once (a costly request weighs more), or none. A
// cost above the burst is capped at it, so a small bucket still admits the
// request once full instead of never.
func (l *limiter[K]) allowN(key K, n int) (bool, time.Duration) {
	n = min(max(n, 1), l.burst)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropIdle(now)
	e := l.buckets[key]
	if e == nil {
		if len(l.buckets) >= l.max {
			l.evictOne(now)
		}
		e = l.lru.PushFront(&bucket[K]{key: key, lim: rate.NewLimiter(l.limit, l.burst)})
		l.buckets[key] = e
	} else {
		l.lru.MoveToFront(e)
	}
	b := e.Value.(*bucket[K])
	b.seen = now
	r := b.lim.ReserveN(now, n)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now) // a refused request takes no token
		return false, delay
	}
	return true, 0
}

// dropIdle evicts the buckets unseen for long enough to have refilled; they
// sit at the back, so this stops at the first one still in use.
func (l *limiter[K]) dropIdle(now time.Time) {
	for e := l.lru.Back(); e != nil; {
		if now.Sub(e.Value.(*bucket[K]).seen) < l.idle {
			return
		}
		prev := e.Prev()
		l.remove(e)
		e = prev
	}
}

// evictOne makes room in a full table: a bucket near the back that has
// refilled to its burst (dropping it changes nothing), else the least
// recently seen one (whose client at worst gets a fresh bucket).
func (l *limiter[K]) evictOne(now time.Time) {
	e := l.lru.Back()
	for i := 0; e != nil && i < evictScan; i, e = i+1, e.Prev() {
		if e.Value.(*bucket[K]).lim.TokensAt(now) >= float64(l.burst) {
			l.remove(e)
			return
		}
	}
	if back := l.lru.Back(); back != nil {
		l.remove(back)
	}
}

func (l *limiter[K]) remove(e *list.Element) {
	delete(l.buckets, e.Value.(*bucket[K]).key)
	l.lru.Remove(e)
}

func (l *limiter[K]) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// limitPerIP is the public routes' rate limit: past the bucket, 429 with
// Retry-After. Attach it to any route a stranger may call.
func (s *server) limitPerIP(c *gin.Context) {
	if s.limiter == nil {
		c.Next()
		return
	}
	ok, wait := s.limiter.allow(clientKey(clientIP(c.Request, s.cfg.TrustedProxies)))
	if !ok {
		s.refuseRate(c, wait)
		return
	}
	c.Next()
}

// refuseRate answers 429 with the whole seconds until the bucket has the
// tokens again (at least 1).
func (s *server) refuseRate(c *gin.Context, wait time.Duration) {
	c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	s.writeError(c, errRateLimited)
}

// ownerCost is what an owner request weighs in the owner's bucket: a draw,
// a verification (it recomputes the draw from the store) and a CSV export
// (every participant) cost far more than a page of the list.
var ownerCost = map[string]int{
	"/api/v1/events/:eventId/draw-winners":     10,
	"/api/v1/draw-logs/:drawLogId/verify":      10,
	"/api/v1/events/:eventId/participants.csv": 10,
}

// limitPerOwner is the owner routes' rate limit, keyed by the token's sub:
// it runs after authenticate, so a stranger cannot drain an owner's bucket.
func (s *server) limitPerOwner(c *gin.Context) {
	if s.owners == nil {
		c.Next()
		return
	}
	cost := max(ownerCost[c.FullPath()], 1)
	if ok, wait := s.owners.allowN(ownerOf(c), cost); !ok {
		s.refuseRate(c, wait)
		return
	}
	c.Next()
}

// clientKey is the bucket of an address: an IPv6 client usually holds a
// whole /64, so it gets one bucket, not 2^64.
func clientKey(ip netip.Addr) netip.Addr {
	if ip.Is6() && !ip.Is4In6() {
		p, err := ip.Prefix(64)
		if err == nil {
			return p.Addr()
		}
	}
	return ip
}

// clientIP is the peer's address, or, when the peer is a trusted proxy, the
// nearest address in X-Forwarded-For that is not a trusted proxy: entries
// left of it are whatever the client chose to send.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := remoteAddr(r.RemoteAddr)
	if !isTrusted(peer, trusted) {
		return peer
	}
	client := peer
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			ip, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return client // a malformed hop: trust nothing left of it
			}
			client = ip.Unmap()
			if !isTrusted(client, trusted) {
				return client
			}
		}
	}
	return client
}

func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies reads TRUSTED_PROXIES: comma-separated addresses or
// CIDR prefixes.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.Contains(part, "/") {
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return nil, err
			}
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(part)
		if err != nil {
			return nil, err
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// ParseRateLimit reads RATE_LIMIT_PER_IP or RATE_LIMIT_PER_OWNER: "10" or "10/s" (per second, the
// burst twice that), "10/s,50" (an explicit burst), or "off".
func ParseRateLimit(s string) (RateLimit, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return RateLimit{}, nil
	}
	if strings.EqualFold(s, "off") {
		return RateLimit{Off: true}, nil
	}
	ratePart, burstPart, hasBurst := strings.Cut(s, ",")
	perSecond, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(ratePart), "/s"), 64)
	if err != nil || perSecond <= 0 || math.IsInf(perSecond, 0) || math.IsNaN(perSecond) {
		return RateLimit{}, errBadRateLimit(s)
	}
	out := RateLimit{PerSecond: perSecond}
	if hasBurst {
		burst, err := strconv.Atoi(strings.TrimSpace(burstPart))
		if err != nil || burst < 1 {
			return RateLimit{}, errBadRateLimit(s)
		}
		out.Burst = burst
	}
	return out, nil
}

type errBadRateLimit string

func (e errBadRateLimit) Error() string {
	return "rate limit " + strconv.Quote(string(e)) + `: want requests per second such as "10/s", optionally ",BURST", or "off"`
}
