package app

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The owner's page with DRAW_RANDOMNESS=drand: the draw's 202 shows
// 공개 난수 대기 중 with the round and when it is due, the draw log says it
// too (also after a reload), and once the relay's leader completes the
// draw the page shows the winners without being reloaded.
func TestBrowserDrandDrawPending(t *testing.T) {
	w := newDrandWorld(t)
	app := newTestAppWith(t, appSetup{Draw: w.setup(20 * time.Millisecond)})
	app.run()
	browserCtx := newBrowser(t)
	eventID := drandCampaign(app, 1) // ownerOnCampaign waits for one participant

	tab := ownerOnCampaign(t, browserCtx, app.url, eventID)
	run(t, tab, "draw",
		chromedp.SetValue(chromedp.CSS("#winner-count"), "1"),
		chromedp.Click(chromedp.CSS("#draw-open")),
		chromedp.WaitVisible(chromedp.CSS("#draw-confirm")),
		chromedp.Click(chromedp.CSS("#draw-confirm")))
	commit := app.committed(eventID)
	round := fmt.Sprint(commit.Randomness.Round)
	waitText(t, tab, "#draw-notice", "공개 난수 대기 중: drand 라운드 "+round)
	waitText(t, tab, "#draw-notice", "공개 예정")
	waitText(t, tab, "#draw-log-list", "공개 난수 대기 중 (라운드 "+round+")")
	if eval[bool](t, tab, `!!document.querySelector("#draw-open")`) {
		t.Error("the draw button is still there while the draw is pending")
	}
	run(t, tab, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#participant-rows")))
	waitText(t, tab, "#draw-log-list", "공개 난수 대기 중 (라운드 "+round+")")

	w.publish(commit.Randomness.Round)
	waitJS(t, tab, "the winners once the round is in", `document.querySelectorAll("#winner-table tbody tr").length === 1`)
	waitText(t, tab, "#draw-log-list", "추첨 완료")
	waitText(t, tab, "#draw-log-list", "drand 라운드 "+round)
}
