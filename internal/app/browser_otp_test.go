package app

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// typeCode replaces the 인증번호 field's text, as a customer types it.
func typeCode(code string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, target *chromedp.Target) (chromedp.Void, error) {
		if _, err := chromedp.Evaluate[bool](`(document.querySelector("#verificationCode").value = "") === ""`)(ctx, target); err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.SendKeys(chromedp.CSS("#verificationCode"), code)(ctx, target)
	}
}

// The customer page's 인증번호 step with PHONE_VERIFICATION=otp, against the
// real service and its movable clock: 참여하기 without a code says why next
// to the field and sends nothing; 인증번호 받기 sends a code and counts 60 s
// down; a wrong code and an expired one (the server's clock moved 3
// minutes) are refused next to the field; once the countdown is over (the
// page's clock moved too) a resend sends a new code, which registers.
func TestBrowserPhoneVerificationStep(t *testing.T) {
	app, clock, inbox := otpApp(t)
	tab := newTab(t, newBrowser(t))
	eventID := app.openCampaign(ownerA, openNow())
	const phone = "010-2468-1357"
	requests := logRequests(tab)
	run(t, tab, "open the customer page",
		chromedp.Navigate(app.url+"/p/"+eventID.String()+"?from=KAKAO"),
		chromedp.WaitVisible(chromedp.CSS("#form")),
		chromedp.WaitVisible(chromedp.CSS("#verificationCode")))
	if got := eval[string](t, tab, `document.querySelector("label[for=verificationCode]").textContent`); got != "인증번호" {
		t.Fatalf("the code's label is %q, want 인증번호", got)
	}
	run(t, tab, "fill the form, no code",
		chromedp.SendKeys(chromedp.CSS("#name"), "정인증"),
		chromedp.SendKeys(chromedp.CSS("#phone"), phone),
		chromedp.Click(chromedp.CSS(`label[for="consent"]`)),
		chromedp.Click(chromedp.CSS("#submit")))
	waitText(t, tab, "#verificationCode-error", "인증번호 받기를 눌러 인증번호를 받아주세요.")
	if n := len(requests.matching("/api/v1/participations")); n != 0 {
		t.Fatalf("%d requests sent without a code, want none", n)
	}

	run(t, tab, "ask for a code", chromedp.Click(chromedp.CSS("#otp-send")))
	waitText(t, tab, "#verificationCode-status", "인증번호를 보냈습니다")
	waitText(t, tab, "#otp-send", "다시 받기 (")
	if !eval[bool](t, tab, `document.querySelector("#otp-send").disabled`) {
		t.Fatal("the resend button is enabled during the countdown")
	}
	first := inbox.code(t, phone)
	wrong := "000000"
	if first == wrong {
		wrong = "999999"
	}

	run(t, tab, "a wrong code", typeCode(wrong), chromedp.Click(chromedp.CSS("#submit")))
	waitText(t, tab, "#verificationCode-error", "인증번호가 맞지 않거나 만료되었습니다")

	clock.set(clock.now().Add(3 * time.Minute))
	run(t, tab, "the right code, expired", typeCode(first))
	waitJS(t, tab, "the error cleared by a well-formed code", `document.querySelector("#verificationCode-error").textContent === ""`)
	run(t, tab, "send the expired code", chromedp.Click(chromedp.CSS("#submit")))
	waitText(t, tab, "#verificationCode-error", "인증번호가 맞지 않거나 만료되었습니다")
	if n := app.eventsOfType("ParticipantRegistered", eventID); n != 0 {
		t.Fatalf("%d registrations after refused codes, want 0", n)
	}

	// The page's own clock passes the countdown, as the server's has.
	eval[bool](t, tab, `(() => { const real = Date.now.bind(Date); Date.now = () => real() + 61000; return true; })()`)
	waitText(t, tab, "#otp-send", "인증번호 다시 받기")
	sent := inbox.count()
	run(t, tab, "resend", chromedp.Click(chromedp.CSS("#otp-send")))
	waitJS(t, tab, "the countdown again", `document.querySelector("#otp-send").textContent.startsWith("다시 받기 (")`)
	if inbox.count() != sent+1 {
		t.Fatalf("messages after the resend = %d, want %d", inbox.count(), sent+1)
	}
	second := inbox.code(t, phone)

	run(t, tab, "the new code", typeCode(second), chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#success")))
	if entry := eval[string](t, tab, `document.querySelector("#entry-number").textContent`); !entryNumberShape.MatchString(entry) {
		t.Fatalf("entry number %q", entry)
	}
	if n := app.eventsOfType("ParticipantRegistered", eventID); n != 1 {
		t.Fatalf("%d registrations, want 1", n)
	}
	for _, r := range requests.matching("/api/v1/participations") {
		if strings.Contains(r, phone) || strings.Contains(r, first) {
			t.Errorf("a request URL carries the phone or a code: %s", r)
		}
	}
}

// The erase page asks for the code too, and erases with a fresh one.
func TestBrowserPhoneVerificationErase(t *testing.T) {
	app, clock, inbox := otpApp(t)
	tab := newTab(t, newBrowser(t))
	eventID := app.openCampaign(ownerA, openNow())
	const phone = "010-1357-2468"
	if ans := app.askCode(eventID, phone); ans.Status != http.StatusAccepted {
		t.Fatalf("ask → %d %s", ans.Status, ans.Body)
	}
	ans := app.call(http.MethodPost, "/api/v1/participations", "", withCode(registrationBody(eventID, "하지움", phone, "KAKAO"), inbox.code(t, phone)))
	if ans.Status != http.StatusCreated {
		t.Fatalf("register → %d %s", ans.Status, ans.Body)
	}
	entry := decode[registrationJSON](t, ans).EntryNumber
	clock.set(clock.now().Add(time.Minute)) // past the registration code's resend limit
	run(t, tab, "erase without a code",
		chromedp.Navigate(app.url+"/p/"+eventID.String()+"/erase"),
		chromedp.WaitVisible(chromedp.CSS("#verificationCode")),
		chromedp.SendKeys(chromedp.CSS("#phone"), phone),
		chromedp.SendKeys(chromedp.CSS("#entryNumber"), entry),
		chromedp.Click(chromedp.CSS("#erase-submit")))
	waitText(t, tab, "#verificationCode-error", "인증번호 받기를 눌러 인증번호를 받아주세요.")
	run(t, tab, "ask for a code", chromedp.Click(chromedp.CSS("#otp-send")))
	waitText(t, tab, "#verificationCode-status", "인증번호를 보냈습니다")
	run(t, tab, "erase with it", typeCode(inbox.code(t, phone)), chromedp.Click(chromedp.CSS("#erase-submit")),
		chromedp.WaitVisible(chromedp.CSS("#erased")))
	if n := app.eventsOfType("ParticipantErased", eventID); n != 1 {
		t.Fatalf("%d ParticipantErased events, want 1", n)
	}
}

// The result page's claim form asks a winner for a code sent to the phone
// of the 당첨 확인 form, and claims with it.
func TestBrowserPhoneVerificationClaim(t *testing.T) {
	app, clock, inbox := otpApp(t)
	app.run()
	tab := newTab(t, newBrowser(t))
	w := openNow()
	eventID := app.openCampaign(ownerA, w)
	const phone = "010-8642-9753"
	if ans := app.askCode(eventID, phone); ans.Status != http.StatusAccepted {
		t.Fatalf("ask → %d %s", ans.Status, ans.Body)
	}
	ans := app.call(http.MethodPost, "/api/v1/participations", "", withCode(registrationBody(eventID, "한당첨", phone, "KAKAO"), inbox.code(t, phone)))
	if ans.Status != http.StatusCreated {
		t.Fatalf("register → %d %s", ans.Status, ans.Body)
	}
	entry := decode[registrationJSON](t, ans).EntryNumber
	app.drawWith(ownerA, eventID, map[string]any{"winnerCount": 1})
	clock.set(w.announceAt)
	// the page lists the winners from the read model: until the projector
	// has the draw it says 아직 추첨 전입니다 and shows no form
	waitUntil(t, "the winner in the read model", func() error {
		if r := decode[resultJSON](t, app.call(http.MethodGet, resultPath(eventID), "", nil)); len(r.Winners) == 0 {
			return errors.New("no winner listed yet")
		}
		return nil
	})
	run(t, tab, "당첨 확인",
		chromedp.Navigate(app.url+"/p/"+eventID.String()+"/result"),
		chromedp.WaitVisible(chromedp.CSS("#check-form")),
		chromedp.SendKeys(chromedp.CSS("#phone"), phone),
		chromedp.SendKeys(chromedp.CSS("#entryNumber"), entry),
		chromedp.Click(chromedp.CSS("#check-submit")))
	waitText(t, tab, "#outcome-title", "당첨되셨습니다")
	waitJS(t, tab, "the claim form with its 인증번호 step",
		`!document.querySelector("#claim-form").hidden && !document.querySelector("#otp").hidden`)
	run(t, tab, "경품 수령 신청 without a code",
		chromedp.SendKeys(chromedp.CSS("#recipientName"), "한당첨"),
		chromedp.SendKeys(chromedp.CSS("#postcode"), "06236"),
		chromedp.SendKeys(chromedp.CSS("#address1"), "서울특별시 강남구 테헤란로 123"),
		chromedp.Click(chromedp.CSS("#deliveryConsent")),
		chromedp.Click(chromedp.CSS("#claim-submit")))
	waitText(t, tab, "#verificationCode-error", "인증번호 받기를 눌러 인증번호를 받아주세요.")
	run(t, tab, "ask for a code", chromedp.Click(chromedp.CSS("#otp-send")))
	waitText(t, tab, "#verificationCode-status", "인증번호를 보냈습니다")
	run(t, tab, "claim with it", typeCode(inbox.code(t, phone)), chromedp.Click(chromedp.CSS("#claim-submit")))
	waitText(t, tab, "#outcome-claim", "경품 수령 신청이 완료되었습니다.")
	if n := app.eventsOfType("PrizeClaimed", eventID); n != 1 {
		t.Fatalf("%d PrizeClaimed events, want 1", n)
	}
}
