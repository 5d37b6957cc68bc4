package app

// End-to-end tests of the command side: the service wired as serve wires it,
// on real PostgreSQL, over a real listener, every answer checked against
// openapi.yaml.

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/privacy"
)

const participationsPath = "/api/v1/participations"

func TestCommandSideHappyPath(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	ownerToken := token(t, ownerA)
	kst := time.FixedZone("KST", 9*60*60)
	now := time.Now().In(kst).Truncate(time.Second)
	w := window{now.Add(-time.Hour), now.Add(24 * time.Hour), now.Add(48 * time.Hour)}
	eventID := uuid.New()

	// Open, with the event id given.
	ans := a.call(http.MethodPost, "/api/v1/events", ownerToken, campaignBody(eventID, "  오픈 기념 이벤트 ", w))
	if got, want := ans.Status, http.StatusCreated; got != want {
		t.Fatalf("open campaign: status = %d, want %d: %s", got, want, ans.Body)
	}
	opened := decode[campaignJSON](t, ans)
	if got, want := opened.EventID, eventID; got != want {
		t.Errorf("opened eventId = %s, want %s", got, want)
	}
	if got, want := opened.OwnerID, ownerA; got != want {
		t.Errorf("opened ownerId = %q, want %q", got, want)
	}
	if got, want := opened.Title, "오픈 기념 이벤트"; got != want {
		t.Errorf("opened title = %q, want %q (trimmed)", got, want)
	}
	for _, tc := range []struct {
		field     string
		got, want time.Time
	}{{"startsAt", opened.StartsAt, w.startsAt}, {"endsAt", opened.EndsAt, w.endsAt}, {"announceAt", opened.AnnounceAt, w.announceAt}} {
		if !tc.got.Equal(tc.want) {
			t.Errorf("opened %s = %s, want %s", tc.field, tc.got, tc.want)
		}
	}

	// Open, with the event id left to the service.
	ans = a.call(http.MethodPost, "/api/v1/events", ownerToken, campaignBody(uuid.Nil, "두 번째 이벤트", w))
	if got, want := ans.Status, http.StatusCreated; got != want {
		t.Fatalf("open campaign without eventId: status = %d, want %d: %s", got, want, ans.Body)
	}
	if generated := decode[campaignJSON](t, ans).EventID; generated == uuid.Nil || generated == eventID {
		t.Errorf("generated eventId = %s, want a new non-nil UUID", generated)
	}

	// Register three customers, each phone written another way.
	people := []struct {
		name, phone, entryPath                   string
		storedPhone, storedPath                  string
		maskedName, maskedPhone, phoneDigitsOnly string
	}{
		{"김철수", "010-1234-5678", "instagram", "010-1234-5678", "INSTAGRAM", "김**", "010-****-5678", "01012345678"},
		{"이영희", "01098765432", "WOORIDONGNE_TV", "010-9876-5432", "WOORIDONGNE_TV", "이**", "010-****-5432", "01098765432"},
		{"박민", "010 2222 3333", "Kakao", "010-2222-3333", "KAKAO", "박*", "010-****-3333", "01022223333"},
	}
	regs := make([]registrationJSON, len(people))
	byID := map[uuid.UUID]int{}
	for i, p := range people {
		ans := a.call(http.MethodPost, participationsPath, "", registrationBody(eventID, p.name, p.phone, p.entryPath))
		if got, want := ans.Status, http.StatusCreated; got != want {
			t.Fatalf("register %s: status = %d, want %d: %s", p.name, got, want, ans.Body)
		}
		reg := decode[registrationJSON](t, ans)
		regs[i], byID[reg.ParticipantID] = reg, i
		if reg.ParticipantID == uuid.Nil {
			t.Errorf("register %s: participantId is nil", p.name)
		}
		if !entryNumberShape.MatchString(reg.EntryNumber) {
			t.Errorf("register %s: entryNumber = %q, want at most 16 URL-safe characters", p.name, reg.EntryNumber)
		}
		if !reg.AnnounceAt.Equal(w.announceAt) {
			t.Errorf("register %s: announceAt = %s, want %s", p.name, reg.AnnounceAt, w.announceAt)
		}
		if got, want := reg.Message, thanks; got != want {
			t.Errorf("register %s: message = %q, want %q", p.name, got, want)
		}

		var stream, sealed, path, entryNumber string
		var clear bool
		var wrapped []byte
		err := a.pool.QueryRow(t.Context(), `SELECT stream_id, data->>'pii', data->>'entryPath', data->>'entryNumber',
			data ? 'name' OR data ? 'phone', k.wrapped
			FROM events JOIN pii_keys k ON k.participant_id = $1::uuid
			WHERE type = 'ParticipantRegistered' AND data->>'participantId' = $1::text`, reg.ParticipantID.String()).
			Scan(&stream, &sealed, &path, &entryNumber, &clear, &wrapped)
		if err != nil {
			t.Fatalf("stored registration of %s: %v", p.name, err)
		}
		if clear {
			t.Errorf("stored registration of %s holds a name or phone in clear", p.name)
		}
		keys, err := privacy.NewKeys(testPIIKey)
		if err != nil {
			t.Fatal(err)
		}
		pd, err := keys.Open(reg.ParticipantID, sealed, wrapped)
		if err != nil {
			t.Fatalf("open the sealed pii of %s: %v", p.name, err)
		}
		if got, want := pd.Phone, p.storedPhone; got != want {
			t.Errorf("stored phone of %s = %q, want %q (normalized)", p.name, got, want)
		}
		if got, want := path, p.storedPath; got != want {
			t.Errorf("stored entryPath of %s = %q, want %q (upper case)", p.name, got, want)
		}
		if got, want := entryNumber, reg.EntryNumber; got != want {
			t.Errorf("stored entryNumber of %s = %q, want the answered %q", p.name, got, want)
		}
		if strings.Contains(strings.ReplaceAll(stream, "-", ""), p.phoneDigitsOnly[3:]) {
			t.Errorf("participant stream id %q reveals the phone number %s", stream, p.storedPhone)
		}
	}
	if len(byID) != len(people) {
		t.Errorf("participant ids = %d distinct, want %d", len(byID), len(people))
	}
	if regs[0].EntryNumber == regs[1].EntryNumber || regs[1].EntryNumber == regs[2].EntryNumber || regs[0].EntryNumber == regs[2].EntryNumber {
		t.Errorf("entry numbers %q, %q, %q are not distinct", regs[0].EntryNumber, regs[1].EntryNumber, regs[2].EntryNumber)
	}

	// A store visit, recorded twice (the second in lower case without the
	// dash), is one StoreVisitRecorded.
	for i, entry := range []string{regs[0].EntryNumber, strings.ToLower(strings.ReplaceAll(regs[0].EntryNumber, "-", ""))} {
		before := a.eventCount()
		ans := a.call(http.MethodPost, visitPath(eventID, entry), ownerToken, nil)
		if got, want := ans.Status, http.StatusOK; got != want {
			t.Fatalf("visit %s: status = %d, want %d: %s", entry, got, want, ans.Body)
		}
		visit := decode[struct {
			EventID      uuid.UUID `json:"eventId"`
			EntryNumber  string    `json:"entryNumber"`
			StoreVisited bool      `json:"storeVisited"`
		}](t, ans)
		if visit.EventID != eventID || visit.EntryNumber != regs[0].EntryNumber || !visit.StoreVisited {
			t.Errorf("visit %s = %+v, want eventId %s, entryNumber %s, storeVisited", entry, visit, eventID, regs[0].EntryNumber)
		}
		if got, want := a.eventCount()-before, int64(1-i); got != want {
			t.Errorf("visit %d stored %d events, want %d (visits are idempotent)", i+1, got, want)
		}
	}
	if got, want := a.eventsOfType("StoreVisitRecorded", eventID), int64(1); got != want {
		t.Errorf("StoreVisitRecorded events = %d, want %d (visits are idempotent)", got, want)
	}

	// The draw: masked winners, ranks 1..n.
	ans = a.call(http.MethodPost, drawPath(eventID), ownerToken, map[string]any{"winnerCount": 2, "visitBonus": true})
	if got, want := ans.Status, http.StatusOK; got != want {
		t.Fatalf("draw: status = %d, want %d: %s", got, want, ans.Body)
	}
	drawn := decode[drawJSON](t, ans)
	if drawn.DrawLogID == uuid.Nil {
		t.Errorf("drawLogId is nil")
	}
	if got, want := len(drawn.Winners), 2; got != want {
		t.Fatalf("winners = %d, want %d: %s", got, want, ans.Body)
	}
	seen := map[uuid.UUID]bool{}
	for i, wn := range drawn.Winners {
		if got, want := wn.Rank, i+1; got != want {
			t.Errorf("winner %d: rank = %d, want %d", i, got, want)
		}
		k, ok := byID[wn.ParticipantID]
		if !ok || seen[wn.ParticipantID] {
			t.Errorf("winner %d: participantId %s is not a distinct participant", i, wn.ParticipantID)
			continue
		}
		seen[wn.ParticipantID] = true
		if got, want := wn.EntryNumber, regs[k].EntryNumber; got != want {
			t.Errorf("winner %d: entryNumber = %q, want %q", i, got, want)
		}
		if got, want := wn.Name, people[k].maskedName; got != want {
			t.Errorf("winner %d: name = %q, want %q (masked)", i, got, want)
		}
		if got, want := wn.Phone, people[k].maskedPhone; got != want {
			t.Errorf("winner %d: phone = %q, want %q (masked)", i, got, want)
		}
	}

	// A draw is final.
	ans = a.call(http.MethodPost, drawPath(eventID), ownerToken, map[string]any{"winnerCount": 1})
	if got, want := ans.Status, http.StatusConflict; got != want {
		t.Errorf("second draw: status = %d, want %d: %s", got, want, ans.Body)
	}
	if got, want := decode[apiError](t, ans).Code, "ALREADY_DRAWN"; got != want {
		t.Errorf("second draw: code = %q, want %q", got, want)
	}

	// What was stored: one of each, the draw as answered.
	for _, tc := range []struct {
		eventType string
		want      int64
	}{{"CampaignOpened", 1}, {"ParticipantRegistered", 3}, {"StoreVisitRecorded", 1}, {"WinnersDrawn", 1}} {
		if got := a.eventsOfType(tc.eventType, eventID); got != tc.want {
			t.Errorf("%s events = %d, want %d", tc.eventType, got, tc.want)
		}
	}
	stored := a.winnersDrawn(eventID)
	if got, want := stored.DrawID, drawn.DrawLogID; got != want {
		t.Errorf("stored drawId = %s, want the answered drawLogId %s", got, want)
	}
	if stored.CandidateCount != 3 || stored.WinnerCount != 2 || !stored.VisitBonus || stored.DrawnBy != ownerA {
		t.Errorf("stored draw = candidateCount %d, winnerCount %d, visitBonus %t, drawnBy %q; want 3, 2, true, %q",
			stored.CandidateCount, stored.WinnerCount, stored.VisitBonus, stored.DrawnBy, ownerA)
	}

	// Verify recomputes the draw from the store.
	ans = a.call(http.MethodGet, verifyPath(drawn.DrawLogID), ownerToken, nil)
	if got, want := ans.Status, http.StatusOK; got != want {
		t.Fatalf("verify: status = %d, want %d: %s", got, want, ans.Body)
	}
	v := decode[verificationJSON](t, ans)
	if !v.Verified || len(v.Mismatches) != 0 {
		t.Errorf("verify: verified = %t, mismatches = %v; want true, none", v.Verified, v.Mismatches)
	}
	if v.DrawLogID != drawn.DrawLogID || v.EventID != eventID || v.CandidateCount != 3 {
		t.Errorf("verify = drawLogId %s, eventId %s, candidateCount %d; want %s, %s, 3", v.DrawLogID, v.EventID, v.CandidateCount, drawn.DrawLogID, eventID)
	}
	var answered []drawnEntryJSON
	for _, wn := range drawn.Winners {
		answered = append(answered, drawnEntryJSON{wn.ParticipantID, wn.EntryNumber, wn.Rank})
	}
	if !slices.Equal(v.Winners, answered) {
		t.Errorf("verify winners = %+v, want the draw's %+v", v.Winners, answered)
	}

	// Logs never carry a name or a phone number.
	logs := a.logs.String()
	for _, p := range people {
		for _, secret := range []string{p.name, p.storedPhone, p.phoneDigitsOnly, p.phone} {
			if strings.Contains(logs, secret) {
				t.Errorf("the service logged %q", secret)
			}
		}
	}
}

