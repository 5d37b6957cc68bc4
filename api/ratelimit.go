package api

import (
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

// maxBuckets bounds the limiter's memory (about 100 bytes a bucket). Past
// it, a new address waits until idle buckets are evicted: a flood from many
// addresses cannot grow the map without bound.
const maxBuckets = 100_000

// ipLimiter keeps one token bucket per client. A bucket idle long enough to
// have refilled is identical to a new one, so evicting it changes nothing.
type ipLimiter struct {
	limit     rate.Limit
	burst     int
	idle      time.Duration
	now       func() time.Time
	mu        sync.Mutex
	buckets   map[netip.Addr]*bucket
	lastSweep time.Time
}

type bucket struct {
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
		now:     now,
		buckets: make(map[netip.Addr]*bucket),
	}
}

// allow takes a token from ip's bucket, or says how long until one is there.
func (l *ipLimiter) allow(ip netip.Addr) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.idle || len(l.buckets) >= maxBuckets {
		l.sweep(now)
	}
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			return false, l.idle
		}
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[ip] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now) // a refused request takes no token
		return false, delay
	}
	return true, 0
}

func (l *ipLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for ip, b := range l.buckets {
		if now.Sub(b.seen) >= l.idle {
			delete(l.buckets, ip)
		}
	}
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
