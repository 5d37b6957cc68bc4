package app

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopevents/participation/domain"
)

// /p/{id}/result on a 360 px phone: before the date the date and a running
// countdown, no form; once the server's clock has passed announceAt, the
// masked winner, the 추첨 검증 link, and 당첨 확인 answering 당첨되셨습니다
// with the claim window and the inclusion line its proof verified in the
// page (a tampered proof warns instead), and the claim form, whose 경품 수령
// 신청 completes; a wrong phone says so. Any script error fails it.
func TestBrowserResultPage(t *testing.T) {
	clock := &movableClock{}
	clock.set(time.Now())
	app := newTestAppWith(t, appSetup{Clock: clock.now, Retention: retention{NonWinners: 168 * time.Hour, Winners: 2160 * time.Hour}})
	app.run()
	tab := newTab(t, newBrowser(t))
	w := openNow()
	eventID := app.openCampaign(ownerA, w)
	past := app.openCampaign(ownerA, window{w.startsAt.Add(-3 * time.Hour), w.startsAt.Add(-2 * time.Hour), w.startsAt})
	reg := app.register(eventID, "김철수", "010-9753-1086")
	other := app.register(eventID, "이영희", "010-8642-1357")
	d := app.drawWith(ownerA, eventID, map[string]any{"winnerCount": 1})
	page := app.url + "/p/" + eventID.String() + "/result"

	run(t, tab, "the result page before the date",
		chromedp.EmulateViewport(360, 800),
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS("#countdown")))
	waitJS(t, tab, "a countdown", `/^1일 23시간 \d+분 \d+초$/.test(document.querySelector("#countdown").textContent)`)
	if eval[bool](t, tab, `!document.querySelector("#check-view").hidden || !document.querySelector("#announced").hidden`) {
		t.Error("the winners or the 당첨 확인 form show before the date")
	}
	if w := eval[int](t, tab, "document.documentElement.scrollWidth"); w > 360 {
		t.Errorf("the result page is %d px wide on a 360 px screen", w)
	}

	clock.set(w.announceAt)
	winnerName := domain.MaskListedName("김철수")
	if d.Winners[0].EntryNumber != reg.EntryNumber {
		winnerName = domain.MaskListedName("이영희")
	}
	want := "1등 " + winnerName + " " + d.Winners[0].EntryNumber[:4] + "-****"
	waitUntil(t, "the winner in the read model", func() error {
		if r := decode[resultJSON](t, app.call(http.MethodGet, resultPath(eventID), "", nil)); len(r.Winners) == 0 {
			return errors.New("no winner listed yet")
		}
		return nil
	})
	run(t, tab, "the result page once announced",
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS("#check-form")))
	waitText(t, tab, "#winners", want)
	if href := eval[string](t, tab, `document.querySelector("#draw-link").getAttribute("href")`); href != "/p/"+eventID.String()+"/draw" {
		t.Errorf("추첨 검증 links %q", href)
	}
	screenshot(t, tab, "main", "result-announced")

	run(t, tab, "a wrong phone",
		chromedp.SendKeys(chromedp.CSS("#phone"), "010-1111-2222"),
		chromedp.SendKeys(chromedp.CSS("#entryNumber"), reg.EntryNumber),
		chromedp.Click(chromedp.CSS("#check-submit")))
	waitText(t, tab, "#check-notice", "일치하는 참여 정보가 없습니다. 휴대폰 번호와 응모번호를 확인해주세요.")

	winnerPhone, winnerEntry, winnerRaw := "010-9753-1086", reg.EntryNumber, "김철수"
	if d.Winners[0].EntryNumber == other.EntryNumber {
		winnerPhone, winnerEntry, winnerRaw = "010-8642-1357", other.EntryNumber, "이영희"
	}
	eval[bool](t, tab, `(document.querySelector("#phone").value = "", document.querySelector("#entryNumber").value = "", true)`)
	run(t, tab, "당첨 확인",
		chromedp.SendKeys(chromedp.CSS("#phone"), winnerPhone),
		chromedp.SendKeys(chromedp.CSS("#entryNumber"), winnerEntry),
		chromedp.Click(chromedp.CSS("#check-submit")))
	waitText(t, tab, "#outcome-title", "당첨되셨습니다")
	waitText(t, tab, "#outcome-claim", "경품 수령 신청 기한: ")
	// the answer's inclusion proof, checked in the page against the certificate's root
	waitText(t, tab, "#outcome-proof", "내 응모가 추첨에 포함되었습니다 (가중치 1)")
	screenshot(t, tab, "main", "result-proof")
	// a proof altered on its way (its weight) does not verify: a warning, not the line
	eval[bool](t, tab, `(() => { const f = window.__fetch = window.fetch; window.fetch = async (...a) => {
		const r = await f(...a);
		if (!String(a[0]).endsWith("/result/check")) return r;
		const j = await r.json();
		if (j.proof) j.proof.weight += 1;
		return new Response(JSON.stringify(j), { status: r.status, headers: r.headers });
	}; return true; })()`)
	run(t, tab, "당첨 확인 with a tampered proof", chromedp.Click(chromedp.CSS("#check-submit")))
	waitText(t, tab, "#outcome-proof", "포함 증명을 확인하지 못했습니다")
	// the answer as sent again: the line again (and a claim form without the warning above it)
	eval[bool](t, tab, `(window.fetch = window.__fetch, true)`)
	run(t, tab, "당첨 확인 again", chromedp.Click(chromedp.CSS("#check-submit")))
	waitText(t, tab, "#outcome-proof", "내 응모가 추첨에 포함되었습니다 (가중치 1)")
	if w := eval[int](t, tab, "document.documentElement.scrollWidth"); w > 360 {
		t.Errorf("the announced result page is %d px wide on a 360 px screen", w)
	}

	// The winner's claim form: its fields, a consent naming the purpose and
	// the winners' retention, and 경품 수령 신청.
	waitJS(t, tab, "the claim form", `!document.querySelector("#claim-form").hidden`)
	labels := eval[string](t, tab, `[...document.querySelectorAll("#claim-form label, #claim-form button")].map((e) => e.textContent.trim()).join("|")`)
	if want := "받는 분|우편번호|주소|상세 주소|"; len(labels) < len(want) || labels[:len(want)] != want {
		t.Errorf("claim form labels = %q, want them to start %q", labels, want)
	}
	waitJS(t, tab, "the consent's purpose and retention",
		`/경품 배송 목적.*당첨자 발표일로부터 90일 뒤 파기/.test(document.querySelector("#delivery-consent-text").textContent)`)
	if w := eval[int](t, tab, "document.documentElement.scrollWidth"); w > 360 {
		t.Errorf("the claim form is %d px wide on a 360 px screen", w)
	}
	run(t, tab, "경품 수령 신청 filled in",
		chromedp.SendKeys(chromedp.CSS("#recipientName"), winnerRaw),
		chromedp.SendKeys(chromedp.CSS("#postcode"), "06236"),
		chromedp.SendKeys(chromedp.CSS("#address1"), "서울특별시 강남구 테헤란로 123"),
		chromedp.Click(chromedp.CSS("#deliveryConsent")))
	screenshot(t, tab, "main", "result-claim-form")
	run(t, tab, "경품 수령 신청 sent", chromedp.Click(chromedp.CSS("#claim-submit")))
	waitText(t, tab, "#outcome-claim", "경품 수령 신청이 완료되었습니다.")
	screenshot(t, tab, "main", "result-claimed")

	// The customer page of an announced campaign links its result.
	run(t, tab, "the customer page once announced",
		chromedp.Navigate(app.url+"/p/"+past.String()),
		chromedp.WaitVisible(chromedp.CSS("#result-link")))
	if href := eval[string](t, tab, `document.querySelector("#result-link").getAttribute("href")`); href != "/p/"+past.String()+"/result" {
		t.Errorf("당첨 결과 보기 links %q", href)
	}
}
