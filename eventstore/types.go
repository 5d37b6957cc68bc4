// Package eventstore is the PostgreSQL event store: the only source of truth.
// It owns pgx, the SQL, the schema migrations and the relay that publishes
// stored events to Kafka.
package eventstore

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
)

// ErrWrongExpectedVersion is returned when an append's expected version does
// not match the stream (including a unique violation from a concurrent
// writer that won the race).
var ErrWrongExpectedVersion = errors.New("eventstore: wrong expected version")

// ErrDuplicateKey is returned when an append claims a unique key that an
// earlier append already holds.
var ErrDuplicateKey = errors.New("eventstore: duplicate key")

// ErrClosed is returned when an append's ClosedBy stream exists.
var ErrClosed = errors.New("eventstore: closed")

// ErrDuplicateEventID is returned when an event id is already stored.
var ErrDuplicateEventID = errors.New("eventstore: duplicate event id")

// ExpectedVersion is the optimistic concurrency condition of an append.
// A non-negative value n means "the stream is exactly at version n"
// (0 = no events yet, the same as NoStream).
type ExpectedVersion int64

const (
	// Any appends whatever the stream's version is.
	Any ExpectedVersion = -1
	// NoStream requires that the stream has no events yet.
	NoStream ExpectedVersion = 0
)

// Exactly is a readable way to write an exact expected version.
func Exactly(v int64) ExpectedVersion { return ExpectedVersion(v) }

// Metadata travels with every event.
type Metadata struct {
	CorrelationID string `json:"correlationId,omitempty"`
	CausationID   string `json:"causationId,omitempty"`
	Actor         string `json:"actor,omitempty"`
}

// EventData is an event to append. ID is generated when zero.
type EventData struct {
	ID uuid.UUID
	// PartitionKey groups events that must stay in order downstream (the
	// campaign id): it is the Kafka partition key and an index of the store.
	PartitionKey  string
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      Metadata
}

// RecordedEvent is an event as the store keeps it.
type RecordedEvent struct {
	ID            uuid.UUID
	StreamID      string
	StreamVersion int64 // 1-based within the stream
	Position      int64 // global position, unique, increasing in log order
	PartitionKey  string
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      Metadata
	RecordedAt    time.Time
}

// AppendResult says where an append landed.
type AppendResult struct {
	// NextExpectedVersion is the stream's version after the append.
	NextExpectedVersion int64
	// Positions are the global positions of the appended events, in order.
	Positions []int64
}
