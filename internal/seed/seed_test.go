package seed_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/seed"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/privacy"
)

func TestSeedWritesRealisticValidEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool)

	piiKeys, err := privacy.NewKeys([]byte("seed-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	var progressed int
	ids, err := seed.Run(ctx, store, seed.Config{
		Campaigns: 2, Participants: 700, VisitRatio: 0.3, OwnerID: "owner-demo",
		PIIKey: []byte("seed-test-key-0123456789"), BatchSize: 250,
		Rand: rand.New(rand.NewPCG(1, 2)), Now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC),
	}, func(n int) { progressed = n })
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(ids), 2; got != want {
		t.Fatalf("campaigns = %d, want %d", got, want)
	}
	if got, want := progressed, 1400; got != want {
		t.Fatalf("progress reached %d, want %d", got, want)
	}
	for _, id := range ids {
		stored, err := store.ReadPartition(ctx, id.String(), []string{domain.TypeParticipantRegistered, domain.TypeStoreVisitRecorded}, 0)
		if err != nil {
			t.Fatal(err)
		}
		registered, visits := 0, 0
		channels := map[domain.EntryPath]int{}
		for _, rec := range stored {
			e, err := domain.DecodeEvent(rec.Type, rec.Data)
			if err != nil {
				t.Fatal(err)
			}
			switch e := e.(type) {
			case domain.ParticipantRegistered:
				registered++
				channels[e.EntryPath]++
				if e.Unsealed() || e.PII == "" || rec.SchemaVersion != domain.RegistrationSchemaVersion {
					t.Fatalf("seeded registration %+v (schema %d) is not sealed", e, rec.SchemaVersion)
				}
				keys, err := store.SubjectKeys(ctx, []uuid.UUID{e.ParticipantID})
				if err != nil {
					t.Fatal(err)
				}
				pd, err := piiKeys.Open(e.ParticipantID, e.PII, keys[e.ParticipantID])
				if err != nil {
					t.Fatalf("open seeded registration: %v", err)
				}
				if _, err := domain.NewRegistration(domain.RegistrationInput{Name: pd.Name, Phone: pd.Phone,
					EntryPath: string(e.EntryPath), PrivacyConsent: e.PrivacyConsent}); err != nil {
					t.Fatalf("seeded registration %+v does not validate: %v", e, err)
				}
			case domain.StoreVisitRecorded:
				visits++
			}
		}
		if got, want := registered, 700; got != want {
			t.Errorf("campaign %s: registrations = %d, want %d", id, got, want)
		}
		if visits < 150 || visits > 270 {
			t.Errorf("campaign %s: visits = %d, want about 30%% of 700", id, visits)
		}
		if len(channels) < 6 {
			t.Errorf("campaign %s: only %d channels used", id, len(channels))
		}
	}
}

func TestSeedAnnouncedCampaignsEndAndAnnounceNow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool)
	now := time.Date(2026, 11, 26, 12, 30, 0, 0, time.UTC)
	tests := []struct {
		name                   string
		announced              bool
		wantEnds, wantAnnounce time.Time
	}{
		{"default: running, announced two weeks on", false, time.Date(2026, 11, 26+14, 12, 0, 0, 0, time.UTC), time.Date(2026, 11, 26+15, 12, 0, 0, 0, time.UTC)},
		{"announced: ended and announced at now", true, now, now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, err := seed.Run(ctx, store, seed.Config{
				Campaigns: 1, Participants: 10, OwnerID: "owner-demo", PIIKey: []byte("seed-test-key-0123456789"),
				Rand: rand.New(rand.NewPCG(3, 4)), Now: now, Announced: tt.announced,
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := store.ReadPartition(ctx, ids[0].String(), []string{domain.TypeCampaignOpened}, 0)
			if err != nil || len(stored) != 1 {
				t.Fatalf("CampaignOpened: %d events, %v", len(stored), err)
			}
			e, err := domain.DecodeEvent(stored[0].Type, stored[0].Data)
			if err != nil {
				t.Fatal(err)
			}
			opened := e.(domain.CampaignOpened)
			if !opened.EndsAt.Equal(tt.wantEnds) || !opened.AnnounceAt.Equal(tt.wantAnnounce) {
				t.Fatalf("endsAt %s, announceAt %s; want %s, %s", opened.EndsAt, opened.AnnounceAt, tt.wantEnds, tt.wantAnnounce)
			}
		})
	}
}
