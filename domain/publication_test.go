package domain_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

func TestPublicPayloadMasksPersonalData(t *testing.T) {
	t.Parallel()
	raw, _ := json.Marshal(domain.ParticipantRegistered{ParticipantID: uuid.New(), EventID: uuid.New(), EntryNumber: "ABCD-EFGH",
		Name: "김철수", Phone: "010-1234-5678", EntryPath: "INSTAGRAM", PrivacyConsent: true, Timestamp: time.Now()})
	public, err := domain.PublicPayload(domain.TypeParticipantRegistered, raw)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(public), "철수") || strings.Contains(string(public), "1234") {
		t.Fatalf("public payload carries personal data: %s", public)
	}
	var got map[string]any
	_ = json.Unmarshal(public, &got)
	for _, field := range []string{"participantId", "eventId", "entryPath", "timestamp"} { // the topic's contract
		if got[field] == nil || got[field] == "" {
			t.Errorf("public payload lacks %s: %s", field, public)
		}
	}
	if got, want := got["phone"], "010-****-5678"; got != want {
		t.Errorf("phone = %v, want %v", got, want)
	}
	again, _ := domain.PublicPayload(domain.TypeParticipantRegistered, public)
	if string(again) != string(public) {
		t.Errorf("masking twice changed the payload: %s → %s", public, again)
	}
}
