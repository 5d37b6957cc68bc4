package api_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

func registrationJSON(eventID uuid.UUID, phone string) string {
	return `{"eventId":"` + eventID.String() + `","name":"김민수","phone":"` + phone + `","entryPath":"KAKAO","privacyConsent":true}`
}

// from sends a registration as if from peer, with optional X-Forwarded-For.
func (h *httpHarness) registerFrom(peer, xff, body string, headers ...string) *http.Response {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/participations", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = peer
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return h.send(req)
}

func TestPublicRoutesAreRateLimitedPerClientIP(t *testing.T) {
	// The harness's clock stands still: no token refills during the test.
	h := newHTTPHarness(t, withConfig(func(c *api.Config) {
		c.RateLimit = api.RateLimit{PerSecond: 10, Burst: 20}
		c.TrustedProxies, _ = api.ParseTrustedProxies("10.0.0.1")
	}))
	body := registrationJSON(campaignA, "010-1234-5678")
	for i := range 20 {
		wantStatus(t, h.registerFrom("198.51.100.1:4000", "", body), 201)
		_ = i
	}
	tests := []struct {
		name       string
		peer, xff  string
		wantStatus int
	}{
		{"past_the_burst_is_429", "198.51.100.1:4001", "", 429},
		{"a_forged_forwarded_for_does_not_help", "198.51.100.1:4002", "203.0.113.50", 429},
		{"another_client_has_its_own_bucket", "198.51.100.2:4000", "", 201},
		{"a_client_behind_a_trusted_proxy_has_its_own_bucket", "10.0.0.1:4000", "198.51.100.3", 201},
		{"the_proxy_passes_on_the_limited_client", "10.0.0.1:4001", "198.51.100.1", 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.registerFrom(tt.peer, tt.xff, body)
			if tt.wantStatus != 429 {
				wantStatus(t, resp, tt.wantStatus)
				return
			}
			wantError(t, resp, 429, "RATE_LIMITED")
			if ra := resp.Header.Get("Retry-After"); ra != "1" {
				t.Errorf("Retry-After = %q, want 1", ra)
			}
		})
	}
	// Every public route shares the client's bucket: the erase route too.
	erase := httptest.NewRequest(http.MethodPost, "/api/v1/participations/erase",
		strings.NewReader(`{"eventId":"`+campaignA.String()+`","phone":"010-1234-5678","entryNumber":"ABCD-2345"}`))
	erase.Header.Set("Content-Type", "application/json")
	erase.RemoteAddr = "198.51.100.1:4003"
	wantError(t, h.send(erase), 429, "RATE_LIMITED")
	if n := len(h.cmds.commandsReceived()); n != 22 {
		t.Errorf("commands received = %d, want 22 (refused requests reach nothing)", n)
	}
	// Owner routes are not the public limit's business.
	for range 25 {
		wantStatus(t, h.asOwner(ownerA, http.MethodGet, "/api/v1/events/"+campaignA.String()+"/winners", nil), 200)
	}
}

func TestUnknownEventIsAnsweredFromMemoryForAWhile(t *testing.T) {
	h := newHTTPHarness(t)
	unknown := uuid.New()
	var reads atomic.Int32
	h.cmds.registerFn = func(cmd commands.RegisterParticipant) (commands.Registration, error) {
		if cmd.EventID == unknown {
			reads.Add(1)
			return commands.Registration{}, domain.ErrCampaignNotFound
		}
		return commands.Registration{ParticipantID: uuid.New(), EntryNumber: "ABCD-2345", AnnounceAt: fixedNow}, nil
	}
	for range 5 {
		wantError(t, h.do(http.MethodPost, "/api/v1/participations", jsonBody(registrationJSON(unknown, "010-1234-5678"))), 404, "EVENT_NOT_FOUND")
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("the write side was asked %d times about the unknown event, want 1", n)
	}
	// Opening it here forgets the miss at once.
	open := `{"eventId":"` + unknown.String() + `","title":"오픈","startsAt":"2025-05-01T00:00:00+09:00","endsAt":"2025-06-01T00:00:00+09:00","announceAt":"2025-06-02T00:00:00+09:00"}`
	wantStatus(t, h.asOwner(ownerA, http.MethodPost, "/api/v1/events", jsonBody(open)), 201)
	wantError(t, h.do(http.MethodPost, "/api/v1/participations", jsonBody(registrationJSON(unknown, "010-1234-5678"))), 404, "EVENT_NOT_FOUND")
	if n := reads.Load(); n != 2 {
		t.Fatalf("after the campaign opened, reads = %d, want 2", n)
	}
}

