package app

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/notify"
)

// drawnCampaign is a campaign of five customers drawn with winners and one
// alternate; the rest did not win.
type drawnCampaign struct {
	eventID    uuid.UUID
	w          window
	winners    []registered
	alternate  registered
	nonWinners []registered
}

func (a *testApp) drawnCampaign(winners int) drawnCampaign {
	t := a.t
	t.Helper()
	w := openNow()
	c := drawnCampaign{eventID: a.openCampaign(ownerA, w), w: w}
	byEntry := map[string]registered{}
	for i := range winners + 3 {
		r := a.registerCustomer(c.eventID, aCustomer(i), "")
		byEntry[r.EntryNumber] = r
	}
	ans := a.call(http.MethodPost, drawPath(c.eventID), token(t, ownerA), map[string]any{"winnerCount": winners, "alternateCount": 1})
	if ans.Status != http.StatusOK {
		t.Fatalf("draw → %d: %s", ans.Status, ans.Body)
	}
	d := decode[struct {
		Winners    []drawnEntryJSON `json:"winners"`
		Alternates []drawnEntryJSON `json:"alternates"`
	}](t, ans)
	for _, e := range d.Winners {
		c.winners = append(c.winners, byEntry[e.EntryNumber])
		delete(byEntry, e.EntryNumber)
	}
	c.alternate = byEntry[d.Alternates[0].EntryNumber]
	delete(byEntry, d.Alternates[0].EntryNumber)
	for _, r := range byEntry {
		c.nonWinners = append(c.nonWinners, r)
	}
	return c
}

// waitOutbox waits until the notifier's consumer queued n messages of the campaign.
func (a *testApp) waitOutbox(eventID uuid.UUID, n int) {
	a.t.Helper()
	waitUntil(a.t, "the outbox filled", func() error {
		if got := len(a.outboxStates(eventID)); got != n {
			return fmt.Errorf("%d messages queued, want %d", got, n)
		}
		return nil
	})
}

