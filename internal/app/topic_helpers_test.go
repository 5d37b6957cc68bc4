package app

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// --- the topic, read by an independent client ---

// topicRecord is a record as franz-go reads it, not the project's subscriber.
type topicRecord struct {
	partition int32
	offset    int64
	key       string
	value     []byte
	headers   map[string]string
}

// wholeTopic reads every record from the start of each partition to the end
// offset it has when called.
func wholeTopic(t *testing.T, brokers []string, topic string) []topicRecord {
	t.Helper()
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	ends := endOffsets(ctx, t, client, topic)
	next := map[int32]int64{}
	reached := func() bool {
		for p, end := range ends {
			if next[p] < end {
				return false
			}
		}
		return true
	}
	var out []topicRecord
	for !reached() {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: read up to %v of the end offsets %v: %v", topic, next, ends, ctx.Err())
		}
		fetches.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			rec := topicRecord{partition: r.Partition, offset: r.Offset, key: string(r.Key), value: r.Value, headers: map[string]string{}}
			for _, h := range r.Headers {
				if _, dup := rec.headers[h.Key]; dup {
					t.Errorf("record %d/%d has header %s twice", r.Partition, r.Offset, h.Key)
				}
				rec.headers[h.Key] = string(h.Value)
			}
			out = append(out, rec)
			next[r.Partition] = max(next[r.Partition], r.Offset+1)
		})
	}
	return out
}

// endOffsets lists the topic's partitions and their end offsets.
func endOffsets(ctx context.Context, t *testing.T, client *kgo.Client, topic string) map[int32]int64 {
	t.Helper()
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	metaResp, err := meta.RequestWith(ctx, client)
	if err != nil {
		t.Fatalf("topic %s metadata: %v", topic, err)
	}
	list := kmsg.NewPtrListOffsetsRequest()
	list.ReplicaID = -1
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = topic
	for _, mtr := range metaResp.Topics {
		if err := kerr.ErrorForCode(mtr.ErrorCode); err != nil {
			t.Fatalf("topic %s metadata: %v", topic, err)
		}
		for _, p := range mtr.Partitions {
			lp := kmsg.NewListOffsetsRequestTopicPartition()
			lp.Partition = p.Partition
			lp.Timestamp = -1 // the end
			lt.Partitions = append(lt.Partitions, lp)
		}
	}
	if len(lt.Partitions) == 0 {
		t.Fatalf("topic %s has no partitions", topic)
	}
	list.Topics = append(list.Topics, lt)
	listResp, err := list.RequestWith(ctx, client)
	if err != nil {
		t.Fatalf("topic %s end offsets: %v", topic, err)
	}
	ends := map[int32]int64{}
	for _, lt := range listResp.Topics {
		for _, p := range lt.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				t.Fatalf("topic %s/%d end offset: %v", topic, p.Partition, err)
			}
			ends[p.Partition] = p.Offset
		}
	}
	return ends
}
