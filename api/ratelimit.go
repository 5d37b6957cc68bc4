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

// RateLimit is the token bucket each client IP gets on the public routes.
type RateLimit struct {
	PerSecond float64 // refill rate; default 10
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

// ipLimiter keeps one token bucket per client, in the order they were last
// seen. A bucket that has refilled to its burst is identical to a new one,
// so evicting it changes nothing; idle ones go first, on every call.
type ipLimiter struct {
	limit   rate.Limit
	burst   int
	idle    time.Duration
	max     int
	now     func() time.Time
	mu      sync.Mutex
	buckets map[netip.Addr]*list.Element // of *bucket
	lru     list.List                    // front: the most recently seen
}

type bucket struct {
	ip   netip.Addr
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(cfg RateLimit, now func() time.Time) *ipLimiter {
	if cfg.Off {
		return nil
	}
	cfg.setDefaults()
	refill := time.Duration(float64(cfg.Burst) / cfg.PerSecond * float64(time.Second))
	return &ipLimiter{
		limit:   rate.Limit(cfg.PerSecond),
		burst:   cfg.Burst,
		idle:    max(refill, time.Second),
		max:     maxBuckets,
		now:     now,
		buckets: make(map[netip.Addr]*list.Element),
	}
}

// allow takes a token from ip's bucket, or says how long until one is there.
func (l *ipLimiter) allow(ip netip.Addr) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropIdle(now)
	e := l.buckets[ip]
	if e == nil {
		if len(l.buckets) >= l.max {
			l.evictOne(now)
		}
		e = l.lru.PushFront(&bucket{ip: ip, lim: rate.NewLimiter(l.limit, l.burst)})
		l.buckets[ip] = e
	} else {
		l.lru.MoveToFront(e)
	}
	b := e.Value.(*bucket)
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now) // a refused request takes no token
		return false, delay
	}
	return true, 0
}

// dropIdle evicts the buckets unseen for long enough to have refilled; they
// sit at the back, so this stops at the first one still in use.
func (l *ipLimiter) dropIdle(now time.Time) {
	for e := l.lru.Back(); e != nil; {
		if now.Sub(e.Value.(*bucket).seen) < l.idle {
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
func (l *ipLimiter) evictOne(now time.Time) {
	e := l.lru.Back()
	for i := 0; e != nil && i < evictScan; i, e = i+1, e.Prev() {
		if e.Value.(*bucket).lim.TokensAt(now) >= float64(l.burst) {
			l.remove(e)
			return
		}
	}
	if back := l.lru.Back(); back != nil {
		l.remove(back)
	}
}

func (l *ipLimiter) remove(e *list.Element) {
	delete(l.buckets, e.Value.(*bucket).ip)
	l.lru.Remove(e)
}

func (l *ipLimiter) size() int {
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
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		s.writeError(c, errRateLimited)
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

// ParseRateLimit reads RATE_LIMIT_PER_IP: "10" or "10/s" (per second, the
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
	return "RATE_LIMIT_PER_IP " + strconv.Quote(string(e)) + `: want requests per second such as "10/s", optionally ",BURST", or "off"`
}
