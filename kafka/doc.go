// Package kafka owns the wire between the store and its readers: the
// envelope (one message per event: the event id as the message UUID, its
// JSON data as the payload, the rest in metadata headers that
// watermill-kafka/v3 reads and writes the same way), a batching franz-go
// producer behind Watermill's message.Publisher, a consumer-group
// subscriber behind message.Subscriber that commits contiguous acks, topic
// administration, and which of Kafka's errors are refusals for good.
package kafka
