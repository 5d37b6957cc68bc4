package kafka

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/shopevents/participation/eventstore"
)

// MaxMessageBytes is the largest message a published event may be: the relay
// produces up to it and gives the topic it creates this max.message.bytes,
// and consumers size their fetches with it. A WinnersDrawn of 100,000
// winners is about 10 MB of JSON.
const MaxMessageBytes = 32 << 20

// UUIDHeader carries the message UUID, as watermill-kafka's marshaler does,
// so Watermill's Kafka subscribers read our messages unchanged.
const UUIDHeader = "_watermill_message_uuid"

// FetchMaxPartitionBytes bounds one partition's part of a fetch: at least
// MaxMessageBytes (a test checks), so a 100,000-winner WinnersDrawn is
// always fetchable.
const FetchMaxPartitionBytes = 64 << 20

// Metadata keys of a published event. The message UUID is the event id and
// the payload is the event's JSON data, unchanged.
const (
	MetaEventType     = "event_type"
	MetaStreamID      = "stream_id"
	MetaStreamVersion = "stream_version"
	MetaPosition      = "position"
	MetaSchemaVersion = "schema_version"
	MetaPartitionKey  = "partition_key"
	MetaCorrelationID = "correlation_id"
	MetaCausationID   = "causation_id"
	MetaActor         = "actor"
	MetaRecordedAt    = "recorded_at"
)

// ToMessage turns a stored event into the message the relay publishes.
func ToMessage(e eventstore.RecordedEvent) *message.Message {
	msg := message.NewMessage(e.ID.String(), []byte(e.Data))
	msg.Metadata = message.Metadata{
		MetaEventType:     e.Type,
		MetaStreamID:      e.StreamID,
		MetaStreamVersion: strconv.FormatInt(e.StreamVersion, 10),
		MetaPosition:      strconv.FormatInt(e.Position, 10),
		MetaSchemaVersion: strconv.Itoa(e.SchemaVersion),
		MetaPartitionKey:  e.PartitionKey,
		MetaCorrelationID: e.Metadata.CorrelationID,
		MetaCausationID:   e.Metadata.CausationID,
		MetaActor:         e.Metadata.Actor,
		MetaRecordedAt:    e.RecordedAt.UTC().Format(time.RFC3339Nano),
	}
	return msg
}

// FromMessage is the inverse of ToMessage, for consumers.
func FromMessage(msg *message.Message) (eventstore.RecordedEvent, error) {
	id, err := uuid.Parse(msg.UUID)
	if err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("message uuid %q: %w", msg.UUID, err)
	}
	md := msg.Metadata
	e := eventstore.RecordedEvent{
		ID:           id,
		StreamID:     md.Get(MetaStreamID),
		PartitionKey: md.Get(MetaPartitionKey),
		Type:         md.Get(MetaEventType),
		Data:         []byte(msg.Payload),
		Metadata: eventstore.Metadata{
			CorrelationID: md.Get(MetaCorrelationID),
			CausationID:   md.Get(MetaCausationID),
			Actor:         md.Get(MetaActor),
		},
	}
	if e.Type == "" {
		return eventstore.RecordedEvent{}, fmt.Errorf("message %s: no %s", msg.UUID, MetaEventType)
	}
	if e.StreamVersion, err = strconv.ParseInt(md.Get(MetaStreamVersion), 10, 64); err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("message %s: %s: %w", msg.UUID, MetaStreamVersion, err)
	}
	if e.Position, err = strconv.ParseInt(md.Get(MetaPosition), 10, 64); err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("message %s: %s: %w", msg.UUID, MetaPosition, err)
	}
	if e.SchemaVersion, err = strconv.Atoi(md.Get(MetaSchemaVersion)); err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("message %s: %s: %w", msg.UUID, MetaSchemaVersion, err)
	}
	if at := md.Get(MetaRecordedAt); at != "" {
		if e.RecordedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return eventstore.RecordedEvent{}, fmt.Errorf("message %s: %s: %w", msg.UUID, MetaRecordedAt, err)
		}
	}
	return e, nil
}
