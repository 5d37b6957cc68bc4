package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/notifier"
	"github.com/shopevents/participation/notify"
)

// The provider refuses a message with 400: it fails for good after one
// call (NotificationFailed, the owner's status FAILED with the reason);
// a resend queues it again under the next id of its family, and it is
// delivered; a message that has not failed is not resent.
func TestNotifierRefusedForGoodThenResent(t *testing.T) {
	t.Parallel()
	clock := &movableClock{}
	clock.set(time.Now())
	rcv := newReceiver(t, func(body notify.WebhookBody, _ int) int {
		if !strings.Contains(body.MessageID, "-r") {
			return http.StatusBadRequest
		}
		return http.StatusOK
	})
	a := notifierApp(t, clock, rcv, appSetup{})
	a.run()
	c := a.drawnCampaign(1)
	winner := c.winners[0].EntryNumber
	a.waitOutbox(c.eventID, 2)
	status := func() notificationJSON {
		t.Helper()
		list := decode[struct {
			Winners []struct {
				EntryNumber  string            `json:"entryNumber"`
				Notification *notificationJSON `json:"notification"`
			} `json:"winners"`
		}](t, a.call(http.MethodGet, "/api/v1/events/"+c.eventID.String()+"/winners", tokenAt(t, ownerA, clock.now()), nil))
		for _, w := range list.Winners {
			if w.EntryNumber == winner && w.Notification != nil {
				return *w.Notification
			}
		}
		return notificationJSON{}
	}
	resend := func(entry string) answer {
		return a.call(http.MethodPost, "/api/v1/events/"+c.eventID.String()+"/winners/"+entry+"/notifications/resend", tokenAt(t, ownerA, clock.now()), nil)
	}
	if s := status(); s.State != "" {
		t.Errorf("before announceAt the winner shows a message: %+v", s)
	}
	clock.set(c.w.announceAt)
	waitUntil(t, "the WINNER message failed", func() error {
		if s := status(); s.State != "FAILED" {
			return fmt.Errorf("status %+v", s)
		}
		return nil
	})
	if s := status(); s.Template != notify.TemplateWinner || !s.At.Equal(c.w.announceAt) {
		t.Errorf("status %+v, want WINNER failed at announceAt", s)
	}
	failed, err := notifier.Statuses(t.Context(), a.pool, c.eventID, clock.now())
	if err != nil || !strings.Contains(failed[winner].Reason, "400") {
		t.Errorf("statuses %+v, %v: want the provider's 400 as the reason", failed, err)
	}
	if ans := resend(c.nonWinners[0].EntryNumber); ans.Status != http.StatusConflict || errorOf(ans).Code != "NOTIFICATION_NOT_FAILED" {
		t.Errorf("resend for a non-winner → %d %s, want 409 NOTIFICATION_NOT_FAILED", ans.Status, ans.Body)
	}
	calls := rcv.all()
	if len(calls) != 1 {
		t.Fatalf("calls %+v, want one: a 400 is not retried", calls)
	}
	if n := a.eventsOfType(domain.TypeNotificationFailed, c.eventID); n != 1 {
		t.Errorf("NotificationFailed events = %d, want 1", n)
	}

	if ans := resend(winner); ans.Status != http.StatusAccepted || decode[notificationJSON](t, ans).State != "PENDING" {
		t.Fatalf("resend → %d %s, want 202 PENDING", ans.Status, ans.Body)
	}
	wire := calls[0].MessageID + "-r1"
	waitUntil(t, "the resent message delivered", func() error {
		if s := status(); s.State != "SENT" {
			return fmt.Errorf("status %+v", s)
		}
		return nil
	})
	if got := rcv.delivered(notify.TemplateWinner); len(got) != 1 || got[0].MessageID != wire {
		t.Errorf("delivered %+v, want the one resent as %s", got, wire)
	}
	if n := a.eventsOfType(domain.TypeNotificationSent, c.eventID); n != 1 {
		t.Errorf("NotificationSent events = %d, want 1", n)
	}
	if ans := resend(winner); ans.Status != http.StatusConflict || errorOf(ans).Code != "NOTIFICATION_NOT_FAILED" {
		t.Errorf("a resend of a sent message → %d %s, want 409 NOTIFICATION_NOT_FAILED", ans.Status, ans.Body)
	}
}

// Three instances run the notifier against one database and topic: every
// winner's message is sent once, by whichever instance claimed it.
func TestNotifierThreeInstancesSendEachMessageOnce(t *testing.T) {
	t.Parallel()
	clock := &movableClock{}
	clock.set(time.Now())
	rcv := newReceiver(t, accepting)
	setup := appSetup{DatabaseURL: testenv.Database(t), Brokers: testenv.KafkaBrokers(t), Topic: testenv.Topic(t)}
	a := notifierApp(t, clock, rcv, setup)
	a.run()
	setup.Roles = Roles{Notifier: true}
	for range 2 {
		notifierApp(t, clock, rcv, setup).run()
	}
	const winners = 6
	c := a.drawnCampaign(winners)
	a.waitOutbox(c.eventID, 2*winners)
	clock.set(c.w.announceAt)
	waitUntil(t, "every WINNER message sent", func() error {
		sent := 0
		for k, s := range a.outboxStates(c.eventID) {
			if strings.HasSuffix(k, "/"+notify.TemplateWinner) && s == "SENT" {
				sent++
			}
		}
		if sent != winners {
			return fmt.Errorf("%d sent", sent)
		}
		return nil
	})
	perID := map[string]int{}
	for _, call := range rcv.all() {
		perID[call.MessageID]++
	}
	if len(perID) != winners {
		t.Errorf("%d distinct messages, want %d", len(perID), winners)
	}
	for id, n := range perID {
		if n != 1 {
			t.Errorf("message %s sent %d times", id, n)
		}
	}
	if n := a.eventsOfType(domain.TypeNotificationSent, c.eventID); n != winners {
		t.Errorf("NotificationSent events = %d, want %d", n, winners)
	}
}