// The public campaign page and the erasure share registration's memory of
// unknown ids: hammering GET .../public with made-up ids is one read per id,
// not per request, and a miss seen by one public route spares the others.
func TestUnknownEventOnThePublicPageIsAnsweredFromMemory(t *testing.T) {
	h := newHTTPHarness(t)
	unknown := uuid.New()
	var registers atomic.Int32
	h.cmds.registerFn = func(cmd commands.RegisterParticipant) (commands.Registration, error) {
		registers.Add(1)
		return commands.Registration{}, domain.ErrCampaignNotFound
	}
	page := "/api/v1/events/" + unknown.String() + "/public"
	for range 5 {
		wantError(t, h.do(http.MethodGet, page, nil), 404, "EVENT_NOT_FOUND")
	}
	if n := h.cmds.campaignReads.Load(); n != 1 {
		t.Fatalf("the public page read the unknown campaign %d times, want 1", n)
	}
	wantError(t, h.do(http.MethodPost, "/api/v1/participations", jsonBody(registrationJSON(unknown, "010-1234-5678"))), 404, "EVENT_NOT_FOUND")
	if n := registers.Load(); n != 0 {
		t.Fatalf("a registration for an id the page found unknown reached the write side %d times, want 0", n)
	}
	erase := `{"eventId":"` + unknown.String() + `","phone":"010-1234-5678","entryNumber":"ABCD-2345"}`
	wantError(t, h.do(http.MethodPost, "/api/v1/participations/erase", jsonBody(erase)), 404, "EVENT_NOT_FOUND")
	if n := len(h.cmds.commandsReceived()); n != 0 {
		t.Fatalf("requests for an id known unknown reached %d commands, want 0", n)
	}
	open := `{"eventId":"` + unknown.String() + `","title":"오픈","startsAt":"2025-05-01T00:00:00+09:00","endsAt":"2025-06-01T00:00:00+09:00","announceAt":"2025-06-02T00:00:00+09:00"}`
	wantStatus(t, h.asOwner(ownerA, http.MethodPost, "/api/v1/events", jsonBody(open)), 201)
	h.do(http.MethodGet, page, nil) // the fake keeps no opened campaigns: only the read counts
	if n := h.cmds.campaignReads.Load(); n != 2 {
		t.Fatalf("after the campaign opened, page reads = %d, want 2", n)
	}
}

// memoryKeys is an in-memory api.Idempotency with the PostgreSQL one's
// semantics (eventstore.IdempotencyKeys is tested against PostgreSQL).
type memoryKeys struct {
	mu      sync.Mutex
	keys    map[string]*commands.IdempotencyClaim
	claims  atomic.Int32
	lookups atomic.Int32
}

func newMemoryKeys() *memoryKeys {
	return &memoryKeys{keys: make(map[string]*commands.IdempotencyClaim)}
}

func (m *memoryKeys) Fingerprint(path string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte("memory-keys-fingerprint-key"))
	mac.Write([]byte(path + "\x00"))
	mac.Write(body)
	return mac.Sum(nil)
}

func (m *memoryKeys) Claim(_ context.Context, scope, key string, fp []byte) (commands.IdempotencyClaim, error) {
	m.claims.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.keys[scope+"\x00"+key]; ok {
		return *k, nil
	}
	m.keys[scope+"\x00"+key] = &commands.IdempotencyClaim{Fingerprint: fp}
	return commands.IdempotencyClaim{Claimed: true}, nil
}

func (m *memoryKeys) Complete(_ context.Context, scope, key string, a commands.IdempotentAnswer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[scope+"\x00"+key].Answer = &a
	return nil
}

func (m *memoryKeys) Release(_ context.Context, scope, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, scope+"\x00"+key)
	return nil
}

