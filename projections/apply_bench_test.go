package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/projections"
)

// BenchmarkApplyRegistration applies registrations of one campaign one by
// one, as a live projector does (one transaction per event).
func BenchmarkApplyRegistration(b *testing.B) {
	for _, name := range projections.Names() {
		b.Run(name, func(b *testing.B) {
			e := newEnv(b)
			p, err := projections.NewProjector(name, e.pool, nil)
			if err != nil {
				b.Fatal(err)
			}
			campaign := uuid.New()
			at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			for i := 0; b.Loop(); i++ {
				reg := domain.ParticipantRegistered{ParticipantID: uuid.New(), EventID: campaign,
					EntryNumber: fmt.Sprintf("%04d-%04d", i/10000, i%10000), Name: "김철수", Phone: "010-1234-5678",
					EntryPath: "INSTAGRAM", PrivacyConsent: true, Timestamp: at.Add(time.Duration(i) * time.Second)}
				data, _ := json.Marshal(reg)
				ev := eventstore.RecordedEvent{ID: uuid.New(), StreamID: reg.StreamID(), StreamVersion: 1, Position: int64(i + 1),
					PartitionKey: campaign.String(), Type: domain.TypeParticipantRegistered, SchemaVersion: 1, Data: data, RecordedAt: reg.Timestamp}
				if err := p.Apply(context.Background(), ev); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
