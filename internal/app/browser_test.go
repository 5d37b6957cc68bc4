package app

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
)

// TestBrowserCustomerAndOwner drives both front ends in headless Chromium
// against the whole service (PostgreSQL, Kafka, relay, projectors): the
// customer registers, a duplicate is refused, a bad phone is stopped in the
// page; the owner opens the campaign from the dashboard, sees the masked row
// appear live, paginates, downloads the CSV, cancels and then confirms the
// draw, and verifies it; another owner is refused.
func TestBrowserCustomerAndOwner(t *testing.T) {
	// The defaults' retention, shown next to the consent (no worker runs it).
	app := newTestAppWith(t, appSetup{Retention: retention{NonWinners: 168 * time.Hour, Winners: 2160 * time.Hour}})
	app.run()
	browserCtx := newBrowser(t)
	const rawName, rawPhone = "김민수", "010-2468-1357"

	// The owner signs in through the banner's fragment link and opens a
	// campaign with the dashboard's form.
	owner := newTab(t, browserCtx)
	run(t, owner, "owner sign-in",
		chromedp.Navigate(app.url+"/owner/#token="+token(t, ownerA)),
		chromedp.WaitVisible(chromedp.CSS("#open-form")))
	if loc := eval[string](t, owner, "location.href"); strings.Contains(loc, "token=") {
		t.Errorf("the token stays in the address bar: %s", loc)
	}
	run(t, owner, "open a campaign",
		chromedp.SendKeys(chromedp.CSS("#ev-title"), "오픈 기념 커피 이벤트"),
		chromedp.Click(chromedp.CSS("#open-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#participant-rows")))
	eventID, err := uuid.Parse(eval[string](t, owner, `location.hash.split("/")[2]`))
	if err != nil {
		t.Fatalf("campaign id from the dashboard's address: %v", err)
	}
	waitText(t, owner, "#total-count", "0")
	waitText(t, owner, "#live-status", "실시간")
	waitText(t, owner, "#hourly", "참여 없음")
	eval[bool](t, owner, "window.__sameDocument = true")

	// The customer, on a 360 px phone, comes from Instagram.
	customer := newTab(t, browserCtx)
	requests := logRequests(customer)
	run(t, customer, "customer page",
		chromedp.EmulateViewport(360, 800, chromedp.EmulateScale(2)),
		chromedp.Navigate(fmt.Sprintf("%s/p/%s?from=INSTAGRAM", app.url, eventID)),
		chromedp.WaitVisible(chromedp.CSS("#form")))
	waitText(t, customer, "#title", "오픈 기념 커피 이벤트")
	if got := eval[string](t, customer, `document.querySelector("#entryPath").value`); got != "INSTAGRAM" {
		t.Errorf("참여 경로 = %q, want INSTAGRAM preselected by ?from=", got)
	}
	for _, id := range []string{"name", "phone", "entryPath", "consent"} {
		if !eval[bool](t, customer, fmt.Sprintf(`!!document.querySelector("label[for=%s]")`, id)) {
			t.Errorf("input #%s has no <label>", id)
		}
	}
	waitText(t, customer, "#retention", "당첨자 발표일로부터 7일 뒤 파기합니다")
	waitText(t, customer, "#retention", "경품 전달을 위해 당첨자 발표일로부터 90일 뒤 파기합니다")
	screenshot(t, customer, "main", "customer-form")

	// A bad phone is refused by the page itself: nothing reaches the server.
	before := app.eventCount()
	run(t, customer, "bad phone",
		chromedp.SendKeys(chromedp.CSS("#name"), rawName),
		chromedp.SendKeys(chromedp.CSS("#phone"), "010-123"),
		chromedp.Click(chromedp.CSS(`label[for="consent"]`)),
		chromedp.Click(chromedp.CSS("#submit")))
	waitText(t, customer, "#phone-error", "010-1234-5678 형식")
	if got := requests.matching("/api/v1/participations"); len(got) != 0 {
		t.Errorf("the page sent %v despite the bad phone", got)
	}
	if after := app.eventCount(); after != before {
		t.Errorf("events %d → %d: a blocked form changed the store", before, after)
	}

	// Fixed, it registers: the success screen has the entry number and the
	// announcement date.
	run(t, customer, "register",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#phone").value = ""`),
		chromedp.SendKeys(chromedp.CSS("#phone"), rawPhone),
		chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#success")))
	entry := eval[string](t, customer, `document.querySelector("#entry-number").textContent`)
	if !entryNumberShape.MatchString(entry) {
		t.Errorf("entry number %q on the success screen", entry)
	}
	waitText(t, customer, "#success", "참여해주셔서 감사합니다")
	if got := eval[string](t, customer, `document.querySelector("#success-announce").textContent`); !strings.Contains(got, "년") {
		t.Errorf("당첨 발표일 = %q", got)
	}
	screenshot(t, customer, "main", "customer-success")

	// The same phone again: refused, with the input kept.
	run(t, customer, "duplicate",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#form")),
		chromedp.SendKeys(chromedp.CSS("#name"), rawName),
		chromedp.SendKeys(chromedp.CSS("#phone"), rawPhone),
		chromedp.Click(chromedp.CSS(`label[for="consent"]`)),
		chromedp.Click(chromedp.CSS("#submit")))
	waitText(t, customer, "#form-notice", "이미 참여하신 이벤트입니다")
	if got := eval[string](t, customer, `document.querySelector("#phone").value`); got != rawPhone {
		t.Errorf("the phone field holds %q after the 409", got)
	}

	// The owner's page shows the masked row without a reload (the SSE stream).
	waitText(t, owner, "#participant-rows", entry)
	waitText(t, owner, "#participant-rows", "김**")
	waitText(t, owner, "#participant-rows", "010-****-1357")
	if !eval[bool](t, owner, "window.__sameDocument === true") {
		t.Error("the owner's page reloaded to show the new row")
	}
	noRawPII(t, owner, rawName, rawPhone)

	// 25 more: two pages of 20.
	for i := range 25 {
		path := []string{"INSTAGRAM", "KAKAO", "STORE_QR", "NAVER_BLOG", "WOORIDONGNE_TV"}[i%5]
		ans := app.call(http.MethodPost, "/api/v1/participations", "", registrationBody(eventID, koreanName(i), phoneNumber(i), path))
		if ans.Status != http.StatusCreated {
			t.Fatalf("register %d → %d: %s", i, ans.Status, ans.Body)
		}
	}
	waitText(t, owner, "#total-count", "26")
	waitText(t, owner, "#page-info", "1 / 2 페이지")
	if n := eval[int](t, owner, `document.querySelectorAll("#participant-rows tr").length`); n != 20 {
		t.Errorf("page 1 has %d rows, want 20", n)
	}
	screenshot(t, owner, "#participants", "owner-participants")
	run(t, owner, "next page", chromedp.Click(chromedp.CSS("#page-next")))
	waitText(t, owner, "#page-info", "2 / 2 페이지")
	waitJS(t, owner, "6 rows on page 2", `document.querySelectorAll("#participant-rows tr").length === 6`)
	waitText(t, owner, "#participant-rows", entry) // newest first: the first registration is last
	run(t, owner, "previous page", chromedp.Click(chromedp.CSS("#page-prev")))
	waitText(t, owner, "#page-info", "1 / 2 페이지")

	// The channel filter: 1 + 5 from Instagram.
	eval[bool](t, owner, `(() => { const s = document.querySelector("#filter-channel"); s.value = "INSTAGRAM"; s.dispatchEvent(new Event("change")); return true; })()`)
	waitText(t, owner, "#total-count", "6")
	eval[bool](t, owner, `(() => { const s = document.querySelector("#filter-channel"); s.value = ""; s.dispatchEvent(new Event("change")); return true; })()`)
	waitText(t, owner, "#total-count", "26")

	// 공유: a link per channel, and the STORE_QR code drawn (a PNG the page
	// fetched with the token).
	waitJS(t, owner, "the QR code", `(() => { const i = document.querySelector("#store-qr img"); return !!i && i.complete && i.naturalWidth > 100; })()`)
	// The links are PUBLIC_BASE_URL's (app.public), not the origin the
	// dashboard was opened at (app.url).
	waitJS(t, owner, "the share links", `(() => { const i = document.querySelector("#share-STORE_QR"); return !!i && i.value !== ""; })()`)
	if got := eval[string](t, owner, `document.querySelector("#share-STORE_QR").value`); got != fmt.Sprintf("%s/p/%s?from=STORE_QR", app.public, eventID) {
		t.Errorf("STORE_QR link %q, want PUBLIC_BASE_URL's %s", got, app.public)
	}

	// CSV 다운로드: a real download, UTF-8 with BOM, masked.
	files := downloads(t, owner)
	run(t, owner, "CSV", chromedp.Click(chromedp.CSS("#csv-download")))
	checkCSV(t, files, entry, rawName, rawPhone)

	// 방문 확인 on a row.
	run(t, owner, "store visit", chromedp.Click(chromedp.CSS("#participant-rows button[data-entry]")))
	waitText(t, owner, "#totals", "1매장 방문")

	// 실시간 분석 shows every registration.
	waitText(t, owner, "#total-participants", "26")
	waitText(t, owner, `#channel-bars li[data-channel="INSTAGRAM"] .n`, "6")
	// The hourly line: drawn, a dot per hour with entries, its counts (in
	// the chart's title) adding up to the 26.
	waitJS(t, owner, "the hourly line", `(() => {
		const line = document.querySelector("#hourly svg polyline");
		const title = document.querySelector("#hourly svg title");
		if (!line || !title || !/^[\d.]+,[\d.]+( [\d.]+,[\d.]+)*$/.test(line.getAttribute("points"))) return false;
		const sum = [...title.textContent.matchAll(/(\d+)명/g)].reduce((n, m) => n + Number(m[1]), 0);
		return sum === 26 && document.querySelectorAll("#hourly svg circle").length >= 1;
	})()`)
	screenshot(t, owner, "#analytics", "owner-analytics")

	// The draw's dialog, cancelled: nothing drawn, the button stays.
	run(t, owner, "open the draw dialog",
		chromedp.SetValue(chromedp.CSS("#winner-count"), "3"),
		chromedp.Click(chromedp.CSS("#draw-open")))
	waitJS(t, owner, "the dialog", `document.querySelector("#draw-dialog").open`)
	waitText(t, owner, "#draw-dialog", "당첨자를 추첨하시겠습니까?")
	run(t, owner, "cancel", chromedp.Click(chromedp.CSS("#draw-cancel")))
	waitJS(t, owner, "the dialog closed", `!document.querySelector("#draw-dialog").open`)
	if n := app.eventsOfType("WinnersDrawn", eventID); n != 0 {
		t.Fatalf("%d draws after 취소", n)
	}
	if !eval[bool](t, owner, `!!document.querySelector("#draw-open")`) {
		t.Error("the draw button went away after 취소")
	}

	// Confirmed, with one alternate (예비 당첨자): winners, then the
	// alternate, shown; the button gone for good.
	run(t, owner, "draw",
		chromedp.SetValue(chromedp.CSS("#alternate-count"), "1"),
		chromedp.Click(chromedp.CSS("#draw-open")),
		chromedp.WaitVisible(chromedp.CSS("#draw-confirm")),
		chromedp.Click(chromedp.CSS("#draw-confirm")))
	waitText(t, owner, "#draw-notice", "추첨이 완료되었습니다")
	waitJS(t, owner, "3 winners", `document.querySelectorAll("#winner-table tbody tr").length === 3`)
	waitText(t, owner, "#alternate-table tbody tr:first-child", "예비 1번")
	if n := eval[int](t, owner, `document.querySelectorAll("#alternate-table tbody tr").length`); n != 1 {
		t.Errorf("%d alternates shown, want 1", n)
	}
	if eval[bool](t, owner, `!!document.querySelector("#draw-open")`) {
		t.Error("the draw button is still there after the draw")
	}
	if n := app.eventsOfType("WinnersDrawn", eventID); n != 1 {
		t.Errorf("%d draws, want 1", n)
	}
	noRawPII(t, owner, rawName, rawPhone)

	// The winner filter shows the three. The winners table above came from
	// the draw's answer; the filter asks the participants model once, which
	// follows the store on its own consumer group.
	waitUntil(t, "the draw in the participants model", func() error {
		ans := app.call(http.MethodGet, participantsPath(eventID, "winner=true&size=1"), token(t, ownerA), nil)
		if ans.Status != http.StatusOK {
			return fmt.Errorf("GET participants → %d: %s", ans.Status, ans.Body)
		}
		if p := decode[participantPage](t, ans); p.TotalCount != 3 {
			return fmt.Errorf("%d winners listed, want 3", p.TotalCount)
		}
		return nil
	})
	eval[bool](t, owner, `(() => { const s = document.querySelector("#filter-winner"); s.value = "true"; s.dispatchEvent(new Event("change")); return true; })()`)
	waitText(t, owner, "#total-count", "3")
	if n := eval[int](t, owner, `[...document.querySelectorAll("#participant-rows tr")].filter((r) => r.lastChild.textContent === "당첨").length`); n != 3 {
		t.Errorf("%d rows marked 당첨 under the winner filter, want 3", n)
	}

	// 추첨 로그 and 검증, also after a reload (no draw button then either).
	run(t, owner, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#participant-rows")))
	waitJS(t, owner, "winners after reload", `document.querySelectorAll("#winner-table tbody tr").length === 3`)
	waitJS(t, owner, "the alternate after reload (the winners read model)", `document.querySelectorAll("#alternate-table tbody tr").length === 1`)
	if eval[bool](t, owner, `!!document.querySelector("#draw-open")`) {
		t.Error("a reload brought the draw button back")
	}
	run(t, owner, "verify", chromedp.WaitVisible(chromedp.CSS("#verify-draw")), chromedp.Click(chromedp.CSS("#verify-draw")))
	waitText(t, owner, "#verify-result", "일치합니다")
	// the draw log links the public certificate anyone can check
	if href := eval[string](t, owner, `document.querySelector("#certificate-link").getAttribute("href")`); href != "/p/"+eventID.String()+"/draw" {
		t.Errorf("the draw log's certificate link is %q, want /p/%s/draw", href, eventID)
	}
	waitText(t, owner, "#draw-log-list", "시드")
	waitText(t, owner, "#draw-log-list", "후보 머클 루트")
	waitText(t, owner, "#draw-log-list", "chacha8-weighted-merkle-v2")

	// The winners' contact reveal: the one place a raw name and phone show,
	// and each reveal is in the audit list.
	run(t, owner, "reveal a winner's contact",
		chromedp.Click(chromedp.CSS(`#winner-table tbody tr:first-child button`)))
	waitJS(t, owner, "the revealed phone", `/^010-\d{4}-\d{4}$/.test(document.querySelector("#winner-table tbody tr:first-child td:nth-child(4)").textContent)`)
	revealed := eval[string](t, owner, `document.querySelector("#winner-table tbody tr:first-child").dataset.entry`)
	waitText(t, owner, "#contact-reveals", "응모번호 "+revealed)

	// 내 이벤트: the campaigns read model has the campaign, drawn, with its count.
	// It is a consumer of its own and the page asks it once: wait for it first.
	waitUntil(t, "the campaign drawn with its 26 in the campaigns model", func() error {
		ans := app.call(http.MethodGet, "/api/v1/events", token(t, ownerA), nil)
		if ans.Status != http.StatusOK {
			return fmt.Errorf("GET /api/v1/events → %d: %s", ans.Status, ans.Body)
		}
		page := decode[struct {
			Events []struct {
				EventID          uuid.UUID `json:"eventId"`
				State            string    `json:"state"`
				ParticipantCount int64     `json:"participantCount"`
			} `json:"events"`
		}](t, ans)
		for _, e := range page.Events {
			if e.EventID == eventID {
				if e.State != "drawn" || e.ParticipantCount != 26 {
					return fmt.Errorf("campaign %s, %d participants; want drawn, 26", e.State, e.ParticipantCount)
				}
				return nil
			}
		}
		return fmt.Errorf("campaign %s not listed", eventID)
	})
	run(t, owner, "내 이벤트", chromedp.Evaluate[chromedp.Void](`location.hash = "#/"`), chromedp.WaitVisible(chromedp.CSS("#events")))
	waitText(t, owner, "#events", "오픈 기념 커피 이벤트")
	waitText(t, owner, "#events", "참여자 26명")
	waitText(t, owner, "#events", "추첨 완료")

	// Mobile first: the dashboard fits a 360 px phone too (the table scrolls
	// inside its box, the page does not).
	run(t, owner, "owner on a phone",
		chromedp.EmulateViewport(360, 800),
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/events/`+eventID.String()+`"`),
		chromedp.WaitVisible(chromedp.CSS("#participant-rows")))
	waitJS(t, owner, "winners on the phone", `document.querySelectorAll("#winner-table tbody tr").length === 3`)
	if w := eval[int](t, owner, "document.documentElement.scrollWidth"); w > 360 {
		t.Errorf("the dashboard is %d px wide on a 360 px screen", w)
	}

	// The customer page of a drawn campaign has no form.
	run(t, customer, "drawn campaign", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#unavailable")))
	waitText(t, customer, "#unavailable", "참여 기간이 아닙니다")

	// Another owner's token: 403 on this campaign's page.
	other := newTab(t, browserCtx)
	run(t, other, "another owner",
		chromedp.Navigate(app.url+"/owner/#token="+token(t, ownerB)),
		chromedp.WaitVisible(chromedp.CSS("#open-form")),
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/events/`+eventID.String()+`"`),
		chromedp.WaitVisible(chromedp.CSS("#denied")))
	waitText(t, other, "#denied", "이 이벤트에 대한 권한이 없습니다")
	if eval[bool](t, other, `!!document.querySelector("#participant-rows")`) {
		t.Error("another owner sees the participant table")
	}
}

// TestBrowserEdgeCases: an unknown or closed campaign gets a page, not a
// form; a token that stops working mid-session sends the owner to sign-in.
func TestBrowserEdgeCases(t *testing.T) {
	app := newTestApp(t)
	browserCtx := newBrowser(t)
	tab := newTab(t, browserCtx)

	// An unknown campaign: a real 404, with the page drawn by its script.
	for _, path := range []string{"/p/" + uuid.NewString(), "/p/not-a-campaign", "/p/" + uuid.NewString() + "/erase"} {
		if status := navigateStatus(t, tab, app.url+path); status != http.StatusNotFound {
			t.Errorf("GET %s → %d, want 404", path, status)
		}
		if strings.HasSuffix(path, "/erase") {
			continue
		}
		run(t, tab, "unknown campaign", chromedp.WaitVisible(chromedp.CSS("#unavailable")))
		waitText(t, tab, "#unavailable", "이벤트를 찾을 수 없습니다")
	}

	now := time.Now()
	closed := app.openCampaign(ownerA, window{now.Add(-48 * time.Hour), now.Add(-24 * time.Hour), now.Add(-time.Hour)})
	if status := navigateStatus(t, tab, app.url+"/p/"+closed.String()); status != http.StatusOK {
		t.Errorf("a known campaign's page → %d, want 200", status)
	}
	run(t, tab, "closed campaign", chromedp.WaitVisible(chromedp.CSS("#unavailable")))
	waitText(t, tab, "#unavailable", "참여 기간이 아닙니다")
	if eval[bool](t, tab, `!document.querySelector("#form-view").hidden`) {
		t.Error("a closed campaign shows the form")
	}

	// A form left open while the owner draws: the 409 says 참여 기간이 아닙니다.
	late := app.openCampaign(ownerA, openNow())
	app.register(late, "한가람", "010-5555-0101")
	run(t, tab, "form open before the draw",
		chromedp.Navigate(app.url+"/p/"+late.String()+"?from=OTHER"),
		chromedp.WaitVisible(chromedp.CSS("#form")))
	app.draw(ownerA, late, 1)
	run(t, tab, "submit after the draw",
		chromedp.SendKeys(chromedp.CSS("#name"), "윤슬기"),
		chromedp.SendKeys(chromedp.CSS("#phone"), "010-5555-0202"),
		chromedp.Click(chromedp.CSS(`label[for="consent"]`)),
		chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#unavailable")))
	waitText(t, tab, "#unavailable", "참여 기간이 아닙니다")

	// 내 정보 삭제 요청: a wrong entry number is refused, the right one erases.
	open := app.openCampaign(ownerA, openNow())
	reg := app.register(open, "박서연", "010-9753-1086")
	run(t, tab, "erase page",
		chromedp.Navigate(app.url+"/p/"+open.String()),
		chromedp.WaitVisible(chromedp.CSS("#form")),
		chromedp.Click(chromedp.CSS("#erase-link")),
		chromedp.WaitVisible(chromedp.CSS("#erase-form")),
		chromedp.SendKeys(chromedp.CSS("#phone"), "010-9753-1086"),
		chromedp.SendKeys(chromedp.CSS("#entryNumber"), unusedEntryNumber(reg.EntryNumber)),
		chromedp.Click(chromedp.CSS("#erase-submit")))
	waitText(t, tab, "#erase-notice", "일치하는 참여 정보가 없습니다")
	run(t, tab, "erase",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#entryNumber").value = ""`),
		chromedp.SendKeys(chromedp.CSS("#entryNumber"), reg.EntryNumber),
		chromedp.Click(chromedp.CSS("#erase-submit")),
		chromedp.WaitVisible(chromedp.CSS("#erased")))
	if n := app.eventsOfType("ParticipantErased", open); n != 1 {
		t.Errorf("%d ParticipantErased events, want 1", n)
	}

	run(t, tab, "sign in",
		chromedp.Navigate(app.url+"/owner/#token="+token(t, ownerA)),
		chromedp.WaitVisible(chromedp.CSS("#open-form")))
	// The session's token is swapped for one that expired an hour ago, as
	// if it had run out while the page was open: the next request is 401.
	expired, err := api.IssueToken(testJWTSecret, ownerA, time.Hour, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	eval[bool](t, tab, `(() => { sessionStorage.setItem("participation.ownerToken", `+jsString(expired)+`); return true; })()`)
	run(t, tab, "navigate with a dead token",
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/events/`+closed.String()+`"`),
		chromedp.WaitVisible(chromedp.CSS("#sign-in")))
	waitText(t, tab, "#sign-in-notice", "토큰을 다시 입력해주세요")
}

// navigateStatus navigates the tab and returns the page's HTTP status.
func navigateStatus(t *testing.T, tab context.Context, url string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserWait)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(url))
	if err != nil || resp == nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	return resp.Status
}

// noRawPII fails when the page's text holds a raw name or phone.
func noRawPII(t *testing.T, tab context.Context, name, phone string) {
	t.Helper()
	html := eval[string](t, tab, "document.documentElement.outerHTML")
	for _, raw := range []string{name, phone, strings.ReplaceAll(phone, "-", "")} {
		if strings.Contains(html, raw) {
			t.Errorf("the owner's page shows %q unmasked", raw)
		}
	}
}

func checkCSV(t *testing.T, files <-chan string, entry, rawName, rawPhone string) {
	t.Helper()
	var path string
	select {
	case path = <-files:
	case <-time.After(browserWait):
		t.Fatal("no CSV download finished")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
		t.Errorf("the CSV starts %q, want the UTF-8 BOM", b[:min(len(b), 8)])
	}
	lines := strings.Split(strings.TrimRight(string(b[3:]), "\r\n"), "\n")
	if !strings.HasPrefix(lines[0], "entryNumber,name,phone,entryPath") {
		t.Errorf("CSV header %q", lines[0])
	}
	if len(lines) != 27 {
		t.Errorf("CSV has %d lines, want a header and 26 rows", len(lines))
	}
	body := string(b)
	if !strings.Contains(body, entry) || !strings.Contains(body, "김**") || !strings.Contains(body, "010-****-1357") {
		t.Errorf("the CSV lacks the masked row of %s:\n%s", entry, body)
	}
	if strings.Contains(body, rawName) || strings.Contains(body, rawPhone) {
		t.Error("the CSV holds a raw name or phone")
	}
}

// koreanName is the i-th distinct name of letters only (names have no digits).
func koreanName(i int) string {
	letters := []rune("가나다라마바사아자차카타파하")
	return "이" + string(letters[i%len(letters)]) + string(letters[i/len(letters)%len(letters)])
}
