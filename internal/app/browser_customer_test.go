package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserCustomerPageCopy: the consent spells out purpose, items and
// retention (the service's real periods), and the dates are shown in
// Asia/Seoul: the announcement is set at 20:30 UTC, which is 05:30 the next
// day in Seoul, on the campaign's page and on the success screen.
func TestBrowserCustomerPageCopy(t *testing.T) {
	app := newTestAppWith(t, appSetup{Retention: retention{NonWinners: 168 * time.Hour, Winners: 2160 * time.Hour}})
	now := time.Now().UTC().Truncate(time.Second)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	announce := day.Add(3*24*time.Hour + 20*time.Hour + 30*time.Minute)
	id := app.openCampaign(ownerA, window{now.Add(-time.Hour), now.Add(24 * time.Hour), announce})

	seoul := announce.In(time.FixedZone("KST", 9*3600)) // Korea keeps no daylight saving time
	wantDate := fmt.Sprintf("%d년 %d월 %d일", seoul.Year(), seoul.Month(), seoul.Day())
	wantTime := fmt.Sprintf("오전 %02d:%02d", seoul.Hour(), seoul.Minute())
	utcDate := fmt.Sprintf("%d월 %d일", announce.Month(), announce.Day())

	browserCtx := newBrowser(t)
	tab := newTab(t, browserCtx)
	openForm(t, tab, app.url, id)

	label := eval[string](t, tab, `document.querySelector("label[for=consent]").textContent`)
	if !strings.Contains(label, "개인정보 수집·이용에 동의합니다") {
		t.Errorf("the consent's label is %q", label)
	}
	if got := eval[string](t, tab, `document.querySelector("#consent").getAttribute("aria-describedby")`); !strings.Contains(got, "consent-detail") {
		t.Errorf("the consent box is described by %q, not by its details", got)
	}
	detail := eval[string](t, tab, `document.querySelector("#consent-detail").textContent`)
	for _, want := range []string{
		"수집·이용 목적", "이벤트 참여 확인", "당첨자 추첨",
		"수집 항목", "이름, 휴대폰 번호, 참여 경로",
		"보유 기간", "당첨자 발표일로부터 7일 뒤 파기합니다", "당첨자 발표일로부터 90일 뒤 파기합니다",
	} {
		if !strings.Contains(detail, want) {
			t.Errorf("the consent's details lack %q:\n%s", want, detail)
		}
	}

	checkSeoul := func(where, text string) {
		t.Helper()
		if !strings.Contains(text, wantDate) || !strings.Contains(text, wantTime) || strings.Contains(text, utcDate) {
			t.Errorf("%s shows %q; the announcement is %s %s in Seoul (%s UTC)", where, text, wantDate, wantTime, announce.Format(time.DateTime))
		}
	}
	checkSeoul("the campaign's 당첨 발표일", eval[string](t, tab, `document.querySelector("#announce").textContent`))

	fillByKeyboard(t, tab, "서다온", "010-8080-1212")
	run(t, tab, "success", chromedp.WaitVisible(chromedp.CSS("#success")))
	checkSeoul("the success screen", eval[string](t, tab, `document.querySelector("#success-announce").textContent`))
	waitText(t, tab, "#success", thanks)
	if href := eval[string](t, tab, `document.querySelector("#success-result-link").getAttribute("href")`); href != "/p/"+id.String()+"/result" {
		t.Errorf("the success screen's 당첨 결과 보기 links %q", href)
	}
	if eval[bool](t, tab, `!document.querySelector("#result-link-wrap").hidden`) {
		t.Error("the page links the result before announceAt")
	}
}
