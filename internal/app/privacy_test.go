package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
)

const pgDump = "/usr/lib/postgresql/15/bin/pg_dump"

func erasePath(eventID uuid.UUID, entryNumber string) string {
	return "/api/v1/events/" + eventID.String() + "/participants/" + entryNumber
}

func contactPath(eventID uuid.UUID, entryNumber string) string {
	return "/api/v1/events/" + eventID.String() + "/winners/" + entryNumber + "/contact"
}

func (a *testApp) pgDump() string {
	a.t.Helper()
	if _, err := os.Stat(pgDump); err != nil {
		a.t.Fatalf("pg_dump: %v (the test needs PostgreSQL 15's client)", err)
	}
	out, err := exec.CommandContext(a.t.Context(), pgDump, "--no-owner", a.dbURL).Output()
	if err != nil {
		a.t.Fatalf("pg_dump: %v", err)
	}
	return string(out)
}

func (a *testApp) count(sql string, args ...any) int64 {
	a.t.Helper()
	var n int64
	if err := a.pool.QueryRow(a.t.Context(), sql, args...).Scan(&n); err != nil {
		a.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// A dump of a database with real registrations holds no name and no phone
// in clear, in any spelling.
func TestPgDumpHoldsNoPersonalData(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	stop := a.run()
	defer stop()
	eventID := a.openCampaign(ownerA, openNow())
	var regs []registered
	for i := range 6 {
		regs = append(regs, a.registerCustomer(eventID, aCustomer(i), ""))
	}
	a.drawWith(ownerA, eventID, map[string]any{"winnerCount": 2})
	if ans := a.call(http.MethodDelete, erasePath(eventID, regs[5].EntryNumber), token(t, ownerA), nil); ans.Status != http.StatusNoContent {
		t.Fatalf("erase → %d", ans.Status)
	}
	waitUntil(t, "the relay published everything", func() error {
		if a.count(`SELECT count(*) FROM checkpoints WHERE position >= $1`, a.head()) == 0 {
			return errors.New("not yet")
		}
		return nil
	})
	dump := a.pgDump()
	if !strings.Contains(dump, "pii_keys") || !strings.Contains(dump, regs[0].EntryNumber) {
		t.Fatalf("the dump lacks the tables it should hold (%d bytes)", len(dump))
	}
	for _, s := range secretsOf(customersOf(regs)) {
		if strings.Contains(dump, s) {
			t.Errorf("the dump holds %q in clear", s)
		}
	}
	// The topic: masked registrations, and an erasure that says only that it happened.
	erasures := 0
	for _, r := range wholeTopic(t, a.brokers, a.topic) {
		for _, s := range secretsOf(customersOf(regs)) {
			if strings.Contains(string(r.value), s) {
				t.Errorf("a %s message holds %q: %s", r.headers["event_type"], s, r.value)
			}
		}
		if r.headers["event_type"] == "ParticipantErased" {
			erasures++
			var keys map[string]any
			_ = json.Unmarshal(r.value, &keys)
			if len(keys) != 5 || keys["participantId"] != regs[5].ParticipantID.String() || keys["reason"] != "REQUEST" {
				t.Errorf("ParticipantErased message = %s, want participantId, eventId, reason, erasedAt, erasedBy only", r.value)
			}
		}
	}
	if erasures != 1 {
		t.Errorf("ParticipantErased messages = %d, want 1", erasures)
	}
}

func TestErasure(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	eventID, other := a.openCampaign(ownerA, openNow()), a.openCampaign(ownerA, openNow())
	alice, bob, carol := a.registerCustomer(eventID, aCustomer(0), ""), a.registerCustomer(eventID, aCustomer(1), ""), a.registerCustomer(eventID, aCustomer(2), "")
	a.registerCustomer(other, aCustomer(1), "") // bob in another campaign

	bad := []struct {
		name string
		body map[string]any
	}{
		{"wrong_phone", map[string]any{"eventId": eventID.String(), "phone": aCustomer(9).phone, "entryNumber": bob.EntryNumber}},
		{"someone_elses_entry_number", map[string]any{"eventId": eventID.String(), "phone": bob.customer.phone, "entryNumber": alice.EntryNumber}},
		{"unknown_entry_number", map[string]any{"eventId": eventID.String(), "phone": bob.customer.phone, "entryNumber": unusedEntryNumber(bob.EntryNumber)}},
		{"other_campaign", map[string]any{"eventId": uuid.New().String(), "phone": bob.customer.phone, "entryNumber": bob.EntryNumber}},
		{"right_pair_other_campaign", map[string]any{"eventId": other.String(), "phone": bob.customer.phone, "entryNumber": bob.EntryNumber}},
	}
	before, keys := a.eventCount(), a.count(`SELECT count(*) FROM pii_keys`)
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			ans := a.in(t).call(http.MethodPost, "/api/v1/participations/erase", "", tc.body)
			if ans.Status != http.StatusNotFound {
				t.Errorf("erase → %d, want 404: %s", ans.Status, ans.Body)
			}
		})
	}
	if got, gotKeys := a.eventCount(), a.count(`SELECT count(*) FROM pii_keys`); got != before || gotKeys != keys {
		t.Fatalf("after refused erasures: %d events, %d keys; want %d, %d (nothing changed)", got, gotKeys, before, keys)
	}

	ans := a.call(http.MethodPost, "/api/v1/participations/erase", "", map[string]any{
		"eventId": eventID.String(), "phone": strings.ReplaceAll(bob.customer.phone, "-", ""), "entryNumber": bob.EntryNumber})
	if ans.Status != http.StatusNoContent {
		t.Fatalf("customer erase → %d, want 204: %s", ans.Status, ans.Body)
	}
	if ans := a.call(http.MethodDelete, erasePath(eventID, carol.EntryNumber), token(t, ownerB), nil); ans.Status != http.StatusForbidden {
		t.Errorf("another owner's erase → %d, want 403", ans.Status)
	}
	if ans := a.call(http.MethodDelete, erasePath(eventID, carol.EntryNumber), token(t, ownerA), nil); ans.Status != http.StatusNoContent {
		t.Fatalf("owner erase → %d, want 204: %s", ans.Status, ans.Body)
	}
	if ans := a.call(http.MethodDelete, erasePath(eventID, carol.EntryNumber), token(t, ownerA), nil); ans.Status != http.StatusNoContent {
		t.Errorf("second erase → %d, want 204 (idempotent)", ans.Status)
	}
	if got := a.count(`SELECT count(*) FROM pii_keys WHERE participant_id = ANY($1)`, []uuid.UUID{bob.ParticipantID, carol.ParticipantID}); got != 0 {
		t.Errorf("erased participants' keys left: %d", got)
	}
	if got := a.eventsOfType("ParticipantErased", eventID); got != 2 {
		t.Errorf("ParticipantErased events = %d, want 2", got)
	}
	if ans := a.call(http.MethodPost, participationsPath, "", bob.customer.body(eventID)); ans.Status != http.StatusConflict {
		t.Errorf("re-registering an erased phone → %d, want 409", ans.Status)
	}
	if ans := a.call(http.MethodPost, visitPath(eventID, carol.EntryNumber), token(t, ownerA), nil); ans.Status != http.StatusNotFound {
		t.Errorf("visit of an erased participant → %d, want 404", ans.Status)
	}

	// The draw sees only alice; verify agrees.
	drawn := a.drawWith(ownerA, eventID, map[string]any{"winnerCount": 1})
	if len(drawn.Winners) != 1 || drawn.Winners[0].ParticipantID != alice.ParticipantID {
		t.Fatalf("winners = %+v, want only %s", drawn.Winners, alice.ParticipantID)
	}
	if d := a.winnersDrawn(eventID); d.CandidateCount != 1 {
		t.Errorf("candidateCount = %d, want 1 (erased participants are no candidates)", d.CandidateCount)
	}
	var v struct{ Verified bool }
	v = decode[struct{ Verified bool }](t, a.call(http.MethodGet, verifyPath(drawn.DrawLogID), token(t, ownerA), nil))
	if !v.Verified {
		t.Error("verify after erasures = false, want true")
	}

	// Erasing the winner after the draw: verify still reproduces the draw.
	if ans := a.call(http.MethodDelete, erasePath(eventID, alice.EntryNumber), token(t, ownerA), nil); ans.Status != http.StatusNoContent {
		t.Fatalf("erase the winner → %d", ans.Status)
	}
	if v = decode[struct{ Verified bool }](t, a.call(http.MethodGet, verifyPath(drawn.DrawLogID), token(t, ownerA), nil)); !v.Verified {
		t.Error("verify after erasing the winner = false, want true")
	}
	if ans := a.call(http.MethodPost, contactPath(eventID, alice.EntryNumber), token(t, ownerA), nil); ans.Status != http.StatusConflict ||
		errorOf(ans).Code != "PARTICIPANT_ERASED" {
		t.Errorf("contact of an erased winner → %d %s, want 409 PARTICIPANT_ERASED", ans.Status, ans.Body)
	}
}