// rejection is a request the service must refuse without storing anything.
type rejection struct {
	name        string
	method      string // POST when empty
	path        string
	auth        string // the Authorization header; none when empty
	body        any
	wantStatus  int
	wantCode    string
	wantFields  []string // fields errors[] must name
	wantMessage string
}

func TestCommandSideRejections(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	now := time.Now().Truncate(time.Second)

	// Fixtures: an open campaign with two participants, one not yet open,
	// one over, one whose end is the present second, and one drawn.
	open := a.openCampaign(ownerA, openNow())
	first := a.register(open, "김철수", "01012345678")
	a.register(open, "이영희", "010-2222-3333")
	future := a.openCampaign(ownerA, window{now.Add(time.Hour), now.Add(2 * time.Hour), now.Add(3 * time.Hour)})
	past := a.openCampaign(ownerA, window{now.Add(-48 * time.Hour), now.Add(-24 * time.Hour), now.Add(-12 * time.Hour)})
	endsNow := a.openCampaign(ownerA, window{now.Add(-time.Hour), now, now.Add(time.Hour)})
	drawnEvent := a.openCampaign(ownerA, openNow())
	elsewhere := a.register(drawnEvent, "박민수", "010-4444-5555")
	drawn := a.draw(ownerA, drawnEvent, 1)

	bearerA, bearerB := "Bearer "+token(t, ownerA), "Bearer "+token(t, ownerB)
	expired, err := api.IssueToken(testJWTSecret, ownerA, time.Hour, now.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := api.IssueToken(otherSecret, ownerA, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	exp := jwt.NewNumericDate(now.Add(time.Hour))
	hs512 := signed(t, jwt.SigningMethodHS512, jwt.RegisteredClaims{Subject: ownerA, ExpiresAt: exp})
	noExpiry := signed(t, jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: ownerA})
	noSubject := signed(t, jwt.SigningMethodHS256, jwt.RegisteredClaims{ExpiresAt: exp})
	b64 := base64.RawURLEncoding.EncodeToString
	algNone := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		b64(fmt.Appendf(nil, `{"sub":%q,"exp":%d}`, ownerA, exp.Unix())) + "."

	reg := func(change func(map[string]any)) map[string]any {
		b := registrationBody(open, "정다운", "010-7777-8888", "INSTAGRAM")
		change(b)
		return b
	}
	set := func(field string, v any) func(map[string]any) { return func(b map[string]any) { b[field] = v } }
	campaign := func(change func(map[string]any)) map[string]any {
		b := campaignBody(uuid.New(), "새 이벤트", openNow())
		change(b)
		return b
	}
	twoMiB := `{"name":"` + strings.Repeat("가", 2<<20/3+1) + `"}`
	validDraw := map[string]any{"winnerCount": 1}
	unknownEvent := uuid.New()

	cases := []rejection{
		// Registration: validation, one field at a time and all together.
		{name: "name_of_one_character_is_400", path: participationsPath, body: reg(set("name", "김")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"name"}},
		{name: "name_of_digits_only_is_400", path: participationsPath, body: reg(set("name", "12345")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"name"}},
		{name: "name_of_punctuation_only_is_400", path: participationsPath, body: reg(set("name", "!?!?")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"name"}},
		{name: "name_of_spaces_only_is_400", path: participationsPath, body: reg(set("name", "    ")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"name"}},
		{name: "name_of_one_character_padded_with_spaces_is_400", path: participationsPath, body: reg(set("name", "  김  ")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"name"}},
		{name: "name_of_51_characters_is_400", path: participationsPath, body: reg(set("name", strings.Repeat("가", 51))), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"name"}},
		{name: "phone_starting_011_is_400", path: participationsPath, body: reg(set("phone", "011-1234-5678")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"phone"}},
		{name: "phone_with_7_digits_after_010_is_400", path: participationsPath, body: reg(set("phone", "010-123-4567")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"phone"}},
		{name: "phone_with_letters_is_400", path: participationsPath, body: reg(set("phone", "010-abcd-5678")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"phone"}},
		{name: "entry_path_unknown_is_400", path: participationsPath, body: reg(set("entryPath", "TIKTOK")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"entryPath"}},
		{name: "privacy_consent_false_is_400", path: participationsPath, body: reg(set("privacyConsent", false)), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"privacyConsent"}},
		{name: "privacy_consent_missing_is_400", path: participationsPath, body: reg(func(b map[string]any) { delete(b, "privacyConsent") }), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"privacyConsent"}},
		{name: "event_id_not_a_uuid_is_400", path: participationsPath, body: reg(set("eventId", "event-1")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"eventId"}},
		{name: "nil_event_id_is_400", path: participationsPath, body: reg(set("eventId", uuid.Nil.String())), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"eventId"}},
		{name: "event_id_missing_is_400", path: participationsPath, body: reg(func(b map[string]any) { delete(b, "eventId") }), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"eventId"}},
		{name: "every_bad_field_is_named_at_once", path: participationsPath, body: reg(func(b map[string]any) {
			b["name"], b["phone"], b["entryPath"], b["privacyConsent"] = "1", "011", "TV", false
		}), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"name", "phone", "entryPath", "privacyConsent"}},
		{name: "unknown_event_is_404", path: participationsPath, body: reg(set("eventId", unknownEvent.String())), wantStatus: 404, wantCode: "EVENT_NOT_FOUND"},

		// Registration: the rules of the campaign.
		{name: "duplicate_written_with_dashes_is_409", path: participationsPath, body: reg(set("phone", "010-1234-5678")), wantStatus: 409, wantCode: "ALREADY_PARTICIPATED", wantMessage: alreadyParticipated},
		{name: "duplicate_written_as_digits_is_409", path: participationsPath, body: reg(set("phone", "01012345678")), wantStatus: 409, wantCode: "ALREADY_PARTICIPATED", wantMessage: alreadyParticipated},
		{name: "duplicate_written_with_spaces_is_409", path: participationsPath, body: reg(set("phone", "010 1234 5678")), wantStatus: 409, wantCode: "ALREADY_PARTICIPATED", wantMessage: alreadyParticipated},
		{name: "duplicate_with_another_name_and_channel_is_409", path: participationsPath, body: reg(func(b map[string]any) {
			b["phone"], b["name"], b["entryPath"] = "010-1234-5678", "다른 사람", "kakao"
		}), wantStatus: 409, wantCode: "ALREADY_PARTICIPATED", wantMessage: alreadyParticipated},
		{name: "before_starts_at_is_409", path: participationsPath, body: reg(set("eventId", future.String())), wantStatus: 409, wantCode: "EVENT_NOT_OPEN"},
		{name: "after_ends_at_is_409", path: participationsPath, body: reg(set("eventId", past.String())), wantStatus: 409, wantCode: "EVENT_NOT_OPEN"},
		{name: "from_ends_at_on_is_409", path: participationsPath, body: reg(set("eventId", endsNow.String())), wantStatus: 409, wantCode: "EVENT_NOT_OPEN"},
		{name: "after_the_draw_is_409", path: participationsPath, body: reg(set("eventId", drawnEvent.String())), wantStatus: 409, wantCode: "EVENT_NOT_OPEN"},
		{name: "registered_phone_after_the_draw_is_409", path: participationsPath, body: registrationBody(drawnEvent, "박민수", "01044445555", "KAKAO"), wantStatus: 409},

		// Registration: the body.
		{name: "malformed_json_is_400", path: participationsPath, body: `{"eventId": "` + open.String() + `", "name": `, wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"body"}},
		{name: "unknown_field_is_400", path: participationsPath, body: reg(set("nickname", "철수")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"nickname"}},
		{name: "privacy_consent_as_a_string_is_400", path: participationsPath, body: reg(set("privacyConsent", "yes")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"privacyConsent"}},
		{name: "name_as_a_number_is_400", path: participationsPath, body: reg(set("name", 42)), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"name"}},
		{name: "phone_as_a_number_is_400", path: participationsPath, body: reg(set("phone", 1012345678)), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"phone"}},
		{name: "array_body_is_400", path: participationsPath, body: `[]`, wantStatus: 400, wantCode: "INVALID_REQUEST"},
		{name: "null_body_is_400", path: participationsPath, body: `null`, wantStatus: 400, wantCode: "INVALID_REQUEST"},
		{name: "empty_body_is_400", path: participationsPath, body: ``, wantStatus: 400, wantCode: "INVALID_REQUEST"},
		{name: "trailing_data_is_400", path: participationsPath, body: mustJSON(t, reg(set("phone", "010-9999-0000"))) + `{}`, wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"body"}},
		{name: "two_mib_body_is_413", path: participationsPath, body: twoMiB, wantStatus: 413, wantCode: "PAYLOAD_TOO_LARGE"},
		{name: "two_mib_chunked_body_is_413", path: participationsPath, body: io.MultiReader(strings.NewReader(twoMiB)), wantStatus: 413, wantCode: "PAYLOAD_TOO_LARGE"},

		// Opening a campaign.
		{name: "existing_event_id_is_409", path: "/api/v1/events", auth: bearerA, body: campaignBody(open, "다시", openNow()), wantStatus: 409, wantCode: "EVENT_EXISTS"},
		{name: "existing_event_id_of_another_owner_is_409", path: "/api/v1/events", auth: bearerB, body: campaignBody(open, "다시", openNow()), wantStatus: 409, wantCode: "EVENT_EXISTS"},
		{name: "starts_at_equal_to_ends_at_is_400", path: "/api/v1/events", auth: bearerA, body: campaign(set("endsAt", openNow().startsAt.Format(time.RFC3339))), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"endsAt"}},
		{name: "starts_at_after_ends_at_is_400", path: "/api/v1/events", auth: bearerA, body: campaign(set("startsAt", openNow().endsAt.Add(time.Minute).Format(time.RFC3339))), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"endsAt"}},
		{name: "announce_at_before_ends_at_is_400", path: "/api/v1/events", auth: bearerA, body: campaign(set("announceAt", openNow().startsAt.Format(time.RFC3339))), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"announceAt"}},
		{name: "title_missing_is_400", path: "/api/v1/events", auth: bearerA, body: campaign(func(b map[string]any) { delete(b, "title") }), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"title"}},
		{name: "title_blank_is_400", path: "/api/v1/events", auth: bearerA, body: campaign(set("title", "   ")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"title"}},
		{name: "time_not_rfc3339_is_400", path: "/api/v1/events", auth: bearerA, body: campaign(set("startsAt", "2025-05-01 10:00")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"startsAt"}},
		{name: "time_as_a_number_is_400", path: "/api/v1/events", auth: bearerA, body: campaign(set("endsAt", 1746090000)), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"endsAt"}},
		{name: "event_id_not_a_uuid_in_body_is_400", path: "/api/v1/events", auth: bearerA, body: campaign(set("eventId", "summer-sale")), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"eventId"}},
		{name: "nil_event_id_is_400", path: "/api/v1/events", auth: bearerA, body: campaign(set("eventId", uuid.Nil.String())), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"eventId"}},
		{name: "campaign_unknown_field_is_400", path: "/api/v1/events", auth: bearerA, body: campaign(set("ownerId", ownerB)), wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"ownerId"}},
		{name: "campaign_two_mib_body_is_413", path: "/api/v1/events", auth: bearerA, body: twoMiB, wantStatus: 413, wantCode: "PAYLOAD_TOO_LARGE"},

		// Authentication, before the body.
		{name: "no_token_is_401", path: "/api/v1/events", body: campaign(set("title", "a")), wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "basic_scheme_is_401", path: "/api/v1/events", auth: "Basic b3duZXItYTpzZWNyZXQ=", body: campaign(set("title", "a")), wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "bearer_without_token_is_401", path: "/api/v1/events", auth: "Bearer ", body: campaign(set("title", "a")), wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "malformed_token_is_401", path: "/api/v1/events", auth: "Bearer not.a.jwt", body: campaign(set("title", "a")), wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "expired_token_is_401", path: "/api/v1/events", auth: "Bearer " + expired, body: campaign(set("title", "a")), wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "token_signed_with_another_secret_is_401", path: "/api/v1/events", auth: "Bearer " + foreign, body: campaign(set("title", "a")), wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "alg_none_token_is_401", path: "/api/v1/events", auth: "Bearer " + algNone, body: campaign(set("title", "a")), wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "hs512_token_with_the_right_secret_is_401", path: "/api/v1/events", auth: "Bearer " + hs512, body: campaign(set("title", "a")), wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "token_without_exp_is_401", path: "/api/v1/events", auth: "Bearer " + noExpiry, body: campaign(set("title", "a")), wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "token_without_sub_is_401", path: "/api/v1/events", auth: "Bearer " + noSubject, body: campaign(set("title", "a")), wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "bad_token_on_a_bad_body_is_401", path: "/api/v1/events", auth: "Bearer " + expired, body: `{"title": `, wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "no_token_on_a_two_mib_body_is_401", path: "/api/v1/events", body: twoMiB, wantStatus: 401, wantCode: "UNAUTHORIZED"},

		// Drawing.
		{name: "winner_count_0_is_422", path: drawPath(open), auth: bearerA, body: map[string]any{"winnerCount": 0}, wantStatus: 422, wantCode: "INVALID_WINNER_COUNT"},
		{name: "winner_count_negative_is_422", path: drawPath(open), auth: bearerA, body: map[string]any{"winnerCount": -1}, wantStatus: 422, wantCode: "INVALID_WINNER_COUNT"},
		{name: "winner_count_above_the_candidates_is_422", path: drawPath(open), auth: bearerA, body: map[string]any{"winnerCount": 3}, wantStatus: 422, wantCode: "INVALID_WINNER_COUNT"},
		{name: "winner_count_as_a_string_is_400", path: drawPath(open), auth: bearerA, body: `{"winnerCount": "3"}`, wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"winnerCount"}},
		{name: "winner_count_fractional_is_400", path: drawPath(open), auth: bearerA, body: `{"winnerCount": 1.5}`, wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"winnerCount"}},
		{name: "winner_count_missing_is_400", path: drawPath(open), auth: bearerA, body: `{"visitBonus": true}`, wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"winnerCount"}},
		{name: "visit_bonus_as_a_string_is_400", path: drawPath(open), auth: bearerA, body: `{"winnerCount": 1, "visitBonus": "yes"}`, wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"visitBonus"}},
		{name: "draw_unknown_field_is_400", path: drawPath(open), auth: bearerA, body: `{"winnerCount": 1, "redraw": true}`, wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"redraw"}},
		{name: "draw_malformed_json_is_400", path: drawPath(open), auth: bearerA, body: `{"winnerCount": 1`, wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"body"}},
		{name: "draw_two_mib_body_is_413", path: drawPath(open), auth: bearerA, body: twoMiB, wantStatus: 413, wantCode: "PAYLOAD_TOO_LARGE"},
		{name: "draw_of_another_owners_campaign_is_403", path: drawPath(open), auth: bearerB, body: validDraw, wantStatus: 403, wantCode: "FORBIDDEN"},
		{name: "draw_of_another_owners_campaign_with_a_bad_body_is_403", path: drawPath(open), auth: bearerB, body: `{"winnerCount": "x"`, wantStatus: 403, wantCode: "FORBIDDEN"},
		{name: "draw_of_an_unknown_event_is_404", path: drawPath(unknownEvent), auth: bearerA, body: validDraw, wantStatus: 404, wantCode: "EVENT_NOT_FOUND"},
		{name: "draw_with_an_event_id_not_a_uuid_is_400", path: "/api/v1/events/summer-sale/draw-winners", auth: bearerA, body: validDraw, wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"eventId"}},
		{name: "draw_without_a_token_is_401", path: drawPath(open), body: validDraw, wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "draw_with_an_expired_token_is_401", path: drawPath(open), auth: "Bearer " + expired, body: validDraw, wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "draw_with_a_bad_token_on_a_bad_body_is_401", path: drawPath(open), auth: "Bearer " + foreign, body: `{"winnerCount": `, wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "second_draw_is_409", path: drawPath(drawnEvent), auth: bearerA, body: validDraw, wantStatus: 409, wantCode: "ALREADY_DRAWN"},
		{name: "second_draw_with_a_bad_count_is_409_already_drawn", path: drawPath(drawnEvent), auth: bearerA, body: map[string]any{"winnerCount": 0}, wantStatus: 409, wantCode: "ALREADY_DRAWN"},

		// Store visits.
		{name: "visit_on_another_owners_campaign_is_403", path: visitPath(open, first.EntryNumber), auth: bearerB, wantStatus: 403, wantCode: "FORBIDDEN"},
		{name: "visit_of_an_unknown_entry_number_is_404", path: visitPath(open, unusedEntryNumber(first.EntryNumber)), auth: bearerA, wantStatus: 404, wantCode: "PARTICIPANT_NOT_FOUND"},
		{name: "visit_of_another_campaigns_participant_is_404", path: visitPath(open, elsewhere.EntryNumber), auth: bearerA, wantStatus: 404, wantCode: "PARTICIPANT_NOT_FOUND"},
		{name: "visit_of_a_malformed_entry_number_is_400", path: visitPath(open, "no"), auth: bearerA, wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"entryNumber"}},
		{name: "visit_on_an_unknown_event_is_404", path: visitPath(unknownEvent, first.EntryNumber), auth: bearerA, wantStatus: 404, wantCode: "EVENT_NOT_FOUND"},
		{name: "visit_without_a_token_is_401", path: visitPath(open, first.EntryNumber), wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "visit_with_a_token_signed_elsewhere_is_401", path: visitPath(open, first.EntryNumber), auth: "Bearer " + foreign, wantStatus: 401, wantCode: "UNAUTHORIZED"},

		// Verifying a draw.
		{name: "verify_of_an_unknown_draw_is_404", method: http.MethodGet, path: verifyPath(uuid.New()), auth: bearerA, wantStatus: 404, wantCode: "DRAW_LOG_NOT_FOUND"},
		// The draw-log routes name no campaign: another owner's draw answers as an unknown one.
		{name: "verify_of_another_owners_draw_is_404_like_an_unknown_one", method: http.MethodGet, path: verifyPath(drawn.DrawLogID), auth: bearerB, wantStatus: 404, wantCode: "DRAW_LOG_NOT_FOUND"},
		{name: "verify_of_a_malformed_draw_id_is_400", method: http.MethodGet, path: "/api/v1/draw-logs/42/verify", auth: bearerA, wantStatus: 400, wantCode: "INVALID_REQUEST", wantFields: []string{"drawLogId"}},
		{name: "verify_without_a_token_is_401", method: http.MethodGet, path: verifyPath(drawn.DrawLogID), wantStatus: 401, wantCode: "UNAUTHORIZED"},
	}
	// Sequential on purpose: each case counts the store before and after.
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.in(t)
			method := cmp.Or(tc.method, http.MethodPost)
			req, err := a.request(method, tc.path, "", tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			before := a.eventCount()
			ans, err := a.send(req)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := ans.Status, tc.wantStatus; got != want {
				t.Errorf("status = %d, want %d\nbody: %s", got, want, ans.Body)
			}
			e := decode[apiError](t, ans)
			if tc.wantCode != "" {
				if got, want := e.Code, tc.wantCode; got != want {
					t.Errorf("code = %q, want %q", got, want)
				}
			}
			if tc.wantMessage != "" {
				if got, want := e.Message, tc.wantMessage; got != want {
					t.Errorf("message = %q, want %q", got, want)
				}
			}
			for _, field := range tc.wantFields {
				if !slices.Contains(e.fields(), field) {
					t.Errorf("errors[].field = %q, want it to name %q", e.fields(), field)
				}
			}
			if ans.Status == http.StatusUnauthorized && !strings.HasPrefix(ans.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer WWW-Authenticate challenge: %q", ans.Header.Get("WWW-Authenticate"))
			}
			if got, want := a.eventCount(), before; got != want {
				t.Errorf("events stored = %d, want %d (a refused request stores nothing)", got, want)
			}
		})
	}
}
