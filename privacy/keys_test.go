package privacy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/privacy"
)

var (
	root = []byte("privacy-test-root-key-0123456789")
	pd   = domain.PersonalData{Name: "김철수", Phone: "010-1234-5678"}
)

func keys(t *testing.T, root []byte) *privacy.Keys {
	t.Helper()
	k, err := privacy.NewKeys(root)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpens(t *testing.T) {
	t.Parallel()
	k, id := keys(t, root), uuid.New()
	sealed, wrapped, err := k.Seal(rand.Reader, id, pd)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "철수") || bytes.Contains(wrapped, []byte("1234")) {
		t.Fatal("sealed data shows personal data")
	}
	other, otherWrapped, _ := k.Seal(rand.Reader, uuid.New(), pd)
	tests := []struct {
		name    string
		keys    *privacy.Keys
		id      uuid.UUID
		sealed  string
		wrapped []byte
		wantErr bool
	}{
		{"own_key_opens", k, id, sealed, wrapped, false},
		{"another_participants_id_does_not", k, uuid.New(), sealed, wrapped, true},
		{"another_participants_key_does_not", k, id, sealed, otherWrapped, true},
		{"another_participants_data_does_not", k, id, other, wrapped, true},
		{"another_PII_KEY_does_not", keys(t, []byte("another-root-key-0123456789abcdef")), id, sealed, wrapped, true},
		{"garbage_does_not", k, id, "!!", wrapped, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.keys.Open(tt.id, tt.sealed, tt.wrapped)
			if tt.wantErr {
				if !errors.Is(err, privacy.ErrUnreadable) {
					t.Errorf("Open = %+v, %v; want ErrUnreadable", got, err)
				}
				return
			}
			if err != nil || got != pd {
				t.Errorf("Open = %+v, %v; want %+v", got, err, pd)
			}
		})
	}
}

// The participant-id key is derived with its own label: not PII_KEY itself
// (that is the legacy scheme's), and stable.
func TestParticipantIDKeys(t *testing.T) {
	t.Parallel()
	k := keys(t, root)
	legacy, derived := k.ParticipantIDKey(domain.ParticipantIDLegacy), k.ParticipantIDKey(domain.ParticipantIDDerived)
	if !bytes.Equal(legacy, root) || bytes.Equal(derived, root) || len(derived) != 32 {
		t.Fatalf("legacy %x, derived %x; want PII_KEY itself and a 32-byte key of its own", legacy, derived)
	}
	if !bytes.Equal(derived, keys(t, root).ParticipantIDKey(domain.ParticipantIDDerived)) {
		t.Fatal("the derived key is not stable")
	}
}

// The idempotency key has a label of its own, and a per-campaign scheme's
// key comes from no derivation: ParticipantIDKey gives none, which the
// domain refuses.
func TestIdempotencyKeyAndCampaignScheme(t *testing.T) {
	t.Parallel()
	k := keys(t, root)
	idem := k.IdempotencyKey()
	for _, other := range [][]byte{root, k.ParticipantIDKey(domain.ParticipantIDDerived)} {
		if bytes.Equal(idem, other) {
			t.Fatal("the idempotency key equals another key")
		}
	}
	if len(idem) != 32 || !bytes.Equal(idem, keys(t, root).IdempotencyKey()) || bytes.Equal(idem, keys(t, []byte("another-root-key-0123456789abcdef")).IdempotencyKey()) {
		t.Fatal("the idempotency key is not a stable 32-byte key of PII_KEY")
	}
	if got := k.ParticipantIDKey(domain.ParticipantIDCampaignKey); got != nil {
		t.Fatalf("ParticipantIDKey(campaign scheme) = %x, want none", got)
	}
}

// A campaign key is random, wrapped by the KEK and bound to its campaign.
func TestCampaignKeyWraps(t *testing.T) {
	t.Parallel()
	k, campaign := keys(t, root), uuid.New()
	key, wrapped, err := k.NewCampaignKey(rand.Reader, campaign)
	if err != nil {
		t.Fatal(err)
	}
	if other, _, _ := k.NewCampaignKey(rand.Reader, campaign); len(key) != 32 || bytes.Equal(key, other) || bytes.Contains(wrapped, key) {
		t.Fatal("a campaign key is not 32 fresh bytes, or shows in its wrapped form")
	}
	tests := []struct {
		name     string
		keys     *privacy.Keys
		campaign uuid.UUID
		wantErr  bool
	}{
		{"own_campaign_opens", k, campaign, false},
		{"another_campaign_does_not", k, uuid.New(), true},
		{"another_PII_KEY_does_not", keys(t, []byte("another-root-key-0123456789abcdef")), campaign, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.keys.OpenCampaignKey(tt.campaign, wrapped)
			if tt.wantErr != (err != nil) || (!tt.wantErr && !bytes.Equal(got, key)) {
				t.Fatalf("OpenCampaignKey = %x, %v", got, err)
			}
		})
	}
}

type keySource map[uuid.UUID][]byte

