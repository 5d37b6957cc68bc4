package relay_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/relay"
)

// A WinnersDrawn of 100,000 winners (about 10 MB of JSON) is one Kafka
// message like any other: the topic the relay creates and its producer take
// it, nothing is parked, and a consumer reads it whole.
func TestAWinnersDrawnOf100000WinnersGoesOutAsOneMessage(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	brokers, topic := testenv.KafkaBrokers(t), testenv.Topic(t)
	campaign := uuid.New()
	drawn := domain.WinnersDrawn{DrawID: uuid.New(), EventID: campaign, WinnerCount: 100_000, Algorithm: "test",
		CandidateCount: 100_000, DrawnAt: time.Now().UTC(), DrawnBy: "owner"}
	for i := range drawn.WinnerCount {
		drawn.Winners = append(drawn.Winners, domain.Winner{ParticipantID: uuid.New(), EntryNumber: fmt.Sprintf("E%07d", i), Rank: i + 1})
	}
	data, err := json.Marshal(drawn)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < kafka.MaxMessageBytes/10 {
		t.Fatalf("the event is only %d bytes: not the large event this test is about", len(data))
	}
	before, after := small(campaign.String(), 1), small(campaign.String(), 2)
	appendOne(t, store, before)
	appendOne(t, store, eventstore.EventData{ID: uuid.New(), Type: domain.TypeWinnersDrawn, SchemaVersion: 1,
		PartitionKey: campaign.String(), Data: data})
	appendOne(t, store, after)

	r, _ := startRelay(t, store, relay.Config{Topic: topic, Brokers: brokers})
	waitFor(t, "the relay settles the draw", caughtUp(t, store, r))
	if parked := listParked(t, store); len(parked) != 0 {
		t.Fatalf("parked %+v, want nothing", parked)
	}
	records := readTopic(t, brokers, topic, 3)
	if len(records) != 3 || records[2].id() != after.ID.String() {
		t.Fatalf("topic carried %d records, want the 3 events in order", len(records))
	}
	var got domain.WinnersDrawn
	if err := json.Unmarshal(records[1].value, &got); err != nil {
		t.Fatalf("the draw's message (%d bytes) does not decode: %v", len(records[1].value), err)
	}
	if len(got.Winners) != drawn.WinnerCount || got.Winners[99_999] != drawn.Winners[99_999] {
		t.Fatalf("the draw's message carries %d winners, want %d, the last one intact", len(got.Winners), drawn.WinnerCount)
	}
}
