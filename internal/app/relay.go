package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/projections"
)

// newRelay builds the relay role: the store tailed to Kafka, personal data
// masked on the way out.
func newRelay(store *eventstore.Store, brokers []string, topic string, publicize projections.Publicize, logger *slog.Logger) (*eventstore.Relay, error) {
	return store.NewRelay(eventstore.RelayConfig{
		Topic:     topic,
		Connect:   func() (message.Publisher, error) { return eventstore.NewKafkaPublisher(brokers, logger) },
		Publicize: publicize,
		Logger:    logger,
	})
}

// relayLag is the number of stored events not yet published.
func relayLag(store *eventstore.Store, relay *eventstore.Relay) prometheus.Collector {
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
		return float64(head - relay.Position())
	})
}
