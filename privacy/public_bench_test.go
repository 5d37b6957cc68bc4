package privacy_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/privacy"
)

// BenchmarkPublic publicizes a relay batch of 1,000 sealed registrations
// (keys from memory: the database's share is the relay benchmark's).
func BenchmarkPublic(b *testing.B) {
	k, err := privacy.NewKeys(root)
	if err != nil {
		b.Fatal(err)
	}
	src := keySource{}
	campaign := uuid.New()
	events := make([]eventstore.RecordedEvent, 1000)
	for i := range events {
		id := uuid.New()
		sealed, wrapped, err := k.Seal(rand.Reader, id, domain.PersonalData{Name: "김철수", Phone: fmt.Sprintf("010-1234-%04d", i)})
		if err != nil {
			b.Fatal(err)
		}
		src[id] = wrapped
		data, _ := json.Marshal(domain.ParticipantRegistered{ParticipantID: id, EventID: campaign, EntryNumber: "ABCD-2345",
			PII: sealed, EntryPath: domain.EntryPathKakao, PrivacyConsent: true, Timestamp: time.Now()})
		events[i] = eventstore.RecordedEvent{Type: domain.TypeParticipantRegistered, SchemaVersion: 2, Data: data}
	}
	p := privacy.NewPublicizer(k, src, nil)
	for b.Loop() {
		if _, err := p.Public(context.Background(), events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
}
