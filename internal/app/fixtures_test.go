package app

// Request bodies, answers and paths the end-to-end tests share.

import (
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
)

type campaignJSON struct {
	EventID    uuid.UUID `json:"eventId"`
	OwnerID    string    `json:"ownerId"`
	Title      string    `json:"title"`
	StartsAt   time.Time `json:"startsAt"`
	EndsAt     time.Time `json:"endsAt"`
	AnnounceAt time.Time `json:"announceAt"`
}

type registrationJSON struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	AnnounceAt    time.Time `json:"announceAt"`
	Message       string    `json:"message"`
}

type drawJSON struct {
	Winners []struct {
		ParticipantID uuid.UUID `json:"participantId"`
		EntryNumber   string    `json:"entryNumber"`
		Name          string    `json:"name"`
		Phone         string    `json:"phone"`
		Rank          int       `json:"rank"`
	} `json:"winners"`
	DrawLogID uuid.UUID `json:"drawLogId"`
}

type drawnEntryJSON struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	Rank          int       `json:"rank"`
}

type verificationJSON struct {
	Verified         bool             `json:"verified"`
	DrawLogID        uuid.UUID        `json:"drawLogId"`
	EventID          uuid.UUID        `json:"eventId"`
	Mismatches       []string         `json:"mismatches"`
	CandidateCount   int              `json:"candidateCount"`
	CandidatesDigest string           `json:"candidatesDigest"`
	Winners          []drawnEntryJSON `json:"winners"`
}

// window is a campaign's times.
type window struct{ startsAt, endsAt, announceAt time.Time }

// openNow is a campaign open from an hour ago until tomorrow.
func openNow() window {
	now := time.Now().Truncate(time.Second)
	return window{now.Add(-time.Hour), now.Add(24 * time.Hour), now.Add(48 * time.Hour)}
}

func campaignBody(eventID uuid.UUID, title string, w window) map[string]any {
	body := map[string]any{
		"title":      title,
		"startsAt":   w.startsAt.Format(time.RFC3339),
		"endsAt":     w.endsAt.Format(time.RFC3339),
		"announceAt": w.announceAt.Format(time.RFC3339),
	}
	if eventID != uuid.Nil {
		body["eventId"] = eventID.String()
	}
	return body
}

// openCampaign opens a campaign of owner and fails the test unless it is 201.
func (a *testApp) openCampaign(owner string, w window) uuid.UUID {
	a.t.Helper()
	id := uuid.New()
	ans := a.call(http.MethodPost, "/api/v1/events", token(a.t, owner), campaignBody(id, "테스트 이벤트", w))
	if ans.Status != http.StatusCreated {
		a.t.Fatalf("open campaign → %d, want 201: %s", ans.Status, ans.Body)
	}
	return id
}

func registrationBody(eventID uuid.UUID, name, phone, entryPath string) map[string]any {
	return map[string]any{
		"eventId":        eventID.String(),
		"name":           name,
		"phone":          phone,
		"entryPath":      entryPath,
		"privacyConsent": true,
	}
}

// register registers a participant and fails the test unless it is 201.
func (a *testApp) register(eventID uuid.UUID, name, phone string) registrationJSON {
	a.t.Helper()
	ans := a.call(http.MethodPost, "/api/v1/participations", "", registrationBody(eventID, name, phone, "INSTAGRAM"))
	if ans.Status != http.StatusCreated {
		a.t.Fatalf("register %s → %d, want 201: %s", name, ans.Status, ans.Body)
	}
	return decode[registrationJSON](a.t, ans)
}

// draw draws winners and fails the test unless it is 200.
func (a *testApp) draw(owner string, eventID uuid.UUID, winnerCount int) drawJSON {
	a.t.Helper()
	ans := a.call(http.MethodPost, drawPath(eventID), token(a.t, owner), map[string]any{"winnerCount": winnerCount})
	if ans.Status != http.StatusOK {
		a.t.Fatalf("draw → %d, want 200: %s", ans.Status, ans.Body)
	}
	return decode[drawJSON](a.t, ans)
}

func drawPath(eventID uuid.UUID) string {
	return "/api/v1/events/" + eventID.String() + "/draw-winners"
}

func visitPath(eventID uuid.UUID, entryNumber string) string {
	return "/api/v1/events/" + eventID.String() + "/participants/" + entryNumber + "/visit"
}

func verifyPath(drawLogID uuid.UUID) string {
	return "/api/v1/draw-logs/" + drawLogID.String() + "/verify"
}

// phoneNumber is the i-th distinct phone number, written 010-XXXX-XXXX.
func phoneNumber(i int) string { return fmt.Sprintf("010-%04d-%04d", 1000+i/10000, i%10000) }
