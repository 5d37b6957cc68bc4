package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/notify"
)

var testWebhookSecret = []byte("webhook-secret-webhook-secret-0123456789")

// received is one call the receiver took.
type received struct {
	notify.WebhookBody
	Status   int
	Verified bool // the signature verified under testWebhookSecret
}

// receiver is a provider's endpoint in the test process: answer decides
// each call's status (by the number of calls of that messageId so far).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []received
	answer func(body notify.WebhookBody, nth int) int
}

func newReceiver(t *testing.T, answer func(body notify.WebhookBody, nth int) int) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		var body notify.WebhookBody
		if err := json.Unmarshal(raw, &body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		// the signature's time is the wall clock's, whatever the test's clock says
		ok := notify.VerifySignature(testWebhookSecret, req.Header.Get(notify.SignatureHeader), raw, time.Now(), 5*time.Minute) == nil
		r.mu.Lock()
		nth := 0
		for _, c := range r.calls {
			if c.MessageID == body.MessageID {
				nth++
			}
		}
		i := len(r.calls)
		r.calls = append(r.calls, received{WebhookBody: body, Verified: ok}) // in flight: status 0
		r.mu.Unlock()
		status := r.answer(body, nth) // outside the lock: it may hold the call
		r.mu.Lock()
		r.calls[i].Status = status
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

// accepting answers 200 to every call.
func accepting(notify.WebhookBody, int) int { return http.StatusOK }

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.calls...)
}

// delivered are the calls answered 2xx, by template.
func (r *receiver) delivered(template string) []received {
	var out []received
	for _, c := range r.all() {
		if c.Status/100 == 2 && c.Template == template {
			out = append(out, c)
		}
	}
	return out
}

// waitCalls waits until the receiver took at least n calls.
func (r *receiver) waitCalls(t *testing.T, n int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d webhook calls", n), func() error {
		if got := len(r.all()); got < n {
			return fmt.Errorf("%d calls", got)
		}
		return nil
	})
}

// e164 is a test customer's phone as the webhook carries it.
func e164(t *testing.T, phone string) string {
	t.Helper()
	digits := ""
	for _, c := range phone {
		if c >= '0' && c <= '9' {
			digits += string(c)
		}
	}
	return "+82" + digits[1:]
}

// notifierApp is a test app running every role, the notifier's webhook
// pointed at rcv, its sender polling often and retrying a minute apart by
// the clock.
func notifierApp(t *testing.T, clock *movableClock, rcv *receiver, setup appSetup) *testApp {
	t.Helper()
	if setup.Roles == (Roles{}) {
		setup.Roles = AllRoles
	}
	setup.Clock = clock.now
	setup.Notify = notifySetup{Every: 20 * time.Millisecond, RetryBase: time.Minute}
	if rcv != nil {
		setup.Notify.URL, setup.Notify.Secret = rcv.URL, testWebhookSecret
	}
	return newTestAppWith(t, setup)
}

// notificationState is the outbox's state of a campaign's message.
func (a *testApp) outboxStates(eventID uuid.UUID) map[string]string {
	a.t.Helper()
	rows, err := a.pool.Query(a.t.Context(), `SELECT entry_number || '/' || template, state
		FROM notification_outbox WHERE event_id = $1`, eventID)
	if err != nil {
		a.t.Fatalf("outbox: %v", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			a.t.Fatalf("outbox: %v", err)
		}
		out[k] = v
	}
	return out
}

// notificationJSON is a winner's notification in the winners list.
type notificationJSON struct {
	State    string    `json:"state"`
	Template string    `json:"template"`
	At       time.Time `json:"at"`
	Preview  string    `json:"preview"`
}

// tokenAt is an owner token valid at the test clock's time.
func tokenAt(t testing.TB, owner string, at time.Time) string {
	t.Helper()
	tok, err := api.IssueToken(testJWTSecret, owner, time.Hour, at)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// toNextAttempt moves the clock to the campaign's next due attempt of the
// template, if that is later: never past it, so that however slowly the
// sender runs, the clock cannot outrun the retry window (a fixed step per
// poll could, and fail the message for good).
func (a *testApp) toNextAttempt(clock *movableClock, eventID uuid.UUID, template string) {
	a.t.Helper()
	var next *time.Time
	if err := a.pool.QueryRow(a.t.Context(), `SELECT min(next_attempt_at) FROM notification_outbox
		WHERE event_id = $1 AND template = $2 AND state = 'PENDING'`, eventID, template).Scan(&next); err != nil {
		a.t.Fatalf("outbox: %v", err)
	}
	if next != nil && next.After(clock.now()) {
		clock.set(*next)
	}
}
