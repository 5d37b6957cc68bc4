package app

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/notify"
)

// The notifier's process is killed (SIGKILL) while the provider holds its
// call: the message stays queued and the next notifier sends it again,
// under the same messageId (the provider's dedup key), and it is recorded
// as sent once.
func TestNotifierKill9MidSend(t *testing.T) {
	t.Parallel()
	held := make(chan struct{})
	var release sync.Once
	releaseHeld := func() { release.Do(func() { close(held) }) }
	rcv := newReceiver(t, func(_ notify.WebhookBody, nth int) int {
		if nth == 0 {
			<-held // the first call hangs until its sender is dead
		}
		return http.StatusOK
	})
	t.Cleanup(releaseHeld) // before the receiver closes, which waits for its calls
	setup := processSetup{DatabaseURL: testenv.Database(t), Brokers: testenv.KafkaBrokers(t), Topic: testenv.Topic(t),
		Env: []string{"NOTIFY_WEBHOOK_URL=" + rcv.URL, "NOTIFY_WEBHOOK_SECRET=" + string(testWebhookSecret)}}
	// The campaign is opened and registered three hours ago by the app's
	// clock and drawn now, after its announceAt: the winner is due at once
	// by the notifier's wall clock.
	clock := &movableClock{}
	now := time.Now().Truncate(time.Second)
	clock.set(now.Add(-3 * time.Hour))
	a := newTestAppWith(t, appSetup{DatabaseURL: setup.DatabaseURL, Brokers: setup.Brokers, Topic: setup.Topic, Clock: clock.now})
	a.run()
	w := window{now.Add(-4 * time.Hour), now.Add(-2 * time.Hour), now.Add(-2 * time.Hour)}
	early, err := api.IssueToken(testJWTSecret, ownerA, 5*time.Hour, clock.now()) // valid by both clocks
	if err != nil {
		t.Fatal(err)
	}
	eventID := uuid.New()
	if ans := a.call(http.MethodPost, "/api/v1/events", early, campaignBody(eventID, "테스트 이벤트", w)); ans.Status != http.StatusCreated {
		t.Fatalf("open campaign → %d: %s", ans.Status, ans.Body)
	}
	for i := range 3 {
		a.registerCustomer(eventID, aCustomer(i), "")
	}
	clock.set(now)
	a.draw(ownerA, eventID, 1)

	in := startInstance(t, "notifier", setup, Roles{Notifier: true})
	rcv.waitCalls(t, 1)
	in.kill()
	releaseHeld()
	startInstance(t, "notifier-again", setup, Roles{Notifier: true})
	waitUntil(t, "the WINNER message sent", func() error {
		for k, s := range a.outboxStates(eventID) {
			if s == "SENT" {
				return nil
			} else if s != "PENDING" {
				return fmt.Errorf("%s: %s", k, s)
			}
		}
		return fmt.Errorf("states %v", a.outboxStates(eventID))
	})
	calls := rcv.all()
	if len(calls) < 1 || len(calls) > 2 {
		t.Fatalf("calls %+v, want the message once, or twice across the kill", calls)
	}
	for _, c := range calls {
		if c.MessageID != calls[0].MessageID || c.Template != notify.TemplateWinner {
			t.Errorf("calls %+v: not one message under one id", calls)
		}
	}
	if n := a.eventsOfType(domain.TypeNotificationSent, eventID); n != 1 {
		t.Errorf("NotificationSent events = %d, want 1", n)
	}
}
