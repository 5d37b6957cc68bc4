package domain_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// DecodeEvent reads a registration without reflection when it can; its
// answer is encoding/json's, whatever the bytes.
func FuzzDecodeRegisteredIsEncodingJSONs(f *testing.F) {
	reg := domain.ParticipantRegistered{ParticipantID: uuid.New(), EventID: uuid.New(), EntryNumber: "ABCD-2345", PII: "AQID+/==",
		EntryPath: domain.EntryPathKakao, PrivacyConsent: true, Timestamp: time.Date(2026, 5, 1, 9, 0, 0, 123, time.FixedZone("", 9*3600))}
	stored, _ := json.Marshal(reg)
	public, _ := domain.PublicRegistered(reg, domain.PersonalData{Name: "김철수", Phone: "010-1234-5678"})
	for _, seed := range []string{
		string(stored), string(public), "{}", " { } ", "",
		// jsonb's text form: keys by length, a space after colons and commas
		`{"pii": "AQID", "name": "", "phone": "", "eventId": "` + reg.EventID.String() + `", "entryPath": "KAKAO", "timestamp": "2026-01-01T00:00:00Z", "entryNumber": "ABCD-2345", "participantId": "` + reg.ParticipantID.String() + `", "privacyConsent": false}`,
		`{"name":"a","NAME":"b"}`, `{"name":"a","name":"b"}`, `{"name":null}`, `{"name":"a\"b"}`, `{"name":"\u00e9"}`,
		`{"name":"a"} x`, `{"name":"a",}`, `{"privacyConsent":1}`, `{"participantId":"nope"}`, `{"timestamp":"yesterday"}`,
		`{"extra":{"a":[1,2]},"name":"x"}`, "{\"name\":\"\xff\"}", `{"ParticipantId":"` + reg.ParticipantID.String() + `"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want domain.ParticipantRegistered
		wantErr := json.Unmarshal(data, &want)
		got, err := domain.DecodeEvent(domain.TypeParticipantRegistered, data)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("DecodeEvent(%q) error = %v, encoding/json's = %v", data, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got.(domain.ParticipantRegistered), want) {
			t.Fatalf("DecodeEvent(%q) =\n%+v\nencoding/json =\n%+v", data, got, want)
		}
	})
}

func FuzzDecodePersonalDataIsEncodingJSONs(f *testing.F) {
	sealed, _ := json.Marshal(domain.PersonalData{Name: "김철수", Phone: "010-1234-5678"})
	for _, seed := range []string{string(sealed), `{"name":"","phone":""}`, `{}`, `{"name":"a","pii":"x"}`, `{"phone":1}`,
		`{"name":"a","other":[1]}`, `{"Name":"a"}`, `{"name":"a\nb"}`, `[]`, `{"privacyConsent":3,"name":"x"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want domain.PersonalData
		wantErr := json.Unmarshal(data, &want)
		got, err := domain.DecodePersonalData(data)
		if (err != nil) != (wantErr != nil) || (err == nil && got != want) {
			t.Fatalf("DecodePersonalData(%q) = %+v, %v; encoding/json: %+v, %v", data, got, err, want, wantErr)
		}
	})
}
