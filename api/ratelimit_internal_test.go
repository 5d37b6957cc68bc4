package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestClientIP(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.10")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		peer string
		xff  []string
		want string
	}{
		{"untrusted_peer_is_the_client", "198.51.100.7:5000", nil, "198.51.100.7"},
		{"untrusted_peer_cannot_forge_a_client", "198.51.100.7:5000", []string{"1.2.3.4"}, "198.51.100.7"},
		{"trusted_peer_names_the_client", "10.1.2.3:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"nearest_untrusted_hop_wins_over_a_forged_left_part", "10.1.2.3:5000", []string{"6.6.6.6, 203.0.113.9, 10.9.9.9"}, "203.0.113.9"},
		{"hops_across_several_headers", "192.0.2.10:5000", []string{"6.6.6.6", "203.0.113.9"}, "203.0.113.9"},
		{"malformed_hop_stops_the_walk", "10.1.2.3:5000", []string{"203.0.113.9, garbage, 10.2.2.2"}, "10.2.2.2"},
		{"only_trusted_hops_leave_the_leftmost", "10.1.2.3:5000", []string{"10.4.4.4"}, "10.4.4.4"},
		{"trusted_peer_without_header_is_the_client", "10.1.2.3:5000", nil, "10.1.2.3"},
		{"ipv4_mapped_peer_is_unmapped", "[::ffff:198.51.100.7]:5000", nil, "198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, trusted); got != netip.MustParseAddr(tt.want) {
				t.Fatalf("clientIP = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestIPv6ClientsShareABucketPerSlash64(t *testing.T) {
	a, b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	if clientKey(a) != clientKey(b) {
		t.Fatalf("%v and %v in one /64 have different buckets", a, b)
	}
	if c := netip.MustParseAddr("2001:db8:1:3::1"); clientKey(a) == clientKey(c) {
		t.Fatal("another /64 shares the bucket")
	}
}

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    RateLimit
		wantErr bool
	}{
		{"", RateLimit{}, false},
		{"10", RateLimit{PerSecond: 10}, false},
		{"10/s", RateLimit{PerSecond: 10}, false},
		{"2.5/s,7", RateLimit{PerSecond: 2.5, Burst: 7}, false},
		{"off", RateLimit{Off: true}, false},
		{"0", RateLimit{}, true},
		{"-1", RateLimit{}, true},
		{"ten", RateLimit{}, true},
		{"10/s,0", RateLimit{}, true},
		{"NaN", RateLimit{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRateLimit(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseRateLimit(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("a bad prefix is accepted")
	}
}

// A bucket idle long enough to be full again is evicted: memory follows
// the clients of the last seconds, not every client ever seen.
func TestIdleBucketsAreEvicted(t *testing.T) {
	now := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	l := newIPLimiter(RateLimit{PerSecond: 10, Burst: 20}, func() time.Time { return now })
	for i := range 1000 {
		if ok, _ := l.allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})); !ok {
			t.Fatalf("client %d refused on its first request", i)
		}
	}
	if n := l.size(); n != 1000 {
		t.Fatalf("buckets = %d, want 1000", n)
	}
	now = now.Add(3 * time.Second) // 20 tokens at 10/s refill in 2s
	hot := netip.MustParseAddr("192.0.2.1")
	l.allow(hot)
	if n := l.size(); n != 1 {
		t.Fatalf("buckets after the idle ones refilled = %d, want 1", n)
	}
}

func TestRefusedRequestTakesNoTokenAndTokensRefill(t *testing.T) {
	now := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	l := newIPLimiter(RateLimit{PerSecond: 10, Burst: 20}, func() time.Time { return now })
	ip := netip.MustParseAddr("192.0.2.1")
	for i := range 20 {
		if ok, _ := l.allow(ip); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	for range 5 {
		if ok, wait := l.allow(ip); ok || wait <= 0 || wait > 100*time.Millisecond {
			t.Fatalf("past the burst: ok=%v wait=%v, want refused with a wait of at most 100ms", ok, wait)
		}
	}
	now = now.Add(100 * time.Millisecond) // one token
	if ok, _ := l.allow(ip); !ok {
		t.Fatal("the refilled token is refused: a refused request took one")
	}
}

func TestUnknownCampaignMissesExpire(t *testing.T) {
	now := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	m := newMissCache(2*time.Second, func() time.Time { return now })
	id := uuid.New()
	m.add(id)
	if !m.has(id) {
		t.Fatal("a fresh miss is not remembered")
	}
	now = now.Add(3 * time.Second)
	if m.has(id) {
		t.Fatal("a miss outlived its TTL")
	}
	for range maxMisses + 10 {
		m.add(uuid.New())
	}
	if n := len(m.until); n > maxMisses {
		t.Fatalf("miss cache holds %d entries, bound %d", n, maxMisses)
	}
}

// A full table makes room instead of refusing newcomers: clients rotating
// addresses fill it with drained buckets, and a new client is still served
// at its own rate. A refilled bucket goes before the least recently seen.
func TestFullBucketTableStillServesANewClient(t *testing.T) {
	t0 := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	now := t0
	l := newIPLimiter(RateLimit{PerSecond: 10, Burst: 20}, func() time.Time { return now })
	l.max = 4
	addr := func(i byte) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, 100, i}) }
	drain := func(ip netip.Addr) {
		t.Helper()
		for {
			if ok, _ := l.allow(ip); !ok {
				return
			}
		}
	}
	served := func(ip netip.Addr) int {
		t.Helper()
		n := 0
		for ; n <= 100; n++ {
			if ok, _ := l.allow(ip); !ok {
				break
			}
		}
		return n
	}
	has := func(ip netip.Addr) bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.buckets[ip] != nil
	}

	oldest, light := addr(1), addr(2)
	drain(oldest) // least recently seen, still short of its burst later
	now = t0.Add(1000 * time.Millisecond)
	if ok, _ := l.allow(light); !ok { // one token, back to its burst in 0.1 s
		t.Fatal("a new client is refused")
	}
	now = t0.Add(1500 * time.Millisecond)
	drain(addr(3))
	drain(addr(4))
	now = t0.Add(1600 * time.Millisecond)

	newcomer := addr(5)
	if n := served(newcomer); n != 20 {
		t.Fatalf("a new client in a full table is served %d requests, want its burst of 20", n)
	}
	if has(light) || !has(oldest) {
		t.Fatalf("evicted: refilled bucket gone=%v, oldest drained bucket gone=%v; want only the refilled one", !has(light), !has(oldest))
	}
	if n := l.size(); n != 4 {
		t.Fatalf("buckets = %d, want the bound 4", n)
	}

	// Now every bucket is drained: the least recently seen one gives way,
	// and the others keep their state (still refused).
	another := addr(6)
	if n := served(another); n != 20 {
		t.Fatalf("with every bucket drained a new client is served %d, want 20", n)
	}
	if has(oldest) {
		t.Fatal("the least recently seen bucket was not the one evicted")
	}
	if n := served(addr(3)); n >= 20 {
		t.Fatalf("a drained client kept in the table is served %d: it got a fresh bucket", n)
	}
}
