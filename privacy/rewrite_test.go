package privacy_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/privacy"
)

// A store written before encryption: migrate seals it once, and a second
// run finds nothing to do.
func TestSealLegacyRewritesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t, 4)
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool)
	k := keys(t, root)
	campaign := uuid.New()
	var ids []uuid.UUID
	for i := range 1500 { // more than one page
		reg := domain.ParticipantRegistered{ParticipantID: uuid.New(), EventID: campaign, EntryNumber: fmt.Sprintf("E%04d", i), // unique per campaign, as the store requires
			Name: pd.Name, Phone: pd.Phone, EntryPath: domain.EntryPathKakao, PrivacyConsent: true, Timestamp: time.Now()}
		data, _ := json.Marshal(reg)
		if _, err := store.Append(ctx, reg.StreamID(), eventstore.NoStream, eventstore.EventData{
			Type: reg.EventType(), SchemaVersion: 1, PartitionKey: campaign.String(), Data: data}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, reg.ParticipantID)
	}
	for _, want := range []int{1500, 0} {
		n, err := privacy.SealLegacy(ctx, store, k, rand.Reader, slog.New(slog.DiscardHandler))
		if err != nil || n != want {
			t.Fatalf("SealLegacy = %d, %v; want %d", n, err, want)
		}
	}
	var clear int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE data ? 'name' OR data ? 'phone' OR schema_version < 2`).Scan(&clear); err != nil || clear != 0 {
		t.Fatalf("events still in clear: %d (%v)", clear, err)
	}
	stored, err := store.ReadStream(ctx, domain.ParticipantStream(ids[1234]))
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := store.SubjectKeys(ctx, []uuid.UUID{ids[1234]})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := domain.DecodeStored(stored[0].Type, stored[0].SchemaVersion, stored[0].Data)
	got, err := k.OpenRegistration(e.(domain.ParticipantRegistered), wrapped[ids[1234]])
	if err != nil || got != pd {
		t.Fatalf("rewritten registration opens to %+v, %v; want %+v", got, err, pd)
	}
}