func (m *memoryKeys) Lookup(_ context.Context, scope, key string) (commands.IdempotencyClaim, bool, error) {
	m.lookups.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.keys[scope+"\x00"+key]; ok {
		return *k, true, nil
	}
	return commands.IdempotencyClaim{}, false, nil
}

func (m *memoryKeys) Write(scope, key string, fp []byte) *commands.IdempotentWrite {
	return &commands.IdempotentWrite{Scope: scope, Key: key, Fingerprint: fp}
}

// claimInAppend does what the store does with a registration's key: claim
// it with the append (false: another request holds it), then keep the
// answer of the outcome.
func (m *memoryKeys) claimInAppend(t *testing.T, idem *commands.RegistrationIdempotency) bool {
	t.Helper()
	w := idem.Write
	claim, err := m.Claim(context.Background(), w.Scope, w.Key, w.Fingerprint)
	if err != nil {
		t.Error(err)
	}
	return claim.Claimed
}

func (m *memoryKeys) completeInAppend(t *testing.T, idem *commands.RegistrationIdempotency, reg commands.Registration) {
	t.Helper()
	body, err := idem.Answer(reg)
	if err != nil {
		t.Error(err)
	}
	w := idem.Write
	if err := m.Complete(context.Background(), w.Scope, w.Key, commands.IdempotentAnswer{Status: 201, Body: body, Subject: reg.ParticipantID}); err != nil {
		t.Error(err)
	}
	idem.Settled = true
}

func withKeys(keys *memoryKeys) harnessOption {
	return withConfig(func(c *api.Config) { c.Idempotency = keys })
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	body := registrationJSON(campaignA, "010-1234-5678")
	tests := []struct {
		name         string
		registerErr  error // the first attempt's outcome
		second       string
		secondKey    string
		wantStatus   int
		wantCode     string
		wantReplayed bool
		wantCommands int
	}{
		{"same_key_and_body_get_the_first_201", nil, body, "k-1", 201, "", true, 1},
		{"same_key_other_body_is_422", nil, registrationJSON(campaignA, "010-9999-8888"), "k-1", 422, "IDEMPOTENCY_KEY_REUSED", false, 1},
		{"a_kept_409_is_replayed", domain.ErrAlreadyParticipated, body, "k-1", 409, "ALREADY_PARTICIPATED", true, 1},
		{"a_5xx_is_not_kept_and_the_retry_runs", errors.New("database on fire"), body, "k-1", 201, "", false, 2},
		{"another_key_runs_again", nil, body, "k-2", 201, "", false, 2},
		{"a_key_with_a_space_is_400", nil, body, "bad key", 400, "INVALID_REQUEST", false, 1},
		{"a_key_of_256_characters_is_400", nil, body, strings.Repeat("k", 256), 400, "INVALID_REQUEST", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHTTPHarness(t, withKeys(newMemoryKeys()))
			var calls atomic.Int32
			h.cmds.registerFn = func(commands.RegisterParticipant) (commands.Registration, error) {
				if calls.Add(1) == 1 && tt.registerErr != nil {
					return commands.Registration{}, tt.registerErr
				}
				return commands.Registration{ParticipantID: uuid.New(), EntryNumber: "ABCD-2345", AnnounceAt: fixedNow}, nil
			}
			first := h.do(http.MethodPost, "/api/v1/participations", jsonBody(body), api.IdempotencyHeader, "k-1")
			firstBody := readAll(t, first)
			second := h.do(http.MethodPost, "/api/v1/participations", jsonBody(tt.second), api.IdempotencyHeader, tt.secondKey)
			secondBody := readAll(t, second)
			if tt.wantCode != "" {
				wantError(t, second, tt.wantStatus, tt.wantCode)
			} else {
				wantStatus(t, second, tt.wantStatus)
			}
			if replayed := second.Header.Get(api.ReplayedHeader) == "true"; replayed != tt.wantReplayed {
				t.Errorf("replayed = %v, want %v", replayed, tt.wantReplayed)
			}
			if tt.wantReplayed && (secondBody != firstBody || second.StatusCode != first.StatusCode) {
				t.Errorf("replay %d %s differs from the first answer %d %s", second.StatusCode, secondBody, first.StatusCode, firstBody)
			}
			if n := int(calls.Load()); n != tt.wantCommands {
				t.Errorf("commands run = %d, want %d", n, tt.wantCommands)
			}
		})
	}
}

