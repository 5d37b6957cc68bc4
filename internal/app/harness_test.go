package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	"github.com/shopevents/participation/notify"
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
// relay and projectors run only once a test calls a.run (the read-side
// tests do): Kafka plays no part in the command side.
type testApp struct {
	t      *testing.T
	url    string
	public string // PUBLIC_BASE_URL: the same server by another name (localhost)
	client *http.Client
	pool   *pgxpool.Pool
	spec   *apitest.Spec
	logs   *syncBuffer

	metricsURL string // METRICS_ADDR's handler, on a listener of its own

	svc     *service // the wired service: svc.run starts its relay and projectors
	dbURL   string   // its database, for another instance on the same one
	brokers []string // its Kafka
	topic   string   // its topic, unique to the test

	accept503 bool // a fault test: 503 (a dependency away) is an answer, not a failure
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
	Roles       Roles         // zero: all
	RateLimit   api.RateLimit // zero: off (tests send far more than a customer); the edge tests set one
	Retention   retention     // zero: none shown; Every zero: no retention runs

	// OwnerRateLimit: zero is off too (tests poll the owner routes).
	OwnerRateLimit api.RateLimit
	Draw           drawSetup        // zero: local randomness
	Clock          func() time.Time // the API's and the commands' clock; nil: time.Now
	// PhoneVerification is PHONE_VERIFICATION=otp, its codes sent through
	// Notifier (nil: the log stand-in).
	PhoneVerification bool
	Notifier          notify.Notifier
	Notify            notifySetup // the notifier role's adapter and pace (zero URL: the log adapter)
}

// notifySetup is the notifier's webhook and pace in a test.
type notifySetup struct {
	URL       string
	Secret    []byte
	Every     time.Duration
	RetryBase time.Duration
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
	if setup.Roles == (Roles{}) {
		// The notifier appends to the winners' streams once they are due:
		// only the tests about it run it, so the others' event counts hold.
		setup.Roles = Roles{API: true, Relay: true, Projectors: true}
	}
	if setup.RateLimit == (api.RateLimit{}) {
		setup.RateLimit = api.RateLimit{Off: true}
	}
	if setup.OwnerRateLimit == (api.RateLimit{}) {
		setup.OwnerRateLimit = api.RateLimit{Off: true}
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
	if err := Migrate(ctx, pool); err != nil {
		t.Fatalf("migrate: %v", err)
	}

	logs := &syncBuffer{}
	// The service's PUBLIC_BASE_URL names the server by localhost while
	// the tests reach it by 127.0.0.1: a link built from the request's
	// origin instead of PUBLIC_BASE_URL shows.
	server := httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(server.Listener.Addr().String())
	publicURL := "http://localhost:" + port
	svc, err := newService(deps{
		PublicBaseURL: publicURL,
		Pool:          pool,
		Brokers:       setup.Brokers, // dialled only once a.run is called
		Topic:         setup.Topic,
		JWTSecret:     testJWTSecret,
		PIIKey:        testPIIKey,
		Logger:        slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Roles:         setup.Roles,
		RateLimit:     setup.RateLimit,
		Retention:     setup.Retention,
		// the rest of the edge as configured in production
		OwnerRateLimit: setup.OwnerRateLimit,

		Draw: setup.Draw.Config, DrawOptions: setup.Draw.Options,
		DrawCompleteEvery: setup.Draw.Every, DrawMaxBackoff: setup.Draw.MaxBackoff,
		Clock: setup.Clock,

		PhoneVerification: setup.PhoneVerification, Notifier: setup.Notifier,
		NotifyWebhookURL: setup.Notify.URL, NotifyWebhookSecret: setup.Notify.Secret,
		NotifyEvery: setup.Notify.Every, NotifyRetryBase: setup.Notify.RetryBase,
	})
	if err != nil {
		server.Close()
		t.Fatalf("newService: %v", err)
	}
	t.Cleanup(svc.close) // after the server below has stopped
	server.Config.Handler = svc.handler
	server.Start()
	t.Cleanup(server.Close)
	metrics := httptest.NewServer(svc.metrics)
	t.Cleanup(metrics.Close)
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
		public: publicURL,
		client: &http.Client{Transport: transport, Timeout: 60 * time.Second},
		pool:   pool,
		spec:   apitest.LoadSpec(t, api.OpenAPISpec()),
		logs:   logs,

		metricsURL: metrics.URL,

		svc:     svc,
		dbURL:   setup.DatabaseURL,
		brokers: setup.Brokers,
		topic:   setup.Topic,
	}
}

// tolerating503 returns the app taking 503 UNAVAILABLE as an answer, for a
// test that takes a dependency away.
func (a *testApp) tolerating503() *testApp {
	c := *a
	c.accept503 = true
	return &c
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
	if resp.StatusCode >= 500 && (resp.StatusCode != http.StatusServiceUnavailable || !a.accept503) {
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

// waitLimit bounds every wait for the read side to catch up.
const waitLimit = 60 * time.Second

// relayPublishFailed is the relay's log line when Kafka refuses a batch.
const relayPublishFailed = `"msg":"relay: publish failed"`

// entryPaths are the contract's channels.
var entryPaths = []string{"WOORIDONGNE_TV", "RINGO_BIZ", "INSTAGRAM", "NAVER_BLOG", "KAKAO", "SNS_OTHER", "STORE_QR", "OTHER"}

var kst = time.FixedZone("KST", 9*60*60)

// --- the running app ---

// run starts the app's relay and projectors (svc.run, as Run does) until
// the test ends or stop is called; stop waits for them to return.
func (a *testApp) run() (stop func()) {
	t := a.t
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.svc.run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("service run: %v", err)
			}
		})
	}
	t.Cleanup(stop) // before the HTTP server, the app and the database go
	return stop
}

