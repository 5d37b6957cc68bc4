package kafka

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// ErrTooLarge is a message larger than the topic takes; it is refused
// before it is sent.
var ErrTooLarge = fmt.Errorf("message too large: %w", kerr.MessageTooLarge)

// HeldError is a message not sent because an earlier message of its key was
// refused: sending it would put the key's messages out of order.
type HeldError struct {
	Behind string // the refused message's UUID
}

func (e *HeldError) Error() string { return "held behind refused message " + e.Behind }

// refusals are Kafka's answers about a record itself: sending it again as it
// is gets the same answer. Everything else (a broker down, a leader moving,
// a timeout, an authorization the operator has yet to grant) is about the
// path to Kafka, and the relay waits and retries: parking a healthy event
// because the cluster is unwell would be worse than waiting.
var refusals = []error{
	kerr.MessageTooLarge,
	kerr.RecordListTooLarge,
	kerr.InvalidRecord,
	kerr.CorruptMessage,
	kerr.InvalidTimestamp,
	kerr.UnsupportedCompressionType,
}

// Permanent reports whether err is Kafka refusing the message for good.
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	for _, r := range refusals {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}
