package domain_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

var (
	testEventID = uuid.MustParse("4f1c2a0e-8a53-4d2e-9a61-3c0b8f2d7e11")
	testKey     = []byte("test-pii-key-of-at-least-32-bytes!!")
	t0          = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
)

// jsonKeys returns the top-level JSON keys of v, sorted.
func jsonKeys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestEventJSONNamesFollowTheDesign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		event any
		want  string // space-separated, sorted
	}{
		{"campaign_opened", domain.CampaignOpened{}, "announceAt endsAt eventId ownerId startsAt title"},
		{"campaign_opened_since_the_key_split", domain.CampaignOpened{ParticipantIDScheme: domain.ParticipantIDDerived}, "announceAt endsAt eventId ownerId participantIdScheme startsAt title"},
		{"participant_registered_as_stored", domain.ParticipantRegistered{}.Sealed("x"), "entryNumber entryPath eventId participantId pii privacyConsent timestamp"},
		{"participant_erased", domain.ParticipantErased{}, "erasedAt erasedBy eventId participantId reason"},
		{"winner_contact_revealed", domain.WinnerContactRevealed{}, "eventId participantId revealedAt revealedBy"},
		{"store_visit_recorded", domain.StoreVisitRecorded{}, "eventId participantId visitedAt"},
		{"winners_drawn_v1", domain.WinnersDrawn{CandidatesDigest: "x"}, "algorithm candidateCount candidatesDigest cutoffPosition drawId drawnAt drawnBy eventId seed visitBonus visitBonusWeight winnerCount winners"},
		{"winners_drawn_v2_drand", domain.WinnersDrawn{Beacon: &domain.DrawBeacon{}, Alternates: []domain.Winner{{}}}, "algorithm alternates beacon candidateCount cutoffPosition drawId drawnAt drawnBy eventId seed visitBonus visitBonusWeight winnerCount winners"},
		{"draw_committed", domain.DrawCommitted{}, "algorithm alternateCount candidateCount candidatesRoot committedAt committedBy cutoffPosition drawId eventId randomness visitBonus visitBonusWeight winnerCount"},
		{"draw_randomness_local", domain.DrawRandomness{Source: domain.RandomnessLocal}, "source"},
		{"draw_randomness_drand", domain.DrawRandomness{Source: domain.RandomnessDrand, ChainHash: "x", Round: 1}, "chainHash round source"},
		{"draw_beacon", domain.DrawBeacon{}, "randomness round signature"},
		{"winner", domain.Winner{}, "entryNumber participantId rank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(strings.Fields(tt.want), jsonKeys(t, tt.event)); diff != "" {
				t.Errorf("JSON keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEventTypesAndStreams(t *testing.T) {
	t.Parallel()
	pid := uuid.MustParse("8e0b1d2c-3f4a-8b5c-9d6e-7f8091a2b3c4")
	tests := []struct {
		name       string
		event      domain.Event
		wantType   string
		wantStream string
	}{
		{"campaign_opened_lives_in_the_campaign_stream", domain.CampaignOpened{EventID: testEventID}, "CampaignOpened", "campaign-" + testEventID.String()},
		{"registration_lives_in_the_participant_stream", domain.ParticipantRegistered{ParticipantID: pid, EventID: testEventID}, "ParticipantRegistered", "participant-" + pid.String()},
		{"visit_lives_in_the_participant_stream", domain.StoreVisitRecorded{ParticipantID: pid, EventID: testEventID}, "StoreVisitRecorded", "participant-" + pid.String()},
		{"draw_lives_in_the_draw_stream", domain.WinnersDrawn{EventID: testEventID}, "WinnersDrawn", "draw-" + testEventID.String()},
		{"commit_lives_in_the_draw_stream", domain.DrawCommitted{EventID: testEventID}, "DrawCommitted", "draw-" + testEventID.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, want := tt.event.EventType(), tt.wantType; got != want {
				t.Errorf("EventType() = %q, want %q", got, want)
			}
			if got, want := tt.event.StreamID(), tt.wantStream; got != want {
				t.Errorf("StreamID() = %q, want %q", got, want)
			}
		})
	}
}

func TestDecodeEventRoundTrips(t *testing.T) {
	t.Parallel()
	events := []domain.Event{
		domain.CampaignOpened{EventID: testEventID, OwnerID: "owner-1", Title: "봄맞이 이벤트", StartsAt: t0, EndsAt: t0.Add(time.Hour), AnnounceAt: t0.Add(2 * time.Hour),
			ClaimDeadline: t0.Add(3 * time.Hour)},
		domain.ParticipantRegistered{ParticipantID: uuid.New(), EventID: testEventID, EntryNumber: "ABCD-2345", Name: "김철수", Phone: "010-1234-5678", EntryPath: domain.EntryPathKakao, PrivacyConsent: true, Timestamp: t0},
		domain.StoreVisitRecorded{ParticipantID: uuid.New(), EventID: testEventID, VisitedAt: t0},
		domain.WinnersDrawn{DrawID: uuid.New(), EventID: testEventID, WinnerCount: 1, Winners: []domain.Winner{{ParticipantID: uuid.New(), EntryNumber: "ABCD-2345", Rank: 1}}, DrawnAt: t0},
		domain.DrawCommitted{DrawID: uuid.New(), EventID: testEventID, Algorithm: domain.DrawAlgorithmMerkleV2, WinnerCount: 1, AlternateCount: 2,
			CandidateCount: 3, CandidatesRoot: "ab", Randomness: domain.DrawRandomness{Source: domain.RandomnessDrand, ChainHash: "cd", Round: 7}, CommittedAt: t0},
		domain.WinnersDrawn{DrawID: uuid.New(), EventID: testEventID, Algorithm: domain.DrawAlgorithmMerkleV2, Beacon: &domain.DrawBeacon{Round: 7, Signature: "ef", Randomness: "01"},
			Winners: []domain.Winner{{ParticipantID: uuid.New(), EntryNumber: "ABCD-2345", Rank: 1}}, Alternates: []domain.Winner{{ParticipantID: uuid.New(), EntryNumber: "ABCD-2346", Rank: 1}}, DrawnAt: t0},
	}
	for _, e := range events {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := domain.DecodeEvent(e.EventType(), data)
		if err != nil {
			t.Fatalf("DecodeEvent(%s): %v", e.EventType(), err)
		}
		if diff := cmp.Diff(e, got); diff != "" {
			t.Errorf("DecodeEvent(%s) (-want +got):\n%s", e.EventType(), diff)
		}
	}
	if _, err := domain.DecodeEvent("CampaignRenamed", []byte(`{}`)); !errors.Is(err, domain.ErrUnknownEventType) {
		t.Errorf("DecodeEvent(unknown) error = %v, want ErrUnknownEventType", err)
	}
	if _, err := domain.DecodeEvent(domain.TypeCampaignOpened, []byte(`{`)); err == nil {
		t.Error("DecodeEvent(malformed JSON) error = nil, want an error")
	}
}

func TestParticipantID(t *testing.T) {
	t.Parallel()
	const phone = "010-1234-5678"
	id := domain.ParticipantID(testKey, testEventID, phone)

	if got, want := domain.ParticipantID(testKey, testEventID, phone), id; got != want {
		t.Errorf("same (event, phone) gave %s, then %s", want, got)
	}
	if got, want := id.Version(), uuid.Version(8); got != want {
		t.Errorf("version = %d, want %d", got, want)
	}
	if got, want := id.Variant(), uuid.RFC4122; got != want {
		t.Errorf("variant = %v, want %v", got, want)
	}
	others := map[string]uuid.UUID{
		"other_phone": domain.ParticipantID(testKey, testEventID, "010-1234-5679"),
		"other_event": domain.ParticipantID(testKey, uuid.New(), phone),
		"other_key":   domain.ParticipantID([]byte("another key"), testEventID, phone),
	}
	for name, other := range others {
		if other == id {
			t.Errorf("%s: same participant id %s", name, id)
		}
	}
	if s := domain.ParticipantStream(id); strings.Contains(strings.ReplaceAll(s, "-", ""), "12345678") {
		t.Errorf("stream %q shows the phone", s)
	}
}
