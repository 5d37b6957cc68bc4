package projections

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/kafka"
)

// BenchmarkDecodeForEveryReadModel reads 1,000 registrations for the five
// read models, each with its own copy of every message as its consumer
// group gets it: decoded by each read model (as before) or once, shared.
func BenchmarkDecodeForEveryReadModel(b *testing.B) {
	const n = 1000
	campaign := uuid.New()
	readers := len(Names())
	copies := make([][]*message.Message, readers)
	for i := range n {
		reg := domain.ParticipantRegistered{ParticipantID: uuid.New(), EventID: campaign,
			EntryNumber: fmt.Sprintf("0000-%04d", i), Name: "김**", Phone: "010-****-5678",
			EntryPath: "KAKAO", PrivacyConsent: true, Timestamp: time.Now()}
		data, _ := json.Marshal(reg)
		rec := eventstore.RecordedEvent{ID: uuid.New(), StreamID: reg.StreamID(), StreamVersion: 1, Position: int64(i + 1),
			PartitionKey: campaign.String(), Type: domain.TypeParticipantRegistered, SchemaVersion: 1, Data: data, RecordedAt: reg.Timestamp}
		for r := range copies {
			copies[r] = append(copies[r], kafka.ToMessage(rec))
		}
	}
	for _, tc := range []struct {
		name    string
		readers int // 1: nothing shared
	}{{"each_read_model", 1}, {"once_shared", readers}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c := newDecodeCache(tc.readers, 2*n)
				for i := range n {
					for r := range copies {
						if _, err := c.get(copies[r][i]); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/message")
		})
	}
}
