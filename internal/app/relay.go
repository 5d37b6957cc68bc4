package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/projections"
	"github.com/shopevents/participation/relay"
)

// newRelay builds the relay role: the store tailed to Kafka, personal data
// opened and masked on the way out, refused events parked.
func newRelay(store *eventstore.Store, d deps, publicize projections.Publicize, registry prometheus.Registerer) (*relay.Relay, error) {
	return relay.New(store, relay.Config{
		Topic:      d.Topic,
		Brokers:    d.Brokers,
		Partitions: d.Partitions,
		Publicize:  publicize,
		Logger:     d.Logger,
		Registerer: registry,
	})
}

// relayLag is the number of stored events not yet published.
func relayLag(store *eventstore.Store, r *relay.Relay) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "participation_relay_lag_events",
		Help: "Events in the store not yet published to Kafka (store head minus published position).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		head, err := store.Head(ctx)
		if err != nil {
			return -1
		}
		return float64(head - r.Position())
	})
}

// relayLeader says which instance publishes (one per database; the others
// stand by), so an operator, and the take-over test, can see it move.
func relayLeader(r *relay.Relay) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "participation_relay_leader",
		Help: "1 while this instance's relay holds the leadership lock and publishes, 0 while it stands by.",
	}, func() float64 {
		if r.Leader() {
			return 1
		}
		return 0
	})
}