func TestWinnerContactReveal(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	eventID := a.openCampaign(ownerA, openNow())
	regs := []registered{a.registerCustomer(eventID, aCustomer(3), ""), a.registerCustomer(eventID, aCustomer(4), "")}
	if ans := a.call(http.MethodPost, contactPath(eventID, regs[0].EntryNumber), token(t, ownerA), nil); ans.Status != http.StatusNotFound {
		t.Errorf("contact before the draw → %d, want 404", ans.Status)
	}
	drawn := a.drawWith(ownerA, eventID, map[string]any{"winnerCount": 1})
	winner, loser := regs[0], regs[1]
	if drawn.Winners[0].ParticipantID != winner.ParticipantID {
		winner, loser = loser, winner
	}
	if ans := a.call(http.MethodPost, contactPath(eventID, loser.EntryNumber), token(t, ownerA), nil); ans.Status != http.StatusNotFound ||
		errorOf(ans).Code != "WINNER_NOT_FOUND" {
		t.Errorf("contact of a non-winner → %d %s, want 404 WINNER_NOT_FOUND", ans.Status, ans.Body)
	}
	if ans := a.call(http.MethodPost, contactPath(eventID, winner.EntryNumber), token(t, ownerB), nil); ans.Status != http.StatusForbidden {
		t.Errorf("contact by another owner → %d, want 403", ans.Status)
	}
	ans := a.call(http.MethodPost, contactPath(eventID, winner.EntryNumber), token(t, ownerA), nil)
	if ans.Status != http.StatusOK {
		t.Fatalf("contact → %d: %s", ans.Status, ans.Body)
	}
	got := decode[struct{ Name, Phone string }](t, ans)
	wantPhone := "010-" + winner.customer.digits()[3:7] + "-" + winner.customer.digits()[7:]
	if got.Name != winner.customer.trimmedName() || got.Phone != wantPhone {
		t.Errorf("contact = %q %q, want %q %q", got.Name, got.Phone, winner.customer.trimmedName(), wantPhone)
	}
	list := decode[struct {
		Reveals []struct {
			EntryNumber, RevealedBy string
			RevealedAt              time.Time
		}
	}](t, a.call(http.MethodGet, "/api/v1/events/"+eventID.String()+"/contact-reveals", token(t, ownerA), nil))
	if len(list.Reveals) != 1 || list.Reveals[0].EntryNumber != winner.EntryNumber || list.Reveals[0].RevealedBy != ownerA {
		t.Errorf("contact reveals = %+v, want one by %s of %s", list.Reveals, ownerA, winner.EntryNumber)
	}
}

