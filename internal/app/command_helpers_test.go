package app

import (
	"encoding/json"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// storedDraw is the part of a stored WinnersDrawn these tests read.
type storedDraw struct {
	DrawID         uuid.UUID `json:"drawId"`
	WinnerCount    int       `json:"winnerCount"`
	VisitBonus     bool      `json:"visitBonus"`
	CandidateCount int       `json:"candidateCount"`
	CutoffPosition int64     `json:"cutoffPosition"`
	DrawnBy        string    `json:"drawnBy"`
}

// winnersDrawn is the campaign's stored WinnersDrawn.
func (a *testApp) winnersDrawn(eventID uuid.UUID) storedDraw {
	a.t.Helper()
	var data []byte
	err := a.pool.QueryRow(a.t.Context(), `SELECT data FROM events WHERE type = 'WinnersDrawn' AND data->>'eventId' = $1`,
		eventID.String()).Scan(&data)
	if err != nil {
		a.t.Fatalf("stored WinnersDrawn: %v", err)
	}
	var d storedDraw
	if err := json.Unmarshal(data, &d); err != nil {
		a.t.Fatalf("stored WinnersDrawn: %v", err)
	}
	return d
}

// unusedEntryNumber is a well-formed entry number other than taken.
func unusedEntryNumber(taken string) string {
	if taken == "2222-2222" {
		return "3333-3333"
	}
	return "2222-2222"
}

func signed(t *testing.T, method jwt.SigningMethod, claims jwt.RegisteredClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(testJWTSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
