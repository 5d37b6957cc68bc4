package app

// Concurrency on the command side, tested with concurrency: one phone
// registering many times at once, draws racing draws, registrations racing a draw.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
)

func TestConcurrentRegistrationsOfOnePhone(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	eventID := a.openCampaign(ownerA, openNow())
	spellings := []string{"010-5555-0001", "01055550001", "010 5555 0001"}
	names := []string{"김철수", "이영희", "박민수", "최지우"}
	paths := []string{"INSTAGRAM", "kakao", "STORE_QR", "Naver_Blog", "RINGO_BIZ"}

	const n = 100
	answers := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			ans, err := a.try(http.MethodPost, participationsPath, "",
				registrationBody(eventID, names[i%len(names)], spellings[i%len(spellings)], paths[i%len(paths)]))
			if err != nil {
				t.Error(err)
			}
			answers[i] = ans
		})
	}
	close(start)
	wg.Wait()

	var created, duplicates int
	for i, ans := range answers {
		switch e := errorOf(ans); {
		case ans.Status == http.StatusCreated:
			created++
		case ans.Status == http.StatusConflict && e.Code == "ALREADY_PARTICIPATED" && e.Message == alreadyParticipated:
			duplicates++
		default:
			t.Errorf("registration %d: %d %s, want 201 or 409 ALREADY_PARTICIPATED", i, ans.Status, ans.Body)
		}
	}
	if got, want := created, 1; got != want {
		t.Errorf("registrations answered 201 = %d, want %d", got, want)
	}
	if got, want := duplicates, n-1; got != want {
		t.Errorf("registrations answered 409 ALREADY_PARTICIPATED = %d, want %d", got, want)
	}
	if got, want := a.eventsOfType("ParticipantRegistered", eventID), int64(1); got != want {
		t.Errorf("ParticipantRegistered events stored = %d, want %d", got, want)
	}
	if got, want := a.eventCount(), int64(2); got != want {
		t.Errorf("events stored = %d, want %d (the campaign and one registration)", got, want)
	}
}

func TestConcurrentDraws(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	eventID := a.openCampaign(ownerA, openNow())
	for i := range 5 {
		a.register(eventID, "김철수", phoneNumber(i))
	}
	ownerToken := token(t, ownerA)

	const n = 10
	answers := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			ans, err := a.try(http.MethodPost, drawPath(eventID), ownerToken, map[string]any{"winnerCount": 1 + i%3})
			if err != nil {
				t.Error(err)
			}
			answers[i] = ans
		})
	}
	close(start)
	wg.Wait()

	var drawn []drawJSON
	var already int
	for i, ans := range answers {
		switch {
		case ans.Status == http.StatusOK:
			drawn = append(drawn, decode[drawJSON](t, ans))
		case ans.Status == http.StatusConflict && errorOf(ans).Code == "ALREADY_DRAWN":
			already++
		default:
			t.Errorf("draw %d: %d %s, want 200 or 409 ALREADY_DRAWN", i, ans.Status, ans.Body)
		}
	}
	if got, want := len(drawn), 1; got != want {
		t.Fatalf("draws answered 200 = %d, want %d", got, want)
	}
	if got, want := already, n-1; got != want {
		t.Errorf("draws answered 409 ALREADY_DRAWN = %d, want %d", got, want)
	}
	if got, want := a.eventsOfType("WinnersDrawn", eventID), int64(1); got != want {
		t.Errorf("WinnersDrawn events stored = %d, want %d", got, want)
	}
	if got, want := a.eventCount(), int64(1+5+2); got != want {
		t.Errorf("events stored = %d, want %d (the campaign, 5 registrations, one draw's commit and result)", got, want)
	}
	if got, want := a.winnersDrawn(eventID).DrawID, drawn[0].DrawLogID; got != want {
		t.Errorf("stored drawId = %s, want the answered %s", got, want)
	}
	ans := a.call(http.MethodGet, verifyPath(drawn[0].DrawLogID), ownerToken, nil)
	if v := decode[verificationJSON](t, ans); ans.Status != http.StatusOK || !v.Verified {
		t.Errorf("verify the winning draw: %d %s, want 200 verified", ans.Status, ans.Body)
	}
}

// raceResult is one registration sent while a draw may be running.
type raceResult struct {
	sentAfterDraw bool // sent once the draw's answer was in
	status        int
	code          string
	participantID uuid.UUID
}

