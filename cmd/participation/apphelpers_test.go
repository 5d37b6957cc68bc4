package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/api/apitest"
	"github.com/shopevents/participation/internal/testenv"
)

var (
	testJWTSecret = []byte("e2e-jwt-secret-e2e-jwt-secret-0123456789")
	testPIIKey    = []byte("e2e-pii-key-e2e-pii-key-0123456789")
	otherSecret   = []byte("not-the-server-secret-not-the-server-secret")
)

const (
	ownerA = "owner-a"
	ownerB = "owner-b"

	thanks              = "참여해주셔서 감사합니다"
	alreadyParticipated = "이미 참여하신 이벤트입니다"
)

// entryNumberShape is the contract's entry number: at most 16 URL-safe characters.
var entryNumberShape = regexp.MustCompile(`^[A-Za-z0-9_-]{1,16}$`)

// testApp is the whole service, as serve wires it, on a migrated database
// behind a real listener. Every answer is checked against openapi.yaml. The
// relay and projectors run only once a test calls app.run (the read-side
// tests do): Kafka plays no part in the command side.
type testApp struct {
	t      *testing.T
	url    string
	client *http.Client
	pool   *pgxpool.Pool
	spec   *apitest.Spec
	logs   *syncBuffer

	app     *app     // the wired service: app.run starts its relay and projectors
	dbURL   string   // its database, for another instance on the same one
	brokers []string // its Kafka
	topic   string   // its topic, unique to the test
}

func newTestApp(t *testing.T) *testApp {
	t.Helper()
	return newTestAppWith(t, appSetup{})
}

// appSetup says where a test app lives; zero fields get a fresh database,
// the test's brokers and a topic of its own.
type appSetup struct {
	DatabaseURL string
	Brokers     []string
	Topic       string
}

func newTestAppWith(t *testing.T, setup appSetup) *testApp {
	t.Helper()
	ctx := t.Context()
	if setup.DatabaseURL == "" {
		setup.DatabaseURL = testenv.Database(t)
	}
	if setup.Brokers == nil {
		setup.Brokers = testenv.KafkaBrokers(t)
	}
	if setup.Topic == "" {
		setup.Topic = testenv.Topic(t)
	}
	poolCfg, err := pgxpool.ParseConfig(setup.DatabaseURL)
	if err != nil {
		t.Fatalf("parse database URL: %v", err)
	}
	poolCfg.MaxConns = 60
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(pool.Close)
	if err := migrateAll(ctx, pool); err != nil {
		t.Fatalf("migrate: %v", err)
	}

	logs := &syncBuffer{}
	app, err := newApp(appConfig{
		Pool:      pool,
		Brokers:   setup.Brokers, // dialled only once app.run is called
		Topic:     setup.Topic,
		JWTSecret: testJWTSecret,
		PIIKey:    testPIIKey,
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	t.Cleanup(app.close) // after the server below has stopped
	server := httptest.NewServer(app.handler)
	t.Cleanup(server.Close)
	transport := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	t.Cleanup(transport.CloseIdleConnections)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service warnings and errors:\n%s", logs.above(slog.LevelInfo))
		}
	})
	return &testApp{
		t:      t,
		url:    server.URL,
		client: &http.Client{Transport: transport, Timeout: 60 * time.Second},
		pool:   pool,
		spec:   apitest.LoadSpec(t, api.OpenAPISpec()),
		logs:   logs,

		app:     app,
		dbURL:   setup.DatabaseURL,
		brokers: setup.Brokers,
		topic:   setup.Topic,
	}
}

// in returns the app reporting to t, so a subtest's failures are its own.
func (a *testApp) in(t *testing.T) *testApp {
	c := *a
	c.t = t
	return &c
}

// answer is a response read in full.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// apiError is the one error shape.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Errors  []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

func (e apiError) fields() []string {
	var fields []string
	for _, f := range e.Errors {
		fields = append(fields, f.Field)
	}
	return fields
}

