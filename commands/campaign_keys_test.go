package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/privacy"
)

var testPIIKey = []byte("test-pii-key-0123456789abcdef")

func piiKeys(t *testing.T) *privacy.Keys {
	t.Helper()
	k, err := privacy.NewKeys(testPIIKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pastIDs are the ids phone would have in eventID under every scheme
// derived from PII_KEY alone.
func pastIDs(t *testing.T, eventID uuid.UUID, phone string) []uuid.UUID {
	t.Helper()
	k := piiKeys(t)
	return []uuid.UUID{
		domain.ParticipantID(k.ParticipantIDKey(domain.ParticipantIDLegacy), eventID, phone),
		domain.ParticipantID(k.ParticipantIDKey(domain.ParticipantIDDerived), eventID, phone),
	}
}

// A campaign opened now has a key of its own, stored wrapped: the same
// phone has unrelated ids in two campaigns, and none that PII_KEY alone
// derives; the id is the HMAC under the unwrapped campaign key.
func TestParticipantIDsUseTheCampaignsOwnKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	first, second := f.openCampaign(t, "owner-1"), f.openCampaign(t, "owner-1")
	const phone = "010-1234-5678"
	a, err := register(f, first, phone)
	if err != nil {
		t.Fatal(err)
	}
	b, err := register(f, second, "01012345678")
	if err != nil {
		t.Fatal(err)
	}
	if a.ParticipantID == b.ParticipantID {
		t.Fatal("one phone has one id in two campaigns")
	}
	wrapped, found, err := f.store.CampaignKey(ctx, first)
	if err != nil || !found {
		t.Fatalf("campaign key: found %v, %v", found, err)
	}
	key, err := piiKeys(t).OpenCampaignKey(first, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if got := domain.ParticipantID(key, first, phone); got != a.ParticipantID {
		t.Errorf("id = %s, want the HMAC under the campaign key %s", a.ParticipantID, got)
	}
	for _, old := range pastIDs(t, first, phone) {
		if old == a.ParticipantID {
			t.Errorf("id %s is derivable from PII_KEY alone", old)
		}
	}
	if _, err := piiKeys(t).OpenCampaignKey(second, wrapped); err == nil {
		t.Error("a campaign's wrapped key opens as another campaign's")
	}
	if _, err := register(f, first, "010 1234 5678"); !errors.Is(err, domain.ErrAlreadyParticipated) {
		t.Errorf("duplicate = %v, want ErrAlreadyParticipated", err)
	}
}

// Retention destroys a campaign's key once its last retention has passed,
// idempotently, and only then: afterwards its phones link to nothing, and
// an erasure by phone answers as for an unknown one.
func TestRetentionDestroysTheCampaignKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	eventID, other := f.openCampaign(t, "owner-1"), f.openCampaign(t, "owner-1")
	const phone = "010-2222-3333"
	reg, err := register(f, eventID, phone)
	if err != nil {
		t.Fatal(err)
	}
	announce := testNow.Add(48 * time.Hour) // openCampaign's announceAt
	run := func(at time.Time, dry bool) commands.RetentionReport {
		t.Helper()
		r, err := f.app.Commands.RunRetention.Handle(ctx, commands.RunRetention{Now: at, NonWinners: time.Hour, Winners: 10 * time.Hour, DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name      string
		at        time.Time
		dry       bool
		destroyed int
		keysLeft  bool
	}{
		{"after_the_shorter_retention_the_key_stays", announce.Add(time.Hour), false, 0, true},
		{"dry_run_counts_and_keeps_it", announce.Add(10 * time.Hour), true, 2, true},
		{"after_the_last_retention_it_goes", announce.Add(10 * time.Hour), false, 2, false},
		{"again_nothing_more", announce.Add(11 * time.Hour), false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := run(tt.at, tt.dry); r.KeysDestroyed != tt.destroyed {
				t.Errorf("keys destroyed = %d, want %d", r.KeysDestroyed, tt.destroyed)
			}
			for _, id := range []uuid.UUID{eventID, other} {
				if _, found, err := f.store.CampaignKey(ctx, id); err != nil || found != tt.keysLeft {
					t.Errorf("campaign %s key found = %v (%v), want %v", id, found, err, tt.keysLeft)
				}
			}
		})
	}
	later := announce.Add(12 * time.Hour)
	f.now.Store(&later)
	err = f.app.Commands.EraseMyData.Handle(ctx, commands.EraseMyData{EventID: eventID, Phone: phone, EntryNumber: reg.EntryNumber})
	if !errors.Is(err, domain.ErrParticipantNotFound) {
		t.Errorf("erase by phone after the key's end = %v, want ErrParticipantNotFound", err)
	}
	if _, err := register(f, eventID, phone); !errors.Is(err, domain.ErrEventNotOpen) {
		t.Errorf("register after the key's end = %v, want ErrEventNotOpen", err)
	}
	for _, old := range pastIDs(t, eventID, phone) {
		if old == reg.ParticipantID {
			t.Errorf("the phone still links to %s through PII_KEY", old)
		}
	}
}

// openOldCampaign stores a CampaignOpened as a release before per-campaign
// keys wrote it: the scheme field as it was, and no key row.
func (f *fixture) openOldCampaign(t *testing.T, scheme int) uuid.UUID {
	t.Helper()
	opened, err := domain.OpenCampaign(uuid.New(), "owner-1", "예전 이벤트", testNow.Add(-time.Hour), testNow.Add(24*time.Hour), testNow.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	opened.ParticipantIDScheme = scheme
	data, err := json.Marshal(opened)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Append(context.Background(), opened.StreamID(), eventstore.NoStream, eventstore.EventData{
		PartitionKey: opened.EventID.String(), Type: opened.EventType(), SchemaVersion: domain.SchemaVersion, Data: data,
	}); err != nil {
		t.Fatal(err)
	}
	return opened.EventID
}

// Campaigns opened before keep their scheme: the same ids as before,
// duplicates refused, erasure by phone, and retention leaves them be.
func TestOldSchemeCampaignsKeepTheirIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	for _, scheme := range []int{domain.ParticipantIDLegacy, domain.ParticipantIDDerived} {
		t.Run(map[int]string{0: "legacy", 1: "derived"}[scheme], func(t *testing.T) {
			eventID := f.openOldCampaign(t, scheme)
			const phone = "010-4444-5555"
			reg, err := register(f, eventID, phone)
			if err != nil {
				t.Fatal(err)
			}
			if want := pastIDs(t, eventID, phone)[scheme]; reg.ParticipantID != want {
				t.Errorf("id = %s, want %s as before", reg.ParticipantID, want)
			}
			if _, err := register(f, eventID, "01044445555"); !errors.Is(err, domain.ErrAlreadyParticipated) {
				t.Errorf("duplicate = %v, want ErrAlreadyParticipated", err)
			}
			if _, found, _ := f.store.CampaignKey(ctx, eventID); found {
				t.Error("an old campaign got a key row")
			}
			if err := f.app.Commands.EraseMyData.Handle(ctx, commands.EraseMyData{EventID: eventID, Phone: phone, EntryNumber: reg.EntryNumber}); err != nil {
				t.Errorf("erase by phone = %v", err)
			}
			r, err := f.app.Commands.RunRetention.Handle(ctx, commands.RunRetention{Now: testNow.Add(100 * 24 * time.Hour)})
			if err != nil || r.KeysDestroyed != 0 {
				t.Errorf("retention = %+v, %v; want no key destroyed", r, err)
			}
		})
	}
}
