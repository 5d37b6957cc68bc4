package privacy_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/privacy"
)

// registrations is a store of sealed registrations and their data keys.
type registrations struct {
	keySource
	stored map[string]eventstore.RecordedEvent // by stream
}

func (r registrations) ReadStreamsOfType(_ context.Context, streams []string, eventType string) ([]eventstore.RecordedEvent, error) {
	var out []eventstore.RecordedEvent
	for _, s := range streams {
		if e, ok := r.stored[s]; ok && e.Type == eventType {
			out = append(out, e)
		}
	}
	return out, nil
}

// register seals pd for a new participant; erased: its data key is gone.
func (r registrations) register(t *testing.T, k *privacy.Keys, pd domain.PersonalData, erased bool) uuid.UUID {
	t.Helper()
	id := uuid.New()
	sealed, wrapped, err := k.Seal(rand.Reader, id, pd)
	if err != nil {
		t.Fatal(err)
	}
	if !erased {
		r.keySource[id] = wrapped
	}
	data, _ := json.Marshal(domain.ParticipantRegistered{ParticipantID: id, EventID: uuid.New(), EntryNumber: "ABCD-2345", PII: sealed})
	r.stored[domain.ParticipantStream(id)] = eventstore.RecordedEvent{Type: domain.TypeParticipantRegistered, SchemaVersion: 2, Data: data}
	return id
}

// The relay publishes a draw with each winner's and alternate's masked
// values, computed here from the registrations, so the read models need no
// key; an erased winner's are empty; the stored event is left as it was.
func TestPublicizerMasksTheDrawsWinners(t *testing.T) {
	t.Parallel()
	k := keys(t, root)
	src := registrations{keySource: keySource{}, stored: map[string]eventstore.RecordedEvent{}}
	winner := src.register(t, k, domain.PersonalData{Name: "김철수", Phone: "010-1234-5678"}, false)
	erased := src.register(t, k, domain.PersonalData{Name: "이영희", Phone: "010-2222-3333"}, true)
	alternate := src.register(t, k, domain.PersonalData{Name: "박민", Phone: "010-9876-5432"}, false)
	drawn := domain.WinnersDrawn{DrawID: uuid.New(), EventID: uuid.New(), WinnerCount: 2, Algorithm: "test", DrawnAt: time.Now().UTC(),
		Winners:    []domain.Winner{{ParticipantID: winner, EntryNumber: "AAAA-1111", Rank: 1}, {ParticipantID: erased, EntryNumber: "BBBB-2222", Rank: 2}},
		Alternates: []domain.Winner{{ParticipantID: alternate, EntryNumber: "CCCC-3333", Rank: 1}}}
	stored, _ := json.Marshal(drawn)
	events := []eventstore.RecordedEvent{{Type: domain.TypeWinnersDrawn, Data: stored}}

	out, err := privacy.NewPublicizer(k, src, nil).Public(context.Background(), events)
	if err != nil {
		t.Fatal(err)
	}
	var got domain.WinnersDrawn
	if err := json.Unmarshal(out[0].Data, &got); err != nil {
		t.Fatal(err)
	}
	want := []domain.Winner{
		{ParticipantID: winner, EntryNumber: "AAAA-1111", Rank: 1, Name: "김**", Phone: "010-****-5678", ListedName: "김*수"},
		{ParticipantID: erased, EntryNumber: "BBBB-2222", Rank: 2},
		{ParticipantID: alternate, EntryNumber: "CCCC-3333", Rank: 1, Name: "박*", Phone: "010-****-5432", ListedName: "박*"},
	}
	if all := slices.Concat(got.Winners, got.Alternates); !slices.Equal(all, want) {
		t.Errorf("published winners and alternates =\n%+v\nwant\n%+v", all, want)
	}
	if got.DrawID != drawn.DrawID || got.Algorithm != drawn.Algorithm || !got.DrawnAt.Equal(drawn.DrawnAt) {
		t.Errorf("the draw's own fields changed: %s", out[0].Data)
	}
	for _, raw := range []string{"김철수", "1234-5678", "이영희", "박민\"", "9876"} {
		if strings.Contains(string(out[0].Data), raw) {
			t.Errorf("the published draw holds %q: %s", raw, out[0].Data)
		}
	}
	if string(events[0].Data) != string(stored) {
		t.Error("Public changed its input")
	}
}

// Mask is the one definition of the masked forms: the owner's name and
// phone, and the published list's name.
func TestMask(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		in   domain.PersonalData
		want privacy.Masked
	}{
		{"three_letters", domain.PersonalData{Name: "김철수", Phone: "010-1234-5678"}, privacy.Masked{Name: "김**", Phone: "010-****-5678", Listed: "김*수"}},
		{"two_letters", domain.PersonalData{Name: "김수", Phone: "010-1234-5678"}, privacy.Masked{Name: "김*", Phone: "010-****-5678", Listed: "김*"}},
		{"erased_is_empty", domain.PersonalData{}, privacy.Masked{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := privacy.Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%+v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// An undecodable registration is published undecodable, carrying nothing
// of the original: every reader skips it as poison, as the rebuild does.
func TestPublicizerKeepsPoisonPoison(t *testing.T) {
	t.Parallel()
	stored := eventstore.RecordedEvent{Type: domain.TypeParticipantRegistered, Data: []byte(`{"participantId": 5, "name": "김철수"}`)}
	out, err := privacy.NewPublicizer(keys(t, root), keySource{}, nil).Public(context.Background(), []eventstore.RecordedEvent{stored})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := domain.DecodeEvent(out[0].Type, out[0].Data); err == nil || strings.Contains(string(out[0].Data), "김") {
		t.Errorf("published %s (decodes: %v), want something undecodable without the name", out[0].Data, err == nil)
	}
}