// Two requests with one key at once: one write, one answer for both. The
// command claims the key with its append (claimInAppend, as the store
// does): the second finds it held and gets the first's answer.
func TestConcurrentRequestsWithOneKeyMakeOneWrite(t *testing.T) {
	keys := newMemoryKeys()
	h := newHTTPHarness(t, withKeys(keys))
	started, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	h.cmds.registerFn = func(cmd commands.RegisterParticipant) (commands.Registration, error) {
		if cmd.Idempotency == nil || !keys.claimInAppend(t, cmd.Idempotency) {
			return commands.Registration{}, commands.ErrIdempotencyKeyTaken
		}
		calls.Add(1)
		close(started)
		<-release
		reg := commands.Registration{ParticipantID: uuid.New(), EntryNumber: "ABCD-2345", AnnounceAt: fixedNow}
		keys.completeInAppend(t, cmd.Idempotency, reg)
		return reg, nil
	}
	body := registrationJSON(campaignA, "010-1234-5678")
	answers := make([]*http.Response, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		answers[0] = h.do(http.MethodPost, "/api/v1/participations", jsonBody(body), api.IdempotencyHeader, "same")
	})
	<-started
	wg.Go(func() {
		answers[1] = h.do(http.MethodPost, "/api/v1/participations", jsonBody(body), api.IdempotencyHeader, "same")
	})
	for keys.lookups.Load() < 3 { // the second has found the key taken and waits for its answer
		runtimeGosched()
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("writes = %d, want 1", n)
	}
	a, b := readAll(t, answers[0]), readAll(t, answers[1])
	if answers[0].StatusCode != 201 || answers[1].StatusCode != 201 || a != b {
		t.Fatalf("answers differ: %d %s / %d %s", answers[0].StatusCode, a, answers[1].StatusCode, b)
	}
}

func TestDrawIdempotencyKeysArePerOwnerAndPath(t *testing.T) {
	keys := newMemoryKeys()
	h := newHTTPHarness(t, withKeys(keys))
	campaignB := uuid.New()
	h.cmds.owners[campaignB] = ownerB
	draw := func(owner string, event uuid.UUID) *http.Response {
		return h.asOwner(owner, http.MethodPost, "/api/v1/events/"+event.String()+"/draw-winners",
			jsonBody(`{"winnerCount":1}`), api.IdempotencyHeader, "draw-1")
	}
	first := readAll(t, draw(ownerA, campaignA))
	if again := draw(ownerA, campaignA); readAll(t, again) != first || again.Header.Get(api.ReplayedHeader) != "true" {
		t.Errorf("the retried draw is not the first answer")
	}
	wantStatus(t, draw(ownerB, campaignB), 200) // another owner's key space
	other := uuid.New()
	h.cmds.owners[other] = ownerA
	wantError(t, draw(ownerA, other), 422, "IDEMPOTENCY_KEY_REUSED") // same key, another campaign
	if n := len(h.cmds.commandsReceived()); n != 2 {
		t.Errorf("draws run = %d, want 2", n)
	}
}

func runtimeGosched() { runtime.Gosched() }

// A handler that panics answers 500 and gives the key up: the retry runs.
func TestIdempotencyKeyIsReleasedWhenTheHandlerPanics(t *testing.T) {
	h := newHTTPHarness(t, withKeys(newMemoryKeys()))
	var calls atomic.Int32
	h.cmds.registerFn = func(commands.RegisterParticipant) (commands.Registration, error) {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return commands.Registration{ParticipantID: uuid.New(), EntryNumber: "ABCD-2345", AnnounceAt: fixedNow}, nil
	}
	body := registrationJSON(campaignA, "010-1234-5678")
	wantError(t, h.do(http.MethodPost, "/api/v1/participations", jsonBody(body), api.IdempotencyHeader, "p-1"), 500, "INTERNAL")
	wantStatus(t, h.do(http.MethodPost, "/api/v1/participations", jsonBody(body), api.IdempotencyHeader, "p-1"), 201)
	if n := calls.Load(); n != 2 {
		t.Fatalf("runs = %d, want 2", n)
	}
}
