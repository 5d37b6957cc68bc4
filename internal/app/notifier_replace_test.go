package app

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/shopevents/participation/notify"
)

// 교체 tells the promoted alternate: WINNER for the rank it took, with its
// own claim deadline, and a reminder a day before it; the replaced
// winner's reminder still pending is withdrawn (SKIPPED), never sent.
func TestNotifierTellsThePromotedAlternate(t *testing.T) {
	t.Parallel()
	clock := &movableClock{}
	clock.set(time.Now())
	rcv := newReceiver(t, accepting)
	a := notifierApp(t, clock, rcv, appSetup{})
	a.run()
	c := a.drawnCampaign(2)
	declined := c.winners[0]
	a.waitOutbox(c.eventID, 4) // WINNER and CLAIM_REMINDER for each winner

	clock.set(c.w.announceAt)
	waitUntil(t, "both winners told", func() error {
		if got := len(rcv.delivered(notify.TemplateWinner)); got != 2 {
			return fmt.Errorf("%d delivered", got)
		}
		return nil
	})
	if calls := rcv.all(); len(calls) != 2 {
		t.Fatalf("%d calls before the replacement, want the 2 WINNER messages", len(calls))
	}
	replacedAt := c.w.announceAt.Add(time.Hour)
	clock.set(replacedAt)
	ans := a.call(http.MethodPost, replacePath(c.eventID, declined.EntryNumber), tokenAt(t, ownerA, replacedAt),
		map[string]any{"reason": "DECLINED"})
	if ans.Status != http.StatusOK {
		t.Fatalf("replace → %d %s", ans.Status, ans.Body)
	}
	var promoted received
	waitUntil(t, "the promoted alternate told", func() error {
		for _, call := range rcv.delivered(notify.TemplateWinner) {
			if call.To == e164(t, c.alternate.customer.phone) {
				promoted = call
				return nil
			}
		}
		return fmt.Errorf("states %v", a.outboxStates(c.eventID))
	})
	wantDeadline := c.w.announceAt.Add(time.Hour).Add(7 * 24 * time.Hour).In(time.FixedZone("KST", 9*60*60)).Format("2006-01-02 15:04")
	if v := promoted.Variables; v[notify.VarRank] != "1" || v[notify.VarDeadline] != wantDeadline {
		t.Errorf("the promoted alternate's variables %v, want the rank taken and its own deadline %s", v, wantDeadline)
	}
	states := a.outboxStates(c.eventID)
	if states[declined.EntryNumber+"/CLAIM_REMINDER"] != "SKIPPED" || states[c.alternate.EntryNumber+"/CLAIM_REMINDER"] != "PENDING" {
		t.Errorf("outbox %v: the replaced winner's reminder withdrawn, the promoted alternate's pending", states)
	}
	for _, call := range rcv.all() {
		if call.To == e164(t, declined.customer.phone) && call.Template != notify.TemplateWinner {
			t.Errorf("the replaced winner got %s", call.Template)
		}
	}
}
