package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/notify"
)

// The owner's winners table says a refused message is 실패 with
// 다시 보내기; pressed, the message is queued (대기) and, delivered, shows
// 발송됨 after a reload. The campaign is drawn after its announceAt, so
// the winner is told at once by the wall clock.
func TestBrowserOwnerResendsAFailedMessage(t *testing.T) {
	rcv := newReceiver(t, func(body notify.WebhookBody, _ int) int {
		if !strings.Contains(body.MessageID, "-r") {
			return http.StatusBadRequest
		}
		return http.StatusOK
	})
	clock := &movableClock{}
	now := time.Now().Truncate(time.Second)
	clock.set(now.Add(-3 * time.Hour))
	app := notifierApp(t, clock, rcv, appSetup{})
	app.run()
	early, err := api.IssueToken(testJWTSecret, ownerA, 5*time.Hour, clock.now())
	if err != nil {
		t.Fatal(err)
	}
	eventID := uuid.New()
	w := window{now.Add(-4 * time.Hour), now.Add(-2 * time.Hour), now.Add(-2 * time.Hour)}
	if ans := app.call(http.MethodPost, "/api/v1/events", early, campaignBody(eventID, "테스트 이벤트", w)); ans.Status != http.StatusCreated {
		t.Fatalf("open campaign → %d: %s", ans.Status, ans.Body)
	}
	app.registerCustomer(eventID, aCustomer(0), "")
	clock.set(now)
	app.draw(ownerA, eventID, 1)
	waitUntil(t, "the WINNER message failed", func() error {
		for k, s := range app.outboxStates(eventID) {
			if strings.HasSuffix(k, "/WINNER") && s == "FAILED" {
				return nil
			}
		}
		return fmt.Errorf("states %v", app.outboxStates(eventID))
	})

	tab := ownerOnCampaign(t, newBrowser(t), app.url, eventID)
	waitText(t, tab, "#winner-table", "당첨 안내 실패")
	run(t, tab, "다시 보내기", chromedp.Click(chromedp.CSS(`#winner-table button[aria-label$="알림 다시 보내기"]`)))
	waitJS(t, tab, "queued or sent", `/당첨 안내 (대기|발송됨)/.test(document.querySelector("#winner-table").textContent)`)
	waitUntil(t, "the resent message delivered", func() error {
		if got := len(rcv.delivered(notify.TemplateWinner)); got != 1 {
			return fmt.Errorf("%d delivered", got)
		}
		return nil
	})
	waitUntil(t, "the outbox says SENT", func() error {
		for k, s := range app.outboxStates(eventID) {
			if strings.HasSuffix(k, "/WINNER") && s == "SENT" {
				return nil
			}
		}
		return fmt.Errorf("states %v", app.outboxStates(eventID))
	})
	run(t, tab, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#participant-rows")))
	waitText(t, tab, "#winner-table", "당첨 안내 발송됨")
	if eval[bool](t, tab, `!!document.querySelector('#winner-table button[aria-label$="알림 다시 보내기"]')`) {
		t.Error("the resend button is still there once the message is sent")
	}
}
