package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/kafka"
)

// groupBehind returns how many messages of topic the consumer group has
// not committed yet (end offsets minus committed offsets, summed).
func groupBehind(t *testing.T, brokers []string, group, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	mresp, err := meta.RequestWith(ctx, cl)
	if err != nil || len(mresp.Topics) != 1 {
		t.Fatalf("metadata of %s: %v", topic, err)
	}
	list := kmsg.NewPtrListOffsetsRequest()
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = topic
	for _, p := range mresp.Topics[0].Partitions {
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.Partition, lp.Timestamp = p.Partition, -1 // -1: the end
		lt.Partitions = append(lt.Partitions, lp)
	}
	list.Topics = append(list.Topics, lt)
	lresp, err := list.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("end offsets: %v", err)
	}
	behind := int64(0)
	ends := map[int32]int64{}
	for _, lt := range lresp.Topics {
		for _, p := range lt.Partitions {
			if p.ErrorCode != 0 {
				return math.MaxInt64 // not known yet: not caught up either
			}
			ends[p.Partition] = p.Offset
			behind += p.Offset
		}
	}
	fetch := kmsg.NewPtrOffsetFetchRequest()
	fetch.Group = group
	ft := kmsg.NewOffsetFetchRequestTopic()
	ft.Topic = topic
	for p := range ends {
		ft.Partitions = append(ft.Partitions, p)
	}
	fetch.Topics = append(fetch.Topics, ft)
	fresp, err := fetch.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("committed offsets of %s: %v", group, err)
	}
	if fresp.ErrorCode != 0 {
		return math.MaxInt64 // the coordinator loading, say
	}
	for _, ft := range fresp.Topics {
		for _, p := range ft.Partitions {
			if p.ErrorCode != 0 {
				return math.MaxInt64
			}
			if p.Offset > 0 {
				behind -= p.Offset
			}
		}
	}
	return behind
}

// A commit waits for BeforeCommit: when it fails, nothing is committed and
// the group reads the same messages again.
func TestSubscriberCommitsOnlyAfterBeforeCommit(t *testing.T) {
	t.Parallel()
	brokers := testenv.KafkaBrokers(t)
	topic := createTopic(t, brokers, 1)
	group := "test-group-" + uuid.NewString()
	ids := produce(t, brokers, topic, []byte("a"), []byte("b"), []byte("c"))
	open := func(before func(context.Context) error) (*kafka.Subscriber, []string) {
		t.Helper()
		sub, err := kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: brokers, ConsumerGroup: group,
			CommitInterval: 100 * time.Millisecond, BeforeCommit: before})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Close() })
		msgs, err := sub.Subscribe(context.Background(), topic)
		if err != nil {
			t.Fatal(err)
		}
		got := receive(t, msgs, 3)
		for _, m := range got {
			m.Ack()
		}
		return sub, uuids(got)
	}
	calls := 0
	sub, first := open(func(context.Context) error { calls++; return errors.New("checkpoint not written") })
	if err := sub.Close(); err == nil {
		t.Error("close: no error, want the failed BeforeCommit's")
	}
	if calls == 0 {
		t.Fatal("BeforeCommit never called")
	}
	sub, again := open(func(context.Context) error { return nil })
	if diff := cmp.Diff(first, again); diff != "" || fmt.Sprint(first) != fmt.Sprint(ids) {
		t.Fatalf("nothing committed, so everything again (-first +again):\n%s", diff)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if n := groupBehind(t, brokers, group, topic); n != 0 {
		t.Fatalf("after a BeforeCommit that succeeds, %d messages uncommitted, want 0", n)
	}
}
