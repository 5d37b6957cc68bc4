package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/internal/testenv"
)

// The fast decoder must agree with domain.DecodeEvent on every input: the
// same event, or a failure both ways. Inputs go through jsonb first, as
// the store keeps them.
func TestFastDecodeAgreesWithDecodeEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })

	pid, eid := uuid.New(), uuid.New()
	reg := fmt.Sprintf(`"participantId": "%s", "eventId": "%s", "entryNumber": "AB12", "phone": "010-1234-5678", "entryPath": "INSTAGRAM", "privacyConsent": true`, pid, eid)
	registrations := []string{
		`{` + reg + `, "name": "김철수", "timestamp": "2025-03-01T14:30:00.123456789+09:00"}`,
		`{` + reg + `, "name": "John Smith", "timestamp": "2025-03-01T14:30:00Z"}`,
		`{` + reg + `, "name": "김\"철", "timestamp": "2025-03-01T14:30:00Z"}`,    // an escape
		`{` + reg + `, "name": "김\u0041", "timestamp": "2025-03-01T14:30:00Z"}`, // a unicode escape
		`{` + reg + `, "Name": "김철수", "timestamp": "2025-03-01T14:30:00Z"}`,     // another case: encoding/json matches it
		`{` + reg + `, "name": null, "timestamp": "2025-03-01T14:30:00Z"}`,      // null leaves the zero value
		`{` + reg + `, "name": "김철수"}`,                                          // no timestamp
		`{` + reg + `, "name": "김철수", "timestamp": "yesterday"}`,                // undecodable
		`{` + reg + `, "name": 5, "timestamp": "2025-03-01T14:30:00Z"}`,         // wrong type
		`{` + reg + `, "name": "김철수", "extra": {"a": [1, 2]}}`,                  // an unknown field
		`{` + reg + `, "name": "김철수", "privacyConsent": "yes"}`,                 // wrong type
		`{"participantId": "not-a-uuid", "eventId": "` + eid.String() + `"}`,
		`{"participantId": "` + pid.String() + `", "eventId": 12}`,
		`{"participantId": "{` + pid.String() + `}"}`, // a form uuid.Parse accepts
		`{}`, `[]`, `"x"`, `null`, `{"entryPath": ""}`, `{"phone": "01012345678", "name": " 김 "}`,
	}
	visits := []string{
		fmt.Sprintf(`{"participantId": "%s", "eventId": "%s", "visitedAt": "2025-03-01T15:30:00Z"}`, pid, eid),
		fmt.Sprintf(`{"participantId": "%s", "eventId": "%s", "visitedAt": "soon"}`, pid, eid),
		fmt.Sprintf(`{"participantId": "%s", "eventId": "%s"}`, pid, eid),
		fmt.Sprintf(`{"participantId": "%s", "EventId": "%s", "visitedAt": null}`, pid, eid),
		`{"participantId": 1}`, `[]`,
	}
	jsonb := func(s string) []byte {
		t.Helper()
		var out string
		if err := conn.QueryRow(ctx, `SELECT $1::jsonb::text`, s).Scan(&out); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		return []byte(out)
	}
	for _, in := range registrations {
		data := jsonb(in)
		got, gotErr := decodeRegistration(data)
		ev, wantErr := domain.DecodeEvent(domain.TypeParticipantRegistered, data)
		if (gotErr != nil) != (wantErr != nil) {
			t.Errorf("%s: error %v, want %v", data, gotErr, wantErr)
			continue
		}
		if wantErr != nil {
			continue
		}
		want := ev.(domain.ParticipantRegistered)
		if diff := cmp.Diff(want, domain.ParticipantRegistered{
			ParticipantID: got.participantID, EventID: got.eventID, EntryNumber: string(got.entryNumber),
			Name: string(got.name), Phone: string(got.phone), EntryPath: domain.EntryPath(got.path),
			PrivacyConsent: want.PrivacyConsent, Timestamp: got.timestamp,
		}, cmp.Comparer(time.Time.Equal)); diff != "" {
			t.Errorf("%s (-DecodeEvent +fast):\n%s", data, diff)
		}
	}
	for _, in := range visits {
		data := jsonb(in)
		got, gotErr := decodeVisit(data)
		ev, wantErr := domain.DecodeEvent(domain.TypeStoreVisitRecorded, data)
		if (gotErr != nil) != (wantErr != nil) {
			t.Errorf("%s: error %v, want %v", data, gotErr, wantErr)
			continue
		}
		if wantErr == nil {
			want := ev.(domain.StoreVisitRecorded)
			if got.participantID != want.ParticipantID || got.eventID != want.EventID {
				t.Errorf("%s: got %+v, want %+v", data, got, want)
			}
		}
	}
	// The fast path does take the common shape.
	if _, ok := fastRegistration(jsonb(registrations[0])); !ok {
		t.Error("a plain registration took the slow path")
	}
}

func TestMasksAgreeWithDomain(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "김", "김철수", "John Smith", "J", "\xff\xfeab", "a\xffb", "010-1234-5678", "01012345678",
		"010 1234 5678", "010-****-5678", "010-12a4-5678", "011-1234-5678", "123", "전화번호없음", "010-1234-567８"} {
		if got, want := string(appendMaskedName(nil, []byte(s))), domain.MaskName(s); got != want {
			t.Errorf("mask name %q = %q, want %q", s, got, want)
		}
		if got, want := string(appendMaskedPhone(nil, []byte(s))), domain.MaskPhone(s); got != want {
			t.Errorf("mask phone %q = %q, want %q", s, got, want)
		}
	}
}

func TestDrawnEventKeepsItsData(t *testing.T) {
	t.Parallel()
	d := domain.WinnersDrawn{DrawID: uuid.New(), EventID: uuid.New(), Winners: []domain.Winner{{ParticipantID: uuid.New(), Rank: 1}}}
	data, _ := json.Marshal(d)
	e := event{position: 7, key: d.EventID.String()}
	e.decode(domain.TypeWinnersDrawn, data)
	data[0] = 'x' // the page's buffer is reused
	if e.kind != kindDrawn || string(e.draw.rec.Data[:1]) != "{" || e.draw.ev.DrawID != d.DrawID {
		t.Fatalf("decoded draw: %+v", e)
	}
}
