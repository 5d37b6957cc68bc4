// Package relay publishes the event store to Kafka: it tails the store in
// global order from a durable checkpoint, one leader per database, and sends
// every event as one Kafka message through a batching Watermill publisher of
// its own. An event Kafka refuses for good is parked, with its campaign's
// later events held behind it, so that nothing wedges the pipeline.
package relay