// waitUntil polls check until it returns nil, failing the test with its
// last answer after waitLimit: the one way every test here waits.
func waitUntil(t *testing.T, what string, check func() error) {
	t.Helper()
	waitUntilWithin(t, waitLimit, what, check)
}

// waitUntilWithin is waitUntil with a bound of its own, for the few waits
// whose work is far larger than the usual test's (a 100,000-winner draw).
func waitUntilWithin(t *testing.T, limit time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return
		}
		if t.Failed() || time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond) // the polling interval
	}
}

func (a *testApp) head() int64 {
	a.t.Helper()
	head, err := a.svc.store.Head(a.t.Context())
	if err != nil {
		a.t.Fatal(err)
	}
	return head
}

// command sends a command with a correlation id (none when empty).
func (a *testApp) command(method, path, token string, body any, correlationID string) answer {
	a.t.Helper()
	req, err := a.request(method, path, token, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if correlationID != "" {
		req.Header.Set(api.CorrelationHeader, correlationID)
	}
	ans, err := a.send(req)
	if err != nil {
		a.t.Fatal(err)
	}
	return ans
}

// registered is a registration answered 201 and what was sent.
type registered struct {
	registrationJSON
	customer customer
}

func customersOf(regs []registered) []customer {
	out := make([]customer, 0, len(regs))
	for _, r := range regs {
		out = append(out, r.customer)
	}
	return out
}

func (a *testApp) registerCustomer(eventID uuid.UUID, c customer, correlationID string) registered {
	a.t.Helper()
	ans := a.command(http.MethodPost, participationsPath, "", c.body(eventID), correlationID)
	if ans.Status != http.StatusCreated {
		a.t.Fatalf("register %q %q → %d, want 201: %s", c.name, c.phone, ans.Status, ans.Body)
	}
	return registered{decode[registrationJSON](a.t, ans), c}
}

func (a *testApp) visit(eventID uuid.UUID, entryNumber, correlationID string) {
	a.t.Helper()
	ans := a.command(http.MethodPost, visitPath(eventID, entryNumber), token(a.t, ownerA), nil, correlationID)
	if ans.Status != http.StatusOK {
		a.t.Fatalf("visit %s → %d, want 200: %s", entryNumber, ans.Status, ans.Body)
	}
}

func (a *testApp) drawWith(owner string, eventID uuid.UUID, body map[string]any) drawJSON {
	a.t.Helper()
	ans := a.call(http.MethodPost, drawPath(eventID), token(a.t, owner), body)
	if ans.Status != http.StatusOK {
		a.t.Fatalf("draw → %d, want 200: %s", ans.Status, ans.Body)
	}
	return decode[drawJSON](a.t, ans)
}

// storedEvent is a row of the event store.
type storedEvent struct {
	StreamID      string
	StreamVersion int64
	Position      int64
	Type          string
	SchemaVersion int
	Data          []byte
}

func (a *testApp) storedEvents() map[uuid.UUID]storedEvent {
	a.t.Helper()
	rows, err := a.pool.Query(a.t.Context(), `SELECT event_id, stream_id, stream_version, position, type, schema_version, data FROM events`)
	if err != nil {
		a.t.Fatal(err)
	}
	defer rows.Close()
	out := map[uuid.UUID]storedEvent{}
	for rows.Next() {
		var id uuid.UUID
		var e storedEvent
		if err := rows.Scan(&id, &e.StreamID, &e.StreamVersion, &e.Position, &e.Type, &e.SchemaVersion, &e.Data); err != nil {
			a.t.Fatal(err)
		}
		out[id] = e
	}
	if err := rows.Err(); err != nil {
		a.t.Fatal(err)
	}
	return out
}

// registrationTimes are the stored registrations' timestamps by participant.
func (a *testApp) registrationTimes(eventID uuid.UUID) map[uuid.UUID]time.Time {
	a.t.Helper()
	out := map[uuid.UUID]time.Time{}
	for _, e := range a.storedEvents() {
		var d struct {
			ParticipantID uuid.UUID `json:"participantId"`
			EventID       uuid.UUID `json:"eventId"`
			Timestamp     time.Time `json:"timestamp"`
		}
		if e.Type == "ParticipantRegistered" && json.Unmarshal(e.Data, &d) == nil && d.EventID == eventID {
			out[d.ParticipantID] = d.Timestamp
		}
	}
	return out
}

// freePort is a port for a process the test starts (testenv.FreePort: off
// the ephemeral range, where outgoing connections could take it).
func freePort(t *testing.T) int {
	t.Helper()
	return testenv.FreePort(t)
}
