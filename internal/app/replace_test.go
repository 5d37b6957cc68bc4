package app

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/domain"
)

func replacePath(eventID uuid.UUID, entry string) string {
	return "/api/v1/events/" + eventID.String() + "/winners/" + entry + "/replace"
}

type replacementJSON struct {
	Rank   int `json:"rank"`
	Winner struct {
		Rank          int       `json:"rank"`
		EntryNumber   string    `json:"entryNumber"`
		Name          string    `json:"name"`
		AlternateRank int       `json:"alternateRank"`
		ClaimDeadline time.Time `json:"claimDeadline"`
	} `json:"winner"`
	Replaced struct {
		EntryNumber string `json:"entryNumber"`
		Reason      string `json:"reason"`
	} `json:"replaced"`
}

// replaceFixture is a campaign of six drawn with two winners and two
// alternates, on a movable clock.
type replaceFixture struct {
	a        *testApp
	clock    *movableClock
	w        window
	eventID  uuid.UUID
	drawLog  uuid.UUID
	win, alt []registered // by rank
	loser    registered
}

func newReplaceFixture(t *testing.T) replaceFixture {
	t.Helper()
	f := replaceFixture{clock: &movableClock{}, w: openNow()}
	f.clock.set(time.Now())
	f.a = newTestAppWith(t, appSetup{Clock: f.clock.now})
	f.a.run()
	f.eventID = f.a.openCampaign(ownerA, f.w)
	byEntry := map[string]registered{}
	for i := range 6 {
		r := f.a.registerCustomer(f.eventID, aCustomer(i), "")
		byEntry[r.EntryNumber] = r
	}
	ans := f.a.call(http.MethodPost, drawPath(f.eventID), f.token(t, ownerA), map[string]any{"winnerCount": 2, "alternateCount": 2})
	if ans.Status != http.StatusOK {
		t.Fatalf("draw → %d: %s", ans.Status, ans.Body)
	}
	d := decode[struct {
		DrawLogID  uuid.UUID        `json:"drawLogId"`
		Winners    []drawnEntryJSON `json:"winners"`
		Alternates []drawnEntryJSON `json:"alternates"`
	}](t, ans)
	f.drawLog = d.DrawLogID
	for _, e := range d.Winners {
		f.win = append(f.win, byEntry[e.EntryNumber])
		delete(byEntry, e.EntryNumber)
	}
	for _, e := range d.Alternates {
		f.alt = append(f.alt, byEntry[e.EntryNumber])
		delete(byEntry, e.EntryNumber)
	}
	for _, r := range byEntry {
		f.loser = r
	}
	return f
}

