// Package relay publishes the event store to Kafka: it tails the store in
// global order from a durable checkpoint, one leader per database, and sends
// every event as one Kafka message through a batching Watermill publisher of
// its own. An event Kafka refuses for good is parked, with its campaign's
// later events held behind it, so that nothing wedges the pipeline.
package relay

import "github.com/shopevents/participation/eventstore"

// MaxMessageBytes is the largest Kafka message the relay produces and the
// max.message.bytes of the topic it creates (eventstore.MaxMessageBytes,
// which the projections, who may not import relay, read).
const MaxMessageBytes = eventstore.MaxMessageBytes
