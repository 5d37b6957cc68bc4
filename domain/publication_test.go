package domain_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

func TestPublicRegisteredMasksPersonalData(t *testing.T) {
	t.Parallel()
	reg := domain.ParticipantRegistered{ParticipantID: uuid.New(), EventID: uuid.New(), EntryNumber: "ABCD-EFGH",
		PII: "c2VhbGVk", EntryPath: "INSTAGRAM", PrivacyConsent: true, Timestamp: time.Now()}
	tests := []struct {
		name      string
		pd        domain.PersonalData
		wantName  string
		wantPhone string
	}{
		{"live_participant_is_masked", domain.PersonalData{Name: "김철수", Phone: "010-1234-5678"}, "김**", "010-****-5678"},
		{"erased_participant_is_empty", domain.PersonalData{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			public, err := domain.PublicRegistered(reg, tt.pd)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(public), "철수") || strings.Contains(string(public), "1234") || strings.Contains(string(public), "pii") {
				t.Fatalf("public payload carries personal data: %s", public)
			}
			var got map[string]any
			_ = json.Unmarshal(public, &got)
			for _, field := range []string{"participantId", "eventId", "entryPath", "timestamp", "entryNumber"} { // the topic's contract
				if got[field] == nil || got[field] == "" {
					t.Errorf("public payload lacks %s: %s", field, public)
				}
			}
			if got["name"] != tt.wantName || got["phone"] != tt.wantPhone {
				t.Errorf("name, phone = %v, %v; want %q, %q", got["name"], got["phone"], tt.wantName, tt.wantPhone)
			}
		})
	}
}

func TestDecodeStoredUpcastsBySchemaVersion(t *testing.T) {
	t.Parallel()
	v1 := []byte(`{"participantId":"7d1e2b3a-0000-8000-8000-000000000001","eventId":"7d1e2b3a-0000-4000-8000-000000000002","entryNumber":"ABCD-EFGH","name":"김철수","phone":"010-1234-5678","entryPath":"KAKAO","privacyConsent":true,"timestamp":"2026-01-01T00:00:00Z"}`)
	v2 := []byte(`{"participantId":"7d1e2b3a-0000-8000-8000-000000000001","eventId":"7d1e2b3a-0000-4000-8000-000000000002","entryNumber":"ABCD-EFGH","pii":"AAAA","name":"x","entryPath":"KAKAO","privacyConsent":true,"timestamp":"2026-01-01T00:00:00Z"}`)
	e1, err := domain.DecodeStored(domain.TypeParticipantRegistered, 1, v1)
	if err != nil {
		t.Fatal(err)
	}
	if r := e1.(domain.ParticipantRegistered); !r.Unsealed() || r.Personal() != (domain.PersonalData{Name: "김철수", Phone: "010-1234-5678"}) {
		t.Errorf("schema 1 upcast = %+v, want its clear name and phone, unsealed", r)
	}
	e2, err := domain.DecodeStored(domain.TypeParticipantRegistered, 2, v2)
	if err != nil {
		t.Fatal(err)
	}
	if r := e2.(domain.ParticipantRegistered); r.Unsealed() || r.PII != "AAAA" || r.Name != "" {
		t.Errorf("schema 2 = %+v, want pii only", r)
	}
}