// token is an owner token valid at the fixture's clock.
func (f replaceFixture) token(t *testing.T, owner string) string {
	t.Helper()
	tok, err := api.IssueToken(testJWTSecret, owner, time.Hour, f.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f replaceFixture) replace(t *testing.T, entry, reason string) answer {
	t.Helper()
	return f.a.call(http.MethodPost, replacePath(f.eventID, entry), f.token(t, ownerA), map[string]any{"reason": reason})
}

func (f replaceFixture) check(t *testing.T, r registered) checkAnswer {
	t.Helper()
	ans := f.a.call(http.MethodPost, "/api/v1/events/"+f.eventID.String()+"/result/check", "",
		map[string]any{"phone": r.customer.phone, "entryNumber": r.EntryNumber})
	if ans.Status != http.StatusOK {
		t.Fatalf("당첨 확인 of %s → %d %s", r.EntryNumber, ans.Status, ans.Body)
	}
	return decode[checkAnswer](t, ans)
}

func expectCode(t *testing.T, name string, ans answer, status int, code string) {
	t.Helper()
	if ans.Status != status || errorOf(ans).Code != code {
		t.Errorf("%s → %d %s, want %d %s", name, ans.Status, ans.Body, status, code)
	}
}

// 교체 end to end with the clock moved: UNCLAIMED too early is
// CLAIM_STILL_OPEN; after the deadline the first alternate takes the rank
// with a window of its own, checks WON and claims, while the replaced
// entry checks REPLACED and cannot claim; DECLINED of a claimed winner
// takes the second alternate; then NO_ALTERNATE. The public result, the
// owner's list and the certificate show it; verify and verify-public
// agree; a rebuild gives the same winners.
func TestReplaceWinner(t *testing.T) {
	t.Parallel()
	f := newReplaceFixture(t)
	a, w := f.a, f.w
	claim := func(r registered) answer { return a.call(http.MethodPost, claimPath(f.eventID), "", deliveryFor(r)) }

	clock := f.clock
	clock.set(w.announceAt)
	expectCode(t, "unclaimed before the deadline", f.replace(t, f.win[0].EntryNumber, "UNCLAIMED"), http.StatusConflict, "CLAIM_STILL_OPEN")
	expectCode(t, "erased of a winner not erased", f.replace(t, f.win[0].EntryNumber, "ERASED"), http.StatusConflict, "NOT_ERASED")
	expectCode(t, "an alternate", f.replace(t, f.alt[0].EntryNumber, "DECLINED"), http.StatusNotFound, "WINNER_NOT_FOUND")
	expectCode(t, "an unknown reason", f.replace(t, f.win[0].EntryNumber, "BORED"), http.StatusBadRequest, "INVALID_REQUEST")
	expectCode(t, "another owner", a.call(http.MethodPost, replacePath(f.eventID, f.win[0].EntryNumber), f.token(t, ownerB),
		map[string]any{"reason": "DECLINED"}), http.StatusForbidden, "FORBIDDEN")
	if ans := claim(f.win[1]); ans.Status != http.StatusCreated {
		t.Fatalf("winner 2's claim → %d %s", ans.Status, ans.Body)
	}

	after := w.announceAt.Add(7*24*time.Hour + time.Hour)
	clock.set(after)
	expectCode(t, "unclaimed of a claimed winner", f.replace(t, f.win[1].EntryNumber, "UNCLAIMED"), http.StatusConflict, "ALREADY_CLAIMED")
	ans := f.replace(t, f.win[0].EntryNumber, "UNCLAIMED")
	expectOK(t, "unclaimed after the deadline", ans)
	got := decode[replacementJSON](t, ans)
	own := after.Add(7 * 24 * time.Hour)
	if got.Rank != 1 || got.Winner.Rank != 1 || got.Winner.EntryNumber != f.alt[0].EntryNumber || got.Winner.AlternateRank != 1 ||
		!got.Winner.ClaimDeadline.Equal(own) || got.Winner.Name != domain.MaskName(f.alt[0].customer.trimmedName()) ||
		got.Replaced.EntryNumber != f.win[0].EntryNumber || got.Replaced.Reason != "UNCLAIMED" {
		t.Errorf("replacement %s, want alternate 1 %s at rank 1 until %v", ans.Body, f.alt[0].EntryNumber, own)
	}
	expectCode(t, "the replaced entry again", f.replace(t, f.win[0].EntryNumber, "DECLINED"), http.StatusConflict, "ALREADY_REPLACED")

	if c := f.check(t, f.win[0]); c.Outcome != "REPLACED" || c.Rank != 1 || c.Reason != "UNCLAIMED" || c.Claim != nil {
		t.Errorf("당첨 확인 of the replaced winner: %+v, want REPLACED rank 1 UNCLAIMED", c)
	}
	if c := f.check(t, f.alt[0]); c.Outcome != "WON" || c.Rank != 1 || c.Claim == nil || c.Claim.State != "OPEN" || !c.Claim.Deadline.Equal(own) {
		t.Errorf("당첨 확인 of the promoted alternate: %+v, want WON rank 1 OPEN until %v", c, own)
	}
	if c := f.check(t, f.alt[1]); c.Outcome != "ALTERNATE" || c.Rank != 2 {
		t.Errorf("당첨 확인 of alternate 2: %+v, want ALTERNATE 2", c)
	}
	expectCode(t, "the replaced winner's claim", claim(f.win[0]), http.StatusNotFound, "PARTICIPANT_NOT_FOUND")
	if ans := claim(f.alt[0]); ans.Status != http.StatusCreated {
		t.Fatalf("the promoted alternate's claim → %d %s", ans.Status, ans.Body)
	}

	// a claimed winner may decline: the second alternate takes rank 2
	ans = f.replace(t, f.win[1].EntryNumber, "DECLINED")
	expectOK(t, "declined", ans)
	if got := decode[replacementJSON](t, ans); got.Winner.EntryNumber != f.alt[1].EntryNumber || got.Winner.AlternateRank != 2 || got.Rank != 2 {
		t.Errorf("second replacement %s, want alternate 2 at rank 2", ans.Body)
	}
	expectCode(t, "no alternate left", f.replace(t, f.alt[0].EntryNumber, "INELIGIBLE"), http.StatusConflict, "NO_ALTERNATE")

	type listed struct {
		Rank                 int
		Entry, State, Reason string
	}
	masked := func(r registered) string { return r.EntryNumber[:4] + "-****" }
	want := []listed{{1, masked(f.win[0]), "REPLACED", "UNCLAIMED"}, {1, masked(f.alt[0]), "WINNER", ""},
		{2, masked(f.win[1]), "REPLACED", "DECLINED"}, {2, masked(f.alt[1]), "WINNER", ""}}
	waitUntil(t, "the public result with the replacements", func() error {
		r := decode[resultJSON](t, a.call(http.MethodGet, resultPath(f.eventID), "", nil))
		var rows []listed
		for _, x := range r.Winners {
			rows = append(rows, listed{x.Rank, x.EntryNumber, x.State, x.Reason})
		}
		if diff := cmp.Diff(want, rows); diff != "" {
			return fmt.Errorf("result (-want +got):\n%s", diff)
		}
		return nil
	})
	f.ownerListShowsReplacements(t)
	waitUntil(t, "the promoted alternates among the participants' winners", func() error {
		page := decode[struct {
			Participants []struct {
				EntryNumber string `json:"entryNumber"`
			} `json:"participants"`
		}](t, a.call(http.MethodGet, "/api/v1/events/"+f.eventID.String()+"/participants?winner=true", f.token(t, ownerA), nil))
		var got []string
		for _, p := range page.Participants {
			got = append(got, p.EntryNumber)
		}
		for _, r := range slices.Concat(f.win, f.alt) {
			if !slices.Contains(got, r.EntryNumber) {
				return fmt.Errorf("winner filter lists %v, not %s", got, r.EntryNumber)
			}
		}
		return nil
	})
	f.certificateAndVerifyAgree(t)
	assertReadModelsMatchRebuild(t, a.pool)
}

// ownerListShowsReplacements checks the owner's winners list after
// TestReplaceWinner's two replacements.
func (f replaceFixture) ownerListShowsReplacements(t *testing.T) {
	t.Helper()
	type row struct {
		Entry, State, Reason              string
		Rank, AlternateRank, PromotedRank int
	}
	type list struct {
		Winners []struct {
			EntryNumber                       string
			State, Reason                     string
			Rank, AlternateRank, PromotedRank int
		}
		Alternates []struct {
			EntryNumber                       string
			State, Reason                     string
			Rank, AlternateRank, PromotedRank int
		}
	}
	wantW := []row{{f.win[0].EntryNumber, "REPLACED", "UNCLAIMED", 1, 0, 0}, {f.alt[0].EntryNumber, "WINNER", "", 1, 1, 0},
		{f.win[1].EntryNumber, "REPLACED", "DECLINED", 2, 0, 0}, {f.alt[1].EntryNumber, "WINNER", "", 2, 2, 0}}
	wantA := []row{{f.alt[0].EntryNumber, "", "", 1, 0, 1}, {f.alt[1].EntryNumber, "", "", 2, 0, 2}}
	waitUntil(t, "the owner's winners with the replacements", func() error {
		ans := f.a.call(http.MethodGet, "/api/v1/events/"+f.eventID.String()+"/winners", f.token(t, ownerA), nil)
		l := decode[list](t, ans)
		var ws, as []row
		for _, x := range l.Winners {
			ws = append(ws, row{x.EntryNumber, x.State, x.Reason, x.Rank, x.AlternateRank, x.PromotedRank})
		}
		for _, x := range l.Alternates {
			as = append(as, row{x.EntryNumber, x.State, x.Reason, x.Rank, x.AlternateRank, x.PromotedRank})
		}
		if diff := cmp.Diff(wantW, ws); diff != "" {
			return fmt.Errorf("owner's winners (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantA, as); diff != "" {
			return fmt.Errorf("owner's alternates (-want +got):\n%s", diff)
		}
		return nil
	})
}

// expectOK fails unless ans is 200.
func expectOK(t *testing.T, name string, ans answer) {
	t.Helper()
	if ans.Status != http.StatusOK {
		t.Fatalf("%s → %d %s, want 200", name, ans.Status, ans.Body)
	}
}
