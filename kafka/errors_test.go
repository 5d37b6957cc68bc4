package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopevents/participation/kafka"
)

func TestPermanentTellsRefusalsFromTroubleOnTheWay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"acknowledged_is_not_a_refusal", nil, false},
		{"message_too_large_from_the_broker", kerr.MessageTooLarge, true},
		{"message_too_large_wrapped_by_franz_go", fmt.Errorf("%w (uncompressed_bytes=9)", kerr.MessageTooLarge), true},
		{"our_size_check", kafka.ErrTooLarge, true},
		{"record_list_too_large", kerr.RecordListTooLarge, true},
		{"invalid_record", kerr.InvalidRecord, true},
		{"corrupt_message", kerr.CorruptMessage, true},
		{"invalid_timestamp", kerr.InvalidTimestamp, true},
		{"not_leader_is_passing", kerr.NotLeaderForPartition, false},
		{"unknown_topic_is_passing", kerr.UnknownTopicOrPartition, false},
		{"not_enough_replicas_is_passing", kerr.NotEnoughReplicas, false},
		{"authorization_waits_for_the_operator", kerr.TopicAuthorizationFailed, false},
		{"out_of_order_sequence_is_resent", kerr.OutOfOrderSequenceNumber, false},
		{"record_timeout_is_passing", kgo.ErrRecordTimeout, false},
		{"connection_lost_is_passing", io.ErrUnexpectedEOF, false},
		{"context_ended_is_passing", context.DeadlineExceeded, false},
		{"held_is_not_a_refusal", &kafka.HeldError{Behind: "x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := kafka.Permanent(tc.err); got != tc.want {
				t.Errorf("Permanent(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
	if !errors.Is(kafka.ErrTooLarge, kerr.MessageTooLarge) {
		t.Error("ErrTooLarge does not wrap kerr.MessageTooLarge")
	}
}