// Retention runs against a moved clock, never a sleep.
func TestRetention(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	w := openNow()
	eventID := a.openCampaign(ownerA, w)
	var regs []registered
	for i := range 4 {
		regs = append(regs, a.registerCustomer(eventID, aCustomer(10+i), ""))
	}
	drawn := a.drawWith(ownerA, eventID, map[string]any{"winnerCount": 1})
	run := func(at time.Time, dry bool) commands.RetentionReport {
		t.Helper()
		r, err := a.svc.commands.Commands.RunRetention.Handle(t.Context(), commands.RunRetention{Now: at, NonWinners: 168 * time.Hour, Winners: 2160 * time.Hour, DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// keys: participants' data keys left; campaignKeys: the campaign's key
	// left, destroyed once the last retention (the winners') has passed.
	tests := []struct {
		name               string
		at                 time.Time
		dry                bool
		want               commands.RetentionReport
		keys, campaignKeys int64
	}{
		{"before_announce_nothing_is_due", w.announceAt, false, commands.RetentionReport{}, 4, 1},
		{"dry_run_counts_and_erases_nothing", w.announceAt.Add(168 * time.Hour), true, commands.RetentionReport{Campaigns: 1, Due: 3}, 4, 1},
		{"non_winners_after_a_week", w.announceAt.Add(168 * time.Hour), false, commands.RetentionReport{Campaigns: 1, Due: 3, Erased: 3}, 1, 1},
		{"again_erases_nothing_more", w.announceAt.Add(169 * time.Hour), false, commands.RetentionReport{Campaigns: 1}, 1, 1},
		{"winners_after_90_days_and_the_campaign_key", w.announceAt.Add(2160 * time.Hour), false, commands.RetentionReport{Campaigns: 1, Due: 1, Erased: 1, KeysDestroyed: 1}, 0, 0},
		{"then_nothing_more", w.announceAt.Add(2161 * time.Hour), false, commands.RetentionReport{Campaigns: 1}, 0, 0},
	}
	for _, tc := range tests {
		if got := run(tc.at, tc.dry); got != tc.want {
			t.Errorf("%s: report = %+v, want %+v", tc.name, got, tc.want)
		}
		if got := a.count(`SELECT count(*) FROM pii_keys`); got != tc.keys {
			t.Errorf("%s: %d keys left, want %d", tc.name, got, tc.keys)
		}
		if got := a.count(`SELECT count(*) FROM campaign_keys`); got != tc.campaignKeys {
			t.Errorf("%s: %d campaign keys left, want %d", tc.name, got, tc.campaignKeys)
		}
	}
	if got := a.count(`SELECT count(*) FROM events WHERE type = 'ParticipantErased' AND data->>'reason' = 'RETENTION'`); got != 4 {
		t.Errorf("retention erasures = %d, want 4", got)
	}
	// The campaign's key gone, a phone links to nothing: the customer's
	// erasure answers as for an unknown registration.
	if ans := a.call(http.MethodPost, "/api/v1/participations/erase", "", map[string]any{
		"eventId": eventID.String(), "phone": regs[0].customer.phone, "entryNumber": regs[0].EntryNumber}); ans.Status != http.StatusNotFound {
		t.Errorf("erase by phone after the campaign key's end → %d, want 404: %s", ans.Status, ans.Body)
	}
	_ = drawn
}

// After an erasure the read models keep the participant, flagged, without
// name or phone; totals stay; a rebuild from the store agrees.
func TestErasureInTheReadModels(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	stop := a.run()
	defer stop()
	owner := a.ownerView(ownerA)
	eventID := a.openCampaign(ownerA, openNow())
	var regs []registered
	for i := range 4 {
		regs = append(regs, a.registerCustomer(eventID, aCustomer(20+i), ""))
	}
	a.visit(eventID, regs[1].EntryNumber, "")
	a.drawWith(ownerA, eventID, map[string]any{"winnerCount": 4}) // everyone wins: the erased one too
	waitUntil(t, "four participants listed", func() error {
		if _, total := owner.allParticipants(eventID, nil, 100); total != 4 {
			return fmt.Errorf("%d listed", total)
		}
		return nil
	})
	if ans := a.call(http.MethodPost, "/api/v1/participations/erase", "", map[string]any{
		"eventId": eventID.String(), "phone": regs[1].customer.phone, "entryNumber": regs[1].EntryNumber}); ans.Status != http.StatusNoContent {
		t.Fatalf("erase → %d: %s", ans.Status, ans.Body)
	}
	var erased listedParticipant
	waitUntil(t, "the erasure in the list", func() error {
		rows, _ := owner.allParticipants(eventID, nil, 100)
		for _, r := range rows {
			if r.ParticipantID == regs[1].ParticipantID {
				erased = r
			}
		}
		if !erased.Erased {
			return errors.New("not flagged yet")
		}
		return nil
	})
	if erased.Name != "" || erased.Phone != "" || !erased.StoreVisited || erased.EntryNumber != regs[1].EntryNumber {
		t.Errorf("erased row = %+v, want empty name and phone, its visit and entry number kept", erased)
	}
	rows, total := owner.allParticipants(eventID, nil, 100)
	if total != 4 || len(rows) != 4 {
		t.Errorf("listed %d of %d, want 4 (an erased participant still counts)", len(rows), total)
	}
	// Analytics is a consumer of its own: it may still be behind the list.
	waitUntil(t, "analytics with every participant and the visit", func() error {
		an := readJSON[analyticsView](owner, analyticsPath(eventID))
		if an.TotalParticipants != 4 || an.StoreVisits != 1 {
			return fmt.Errorf("analytics = %d participants, %d visits; want 4, 1 (an erased participant still counts)", an.TotalParticipants, an.StoreVisits)
		}
		return nil
	})
	csv := string(owner.get(csvPath(eventID)).Body)
	if !strings.Contains(csv, ",erased\n") || !strings.Contains(csv, regs[1].EntryNumber+",,,") || !strings.Contains(csv, ",true\n") {
		t.Errorf("CSV does not show the erased row flagged and empty:\n%s", csv)
	}
	for _, s := range regs[1].customer.secrets() {
		if strings.Contains(csv, s) {
			t.Errorf("CSV holds %q of the erased participant", s)
		}
	}
	waitUntil(t, "the erasure in the winners", func() error {
		for _, w := range readJSON[winnerList](owner, winnersPath(eventID)).Winners {
			if w.ParticipantID == regs[1].ParticipantID {
				if w.Name != "" || w.Phone != "" {
					return fmt.Errorf("erased winner listed as %q %q", w.Name, w.Phone)
				}
				return nil
			}
		}
		return errors.New("the erased winner is not listed")
	})
	assertReadModelsMatchRebuild(t, a.pool)
}