// The provider fails three times and then accepts: each winner gets
// exactly one delivered WINNER message, every attempt under the same
// messageId and signed; the erased winner, the alternate and the
// non-winners get nothing; a day before the deadline the reminder goes to
// the unclaimed winner only. The outcomes are events, without the phone.
func TestNotifierTellsWinnersOnceThroughRetries(t *testing.T) {
	t.Parallel()
	clock := &movableClock{}
	clock.set(time.Now())
	rcv := newReceiver(t, func(_ notify.WebhookBody, nth int) int {
		if nth < 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	a := notifierApp(t, clock, rcv, appSetup{})
	a.run()
	c := a.drawnCampaign(3)
	claimer, unclaimed, erased := c.winners[0], c.winners[1], c.winners[2]
	if ans := a.call(http.MethodPost, "/api/v1/participations/erase", "", map[string]any{
		"eventId": c.eventID, "phone": erased.customer.phone, "entryNumber": erased.EntryNumber}); ans.Status != http.StatusNoContent {
		t.Fatalf("the winner's erase → %d %s", ans.Status, ans.Body)
	}
	a.waitOutbox(c.eventID, 6) // WINNER and CLAIM_REMINDER for each winner, none for the others
	if calls := rcv.all(); len(calls) != 0 {
		t.Fatalf("before announceAt the provider was called %d times", len(calls))
	}

	clock.set(c.w.announceAt)
	waitUntil(t, "both WINNER messages delivered", func() error {
		if got := len(rcv.delivered(notify.TemplateWinner)); got < 2 {
			a.toNextAttempt(clock, c.eventID, notify.TemplateWinner)
			return fmt.Errorf("%d delivered", got)
		}
		return nil
	})
	byPhone := map[string][]received{}
	for _, call := range rcv.all() {
		byPhone[call.To] = append(byPhone[call.To], call)
		if !call.Verified {
			t.Errorf("call %s: the signature does not verify", call.MessageID)
		}
	}
	for _, r := range []registered{claimer, unclaimed} {
		calls := byPhone[e164(t, r.customer.phone)]
		if len(calls) != 4 || calls[0].MessageID == "" || slices.ContainsFunc(calls, func(c received) bool { return c.MessageID != calls[0].MessageID }) {
			t.Errorf("winner %s: %+v, want 4 calls (3 refused, 1 taken) under one messageId", r.EntryNumber, calls)
			continue
		}
		if v := calls[0].Variables; v[notify.VarTitle] != "테스트 이벤트" || !strings.HasSuffix(v[notify.VarClaimURL], "/p/"+c.eventID.String()+"/result") || v[notify.VarRank] == "" {
			t.Errorf("winner %s: variables %v", r.EntryNumber, v)
		}
	}
	for _, r := range append([]registered{erased, c.alternate}, c.nonWinners...) {
		if calls := byPhone[e164(t, r.customer.phone)]; len(calls) != 0 {
			t.Errorf("%s (not to be told) got %d calls", r.EntryNumber, len(calls))
		}
	}
	waitUntil(t, "the erased winner's message skipped", func() error {
		if s := a.outboxStates(c.eventID)[erased.EntryNumber+"/WINNER"]; s != "SKIPPED" {
			return fmt.Errorf("state %q", s)
		}
		return nil
	})
	// The provider's 200 comes before the sender records it: wait for the
	// events, not the deliveries alone.
	waitUntil(t, "a NotificationSent for each delivered WINNER", func() error {
		if n := a.eventsOfType(domain.TypeNotificationSent, c.eventID); n != 2 {
			return fmt.Errorf("NotificationSent events = %d, want 2", n)
		}
		return nil
	})

	ans := a.call(http.MethodPost, claimPath(c.eventID), "", deliveryFor(claimer))
	if ans.Status != http.StatusCreated {
		t.Fatalf("claim → %d %s", ans.Status, ans.Body)
	}
	clock.set(c.w.announceAt.Add(domain.ClaimWindow - domain.ReminderLead))
	waitUntil(t, "the reminder delivered and the claimer's skipped", func() error {
		states := a.outboxStates(c.eventID)
		if states[unclaimed.EntryNumber+"/CLAIM_REMINDER"] != "SENT" || states[claimer.EntryNumber+"/CLAIM_REMINDER"] != "SKIPPED" {
			a.toNextAttempt(clock, c.eventID, notify.TemplateClaimReminder)
			return fmt.Errorf("states %v", states)
		}
		return nil
	})
	reminders := rcv.delivered(notify.TemplateClaimReminder)
	if len(reminders) != 1 || reminders[0].To != e164(t, unclaimed.customer.phone) {
		t.Errorf("reminders delivered %+v, want one, to the unclaimed winner", reminders)
	}
	if body := a.metrics(t); !strings.Contains(body, `participation_notifications_total{outcome="sent",template="WINNER"} 2`) ||
		!strings.Contains(body, `participation_notifications_total{outcome="retry",template="WINNER"} 6`) {
		t.Errorf("metrics lack the notifications:\n%s", grepLines(body, "participation_notifications_total"))
	}
	if dump := a.eventsText(t, c.eventID, domain.TypeNotificationSent); strings.Contains(dump, strings.TrimPrefix(e164(t, unclaimed.customer.phone), "+82")) {
		t.Errorf("a NotificationSent holds the phone: %s", dump)
	}
}

func (a *testApp) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(a.metricsURL + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// eventsText is the stored data of a campaign's events of one type.
func (a *testApp) eventsText(t *testing.T, eventID uuid.UUID, eventType string) string {
	t.Helper()
	var s string
	if err := a.pool.QueryRow(t.Context(), `SELECT coalesce(string_agg(data::text, ' '), '') FROM events
		WHERE type = $1 AND partition_key = $2`, eventType, eventID.String()).Scan(&s); err != nil {
		t.Fatalf("events: %v", err)
	}
	return s
}
