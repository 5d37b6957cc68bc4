package app

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/seed"
)

// A draw of 100,000 winners is one WinnersDrawn of about 10 MB. It goes
// through the relay and Kafka like any event (the topic and the producer
// take kafka.MaxMessageBytes) and the winners read model gets every
// winner: nothing is parked, nothing wedges.
// bigWait bounds the read side's work here: 100,000 registrations, then
// the draw, on a shared machine under the race detector.
const bigWait = 10 * time.Minute

func TestADrawOf100000WinnersReachesTheWinnersReadModel(t *testing.T) {
	t.Parallel()
	const winners = 100_000
	a := newTestApp(t)
	ids, err := seed.Run(t.Context(), eventstore.New(a.pool), seed.Config{Campaigns: 1, Participants: winners,
		OwnerID: ownerA, PIIKey: testPIIKey, BatchSize: 5000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	campaign := ids[0]
	drawn := a.draw(ownerA, campaign, winners)
	if len(drawn.Winners) != winners {
		t.Fatalf("draw answered %d winners, want %d", len(drawn.Winners), winners)
	}
	start := time.Now()
	a.run()
	// The read side first works through the 100,000 registrations before the draw.
	waitUntilWithin(t, bigWait, "the participants read model has every registration", func() error {
		var n int64
		if err := a.pool.QueryRow(t.Context(), `SELECT count(*) FROM participants WHERE event_id = $1`, campaign).Scan(&n); err != nil {
			return err
		}
		if n != winners {
			return fmt.Errorf("%d participants in the read model, want %d (relay at %d of %d)", n, winners, a.svc.relay.Position(), a.head())
		}
		return nil
	})
	waitUntilWithin(t, bigWait, "the winners read model has every winner", func() error {
		var n int64
		if err := a.pool.QueryRow(t.Context(), `SELECT count(*) FROM winners WHERE event_id = $1`, campaign).Scan(&n); err != nil {
			return err
		}
		if n != winners {
			return fmt.Errorf("%d winners in the read model, want %d (relay at %d of %d)", n, winners, a.svc.relay.Position(), a.head())
		}
		return nil
	})
	t.Logf("read side: 100,000 registrations and the draw projected in %v", time.Since(start).Round(time.Millisecond))
	var parked int64
	if err := a.pool.QueryRow(t.Context(), `SELECT count(*) FROM parked_events`).Scan(&parked); err != nil {
		t.Fatal(err)
	}
	if parked != 0 {
		t.Errorf("%d events parked, want none", parked)
	}
}
