// Package relay publishes the event store to Kafka: it tails the store in
// global order from a durable checkpoint, one leader per database, and sends
// every event as one Kafka message through a batching Watermill publisher of
// its own. An event Kafka refuses for good is parked, with its campaign's
// later events held behind it, so that nothing wedges the pipeline.
package relay

// MaxMessageBytes is the largest Kafka message the relay produces and the
// max.message.bytes it gives the topic it creates: a WinnersDrawn of 100,000
// winners is about 10 MB of JSON. Consumers size their fetches with it.
const MaxMessageBytes = 32 << 20