// request builds a request; body is nil (none), a string or []byte (sent as
// is), an io.Reader (sent chunked, length unknown) or a value sent as JSON.
func (a *testApp) request(method, path, token string, body any) (*http.Request, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	case io.Reader:
		r = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.url+path, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

// try sends a request and checks the answer against the spec; it is safe in
// any goroutine (it reports a transport failure as an error, not a Fatal).
func (a *testApp) try(method, path, token string, body any) (answer, error) {
	req, err := a.request(method, path, token, body)
	if err != nil {
		return answer{}, err
	}
	return a.send(req)
}

func (a *testApp) send(req *http.Request) (answer, error) {
	resp, err := a.client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	apitest.ValidateResponse(a.t, a.spec, req, resp)
	if resp.StatusCode >= 500 {
		a.t.Errorf("%s %s → %d: %s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// call is try from the test's own goroutine: a transport failure is fatal.
func (a *testApp) call(method, path, token string, body any) answer {
	a.t.Helper()
	ans, err := a.try(method, path, token, body)
	if err != nil {
		a.t.Fatal(err)
	}
	return ans
}

// decode unmarshals an answer's JSON body, failing the test when it is not.
func decode[T any](t testing.TB, ans answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(ans.Body, &v); err != nil {
		t.Fatalf("decode %T: %v\nbody: %s", v, err, ans.Body)
	}
	return v
}

// errorOf decodes an error answer without failing (for goroutines).
func errorOf(ans answer) apiError {
	var e apiError
	_ = json.Unmarshal(ans.Body, &e)
	return e
}

// token is a valid owner token for an hour.
func token(t testing.TB, owner string) string {
	t.Helper()
	tok, err := api.IssueToken(testJWTSecret, owner, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// eventCount is the number of rows in the event store.
func (a *testApp) eventCount() int64 {
	a.t.Helper()
	var n int64
	if err := a.pool.QueryRow(a.t.Context(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		a.t.Fatalf("count events: %v", err)
	}
	return n
}

// eventsOfType counts stored events of one type for one campaign.
func (a *testApp) eventsOfType(eventType string, eventID uuid.UUID) int64 {
	a.t.Helper()
	var n int64
	err := a.pool.QueryRow(a.t.Context(),
		`SELECT count(*) FROM events WHERE type = $1 AND data->>'eventId' = $2`, eventType, eventID.String()).Scan(&n)
	if err != nil {
		a.t.Fatalf("count %s events: %v", eventType, err)
	}
	return n
}

type campaignJSON struct {
	EventID    uuid.UUID `json:"eventId"`
	OwnerID    string    `json:"ownerId"`
	Title      string    `json:"title"`
	StartsAt   time.Time `json:"startsAt"`
	EndsAt     time.Time `json:"endsAt"`
	AnnounceAt time.Time `json:"announceAt"`
}

type registrationJSON struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	AnnounceAt    time.Time `json:"announceAt"`
	Message       string    `json:"message"`
}

type drawJSON struct {
	Winners []struct {
		ParticipantID uuid.UUID `json:"participantId"`
		EntryNumber   string    `json:"entryNumber"`
		Name          string    `json:"name"`
		Phone         string    `json:"phone"`
		Rank          int       `json:"rank"`
	} `json:"winners"`
	DrawLogID uuid.UUID `json:"drawLogId"`
}

type drawnEntryJSON struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	Rank          int       `json:"rank"`
}

type verificationJSON struct {
	Verified         bool             `json:"verified"`
	DrawLogID        uuid.UUID        `json:"drawLogId"`
	EventID          uuid.UUID        `json:"eventId"`
	Mismatches       []string         `json:"mismatches"`
	CandidateCount   int              `json:"candidateCount"`
	CandidatesDigest string           `json:"candidatesDigest"`
	Winners          []drawnEntryJSON `json:"winners"`
}

// window is a campaign's times.
type window struct{ startsAt, endsAt, announceAt time.Time }

// openNow is a campaign open from an hour ago until tomorrow.
func openNow() window {
	now := time.Now().Truncate(time.Second)
	return window{now.Add(-time.Hour), now.Add(24 * time.Hour), now.Add(48 * time.Hour)}
}

func campaignBody(eventID uuid.UUID, title string, w window) map[string]any {
	body := map[string]any{
		"title":      title,
		"startsAt":   w.startsAt.Format(time.RFC3339),
		"endsAt":     w.endsAt.Format(time.RFC3339),
		"announceAt": w.announceAt.Format(time.RFC3339),
	}
	if eventID != uuid.Nil {
		body["eventId"] = eventID.String()
	}
	return body
}

// openCampaign opens a campaign of owner and fails the test unless it is 201.
func (a *testApp) openCampaign(owner string, w window) uuid.UUID {
	a.t.Helper()
	id := uuid.New()
	ans := a.call(http.MethodPost, "/api/v1/events", token(a.t, owner), campaignBody(id, "테스트 이벤트", w))
	if ans.Status != http.StatusCreated {
		a.t.Fatalf("open campaign → %d, want 201: %s", ans.Status, ans.Body)
	}
	return id
}

func registrationBody(eventID uuid.UUID, name, phone, entryPath string) map[string]any {
	return map[string]any{
		"eventId":        eventID.String(),
		"name":           name,
		"phone":          phone,
		"entryPath":      entryPath,
		"privacyConsent": true,
	}
}

// register registers a participant and fails the test unless it is 201.
func (a *testApp) register(eventID uuid.UUID, name, phone string) registrationJSON {
	a.t.Helper()
	ans := a.call(http.MethodPost, "/api/v1/participations", "", registrationBody(eventID, name, phone, "INSTAGRAM"))
	if ans.Status != http.StatusCreated {
		a.t.Fatalf("register %s → %d, want 201: %s", name, ans.Status, ans.Body)
	}
	return decode[registrationJSON](a.t, ans)
}

// draw draws winners and fails the test unless it is 200.
func (a *testApp) draw(owner string, eventID uuid.UUID, winnerCount int) drawJSON {
	a.t.Helper()
	ans := a.call(http.MethodPost, drawPath(eventID), token(a.t, owner), map[string]any{"winnerCount": winnerCount})
	if ans.Status != http.StatusOK {
		a.t.Fatalf("draw → %d, want 200: %s", ans.Status, ans.Body)
	}
	return decode[drawJSON](a.t, ans)
}

func drawPath(eventID uuid.UUID) string {
	return "/api/v1/events/" + eventID.String() + "/draw-winners"
}

func visitPath(eventID uuid.UUID, entryNumber string) string {
	return "/api/v1/events/" + eventID.String() + "/participants/" + entryNumber + "/visit"
}

func verifyPath(drawLogID uuid.UUID) string {
	return "/api/v1/draw-logs/" + drawLogID.String() + "/verify"
}

// phoneNumber is the i-th distinct phone number, written 010-XXXX-XXXX.
func phoneNumber(i int) string { return fmt.Sprintf("010-%04d-%04d", 1000+i/10000, i%10000) }

// syncBuffer collects the service's log lines from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// above returns the log lines of a level above level.
func (b *syncBuffer) above(level slog.Level) string {
	var out strings.Builder
	for line := range strings.Lines(b.String()) {
		var entry struct{ Level slog.Level }
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Level > level {
			out.WriteString(line)
		}
	}
	return out.String()
}
