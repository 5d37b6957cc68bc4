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
		name       string
		pd         domain.PersonalData
		wantName   string
		wantPhone  string
		wantListed string
	}{
		{"live_participant_is_masked", domain.PersonalData{Name: "김철수", Phone: "010-1234-5678"}, "김**", "010-****-5678", "김*수"},
		{"erased_participant_is_empty", domain.PersonalData{}, "", "", ""},
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
			if got["name"] != tt.wantName || got["phone"] != tt.wantPhone || got["listedName"] != tt.wantListed {
				t.Errorf("name, phone, listedName = %v, %v, %v; want %q, %q, %q", got["name"], got["phone"], got["listedName"],
					tt.wantName, tt.wantPhone, tt.wantListed)
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

// PublicRegistered writes by hand what encoding/json writes for the
// payload's definition: the same bytes whatever the strings hold.
func TestPublicRegisteredIsEncodingJSONsBytes(t *testing.T) {
	t.Parallel()
	seoul := time.FixedZone("KST", 9*3600)
	tests := []struct {
		name  string
		entry string
		path  domain.EntryPath
		pd    domain.PersonalData
		at    time.Time
	}{
		{"plain", "ABCD-EFGH", "KAKAO", domain.PersonalData{Name: "김철수", Phone: "010-1234-5678"}, time.Now()},
		{"erased", "ABCD-EFGH", "INSTAGRAM", domain.PersonalData{}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"zone_and_nanoseconds", "A", "OTHER", domain.PersonalData{Name: "J", Phone: "12"}, time.Date(2026, 5, 1, 0, 0, 0, 123456789, seoul)},
		{"zero_time", "", "", domain.PersonalData{Name: " ", Phone: "+82 10"}, time.Time{}},
		{"html_and_quotes", `<a href="x">&\`, "STORE_QR", domain.PersonalData{Name: `"<b>"`, Phone: "010<1234>5678"}, time.Now()},
		{"control_and_separators", "tab\there\nnl\u2028\u2029", "NAVER_BLOG", domain.PersonalData{Name: "\x01x", Phone: "\u2028"}, time.Now()},
		{"invalid_utf8", "bad\xffbyte", "SNS_OTHER", domain.PersonalData{Name: "\xc3", Phone: "a\xffb"}, time.Now()},
		{"emoji", "🎁-1", "RINGO_BIZ", domain.PersonalData{Name: "🙂 Smith", Phone: "010 1234 5678"}, time.Now()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := domain.ParticipantRegistered{ParticipantID: uuid.New(), EventID: uuid.New(), EntryNumber: tt.entry,
				PII: "c2VhbGVk", EntryPath: tt.path, PrivacyConsent: tt.name != "erased", Timestamp: tt.at}
			got, err := domain.PublicRegistered(reg, tt.pd)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(struct {
				ParticipantID  string           `json:"participantId"`
				EventID        string           `json:"eventId"`
				EntryNumber    string           `json:"entryNumber"`
				Name           string           `json:"name"`
				Phone          string           `json:"phone"`
				EntryPath      domain.EntryPath `json:"entryPath"`
				PrivacyConsent bool             `json:"privacyConsent"`
				Timestamp      time.Time        `json:"timestamp"`
				ListedName     string           `json:"listedName"`
			}{reg.ParticipantID.String(), reg.EventID.String(), reg.EntryNumber, domain.MaskName(tt.pd.Name),
				domain.MaskPhone(tt.pd.Phone), reg.EntryPath, reg.PrivacyConsent, reg.Timestamp, domain.MaskListedName(tt.pd.Name)})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("PublicRegistered =\n%s\nencoding/json =\n%s", got, want)
			}
		})
	}
	if _, err := domain.PublicRegistered(domain.ParticipantRegistered{Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, domain.PersonalData{}); err == nil {
		t.Error("a timestamp JSON cannot hold encoded without an error")
	}
}