func (s keySource) SubjectKeys(_ context.Context, ids []uuid.UUID) (map[uuid.UUID][]byte, error) {
	out := map[uuid.UUID][]byte{}
	for _, id := range ids {
		if k, ok := s[id]; ok {
			out[id] = k
		}
	}
	return out, nil
}

func TestPublicizerMasksAndForgets(t *testing.T) {
	t.Parallel()
	k := keys(t, root)
	live, erased, legacy := uuid.New(), uuid.New(), uuid.New()
	sealedLive, wrappedLive, _ := k.Seal(rand.Reader, live, pd)
	sealedErased, _, _ := k.Seal(rand.Reader, erased, pd)
	reg := func(id uuid.UUID, e domain.ParticipantRegistered, schema int) eventstore.RecordedEvent {
		e.ParticipantID, e.EventID, e.EntryNumber, e.EntryPath = id, uuid.New(), "ABCD-2345", domain.EntryPathKakao
		data, _ := json.Marshal(e)
		return eventstore.RecordedEvent{Type: domain.TypeParticipantRegistered, SchemaVersion: schema, Data: data}
	}
	visit := eventstore.RecordedEvent{Type: domain.TypeStoreVisitRecorded, Data: []byte(`{"participantId":"x"}`)}
	events := []eventstore.RecordedEvent{
		reg(live, domain.ParticipantRegistered{PII: sealedLive}, 2),
		reg(erased, domain.ParticipantRegistered{PII: sealedErased}, 2),
		reg(legacy, domain.ParticipantRegistered{Name: pd.Name, Phone: pd.Phone}, 1),
		visit,
	}
	out, err := privacy.NewPublicizer(k, keySource{live: wrappedLive}, nil).Public(context.Background(), events)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, phone string }{{"김**", "010-****-5678"}, {"", ""}, {"김**", "010-****-5678"}}
	for i, w := range want {
		var got map[string]any
		_ = json.Unmarshal(out[i].Data, &got)
		if got["name"] != w.name || got["phone"] != w.phone || got["pii"] != nil {
			t.Errorf("event %d public = %s, want name %q phone %q and no pii", i, out[i].Data, w.name, w.phone)
		}
	}
	if string(out[3].Data) != string(visit.Data) {
		t.Errorf("a visit changed: %s", out[3].Data)
	}
	if !strings.Contains(string(events[0].Data), "pii") {
		t.Error("Public changed its input")
	}
}

// A page of a rebuild opens its registrations on every CPU, each into its own place.
func TestPublicizerLargeBatchKeepsOrder(t *testing.T) {
	t.Parallel()
	k := keys(t, root)
	src := keySource{}
	var events []eventstore.RecordedEvent
	for i := range 2000 {
		id := uuid.New()
		phone := fmt.Sprintf("010-1234-%04d", i)
		sealed, wrapped, err := k.Seal(rand.Reader, id, domain.PersonalData{Name: "김철수", Phone: phone})
		if err != nil {
			t.Fatal(err)
		}
		src[id] = wrapped
		data, _ := json.Marshal(domain.ParticipantRegistered{ParticipantID: id, EventID: id, EntryNumber: "ABCD-2345", PII: sealed})
		events = append(events, eventstore.RecordedEvent{Type: domain.TypeParticipantRegistered, SchemaVersion: 2, Data: data},
			eventstore.RecordedEvent{Type: domain.TypeStoreVisitRecorded, Data: []byte(`{}`)})
	}
	out, err := privacy.NewPublicizer(k, src, nil).Public(context.Background(), events)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(out); i += 2 {
		var got domain.ParticipantRegistered
		_ = json.Unmarshal(out[i].Data, &got)
		if want := fmt.Sprintf("010-****-%04d", i/2); got.Phone != want || got.Name != "김**" {
			t.Fatalf("event %d: %q %q, want 김** %q", i, got.Name, got.Phone, want)
		}
		if string(out[i+1].Data) != "{}" {
			t.Fatalf("event %d changed: %s", i+1, out[i+1].Data)
		}
	}
}

// The verification key has a label of its own: stable, 32 bytes, and equal
// to no other key of the same PII_KEY.
func TestVerificationKeyOwnLabel(t *testing.T) {
	t.Parallel()
	k := keys(t, root)
	v := k.VerificationKey()
	for _, other := range [][]byte{root, k.IdempotencyKey(), k.ParticipantIDKey(domain.ParticipantIDDerived)} {
		if bytes.Equal(v, other) {
			t.Fatal("the verification key equals another key")
		}
	}
	if len(v) != 32 || !bytes.Equal(v, keys(t, root).VerificationKey()) || bytes.Equal(v, keys(t, []byte("another-root-key-0123456789abcdef")).VerificationKey()) {
		t.Fatal("the verification key is not a stable 32-byte key of PII_KEY")
	}
}

// ReadStreamsOfType: these tests' events name no winner.
func (keySource) ReadStreamsOfType(context.Context, []string, string) ([]eventstore.RecordedEvent, error) {
	return nil, nil
}