func TestRegistrationsRacingADraw(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	eventID := a.openCampaign(ownerA, openNow())
	accepted := map[uuid.UUID]bool{}
	for i := range 3 {
		accepted[a.register(eventID, "김철수", phoneNumber(i)).ParticipantID] = true
	}

	const workers = 8
	var (
		phones      atomic.Int64
		createdDone atomic.Int64
		drawDone    = make(chan struct{})
		mu          sync.Mutex
		results     []raceResult
		wg          sync.WaitGroup
	)
	phones.Store(1000)
	for range workers {
		wg.Go(func() {
			for afterDraw := 0; afterDraw < 3; {
				sentAfterDraw := isClosed(drawDone)
				if sentAfterDraw {
					afterDraw++
				}
				phone := phoneNumber(int(phones.Add(1)))
				ans, err := a.try(http.MethodPost, participationsPath, "", registrationBody(eventID, "이영희", phone, "SNS_OTHER"))
				if err != nil {
					t.Error(err)
					return
				}
				r := raceResult{sentAfterDraw: sentAfterDraw, status: ans.Status, code: errorOf(ans).Code}
				if ans.Status == http.StatusCreated {
					var reg registrationJSON
					_ = json.Unmarshal(ans.Body, &reg)
					r.participantID = reg.ParticipantID
					createdDone.Add(1)
				}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		})
	}
	// Draw while registrations are flowing.
	waitUntil(t, "20 registrations answered 201 before the draw", func() error {
		if n := createdDone.Load(); n < 20 {
			return fmt.Errorf("%d so far", n)
		}
		return nil
	})
	drawAns := a.call(http.MethodPost, drawPath(eventID), token(t, ownerA), map[string]any{"winnerCount": 3})
	close(drawDone)
	wg.Wait()
	if got, want := drawAns.Status, http.StatusOK; got != want {
		t.Fatalf("draw: status = %d, want %d: %s", got, want, drawAns.Body)
	}
	drawn := decode[drawJSON](t, drawAns)

	var inFlightRefused, afterRefused int
	for i, r := range results {
		switch {
		case r.status == http.StatusCreated && !r.sentAfterDraw:
			accepted[r.participantID] = true
		case r.status == http.StatusConflict && r.code == "EVENT_NOT_OPEN":
			if r.sentAfterDraw {
				afterRefused++
			} else {
				inFlightRefused++
			}
		default:
			t.Errorf("registration %d (sent after the draw answered: %t) = %d %s, want 201 before the draw or 409 EVENT_NOT_OPEN",
				i, r.sentAfterDraw, r.status, r.code)
		}
	}
	if got, want := afterRefused, workers*3; got != want {
		t.Errorf("registrations sent after the draw answered and refused = %d, want %d", got, want)
	}
	t.Logf("%d registrations accepted, %d in flight at the draw refused, %d after it refused",
		len(accepted), inFlightRefused, afterRefused)

	// The candidates are exactly the registrations answered 201.
	stored := a.winnersDrawn(eventID)
	if got, want := stored.DrawID, drawn.DrawLogID; got != want {
		t.Errorf("stored drawId = %s, want %s", got, want)
	}
	if got, want := stored.CandidateCount, len(accepted); got != want {
		t.Errorf("candidateCount = %d, want %d (every registration answered 201)", got, want)
	}
	rows, err := a.pool.Query(t.Context(), `SELECT data->>'participantId', position FROM events
		WHERE type = 'ParticipantRegistered' AND data->>'eventId' = $1`, eventID.String())
	if err != nil {
		t.Fatal(err)
	}
	var registered int
	for rows.Next() {
		var id uuid.UUID
		var position int64
		if err := rows.Scan(&id, &position); err != nil {
			t.Fatal(err)
		}
		registered++
		if !accepted[id] {
			t.Errorf("participant %s is stored but was not answered 201", id)
		}
		if position > stored.CutoffPosition {
			t.Errorf("participant %s stored at %d, after the draw's cut-off %d", id, position, stored.CutoffPosition)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := registered, len(accepted); got != want {
		t.Errorf("ParticipantRegistered stored = %d, want %d (the registrations answered 201)", got, want)
	}
	ans := a.call(http.MethodGet, verifyPath(drawn.DrawLogID), token(t, ownerA), nil)
	v := decode[verificationJSON](t, ans)
	if ans.Status != http.StatusOK || !v.Verified || v.CandidateCount != len(accepted) {
		t.Errorf("verify = %d verified %t candidateCount %d, want 200 verified %d", ans.Status, v.Verified, v.CandidateCount, len(accepted))
	}
}
