package projections_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/google/go-cmp/cmp"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/projections"
)

// createTopic creates a topic with partitions partitions that takes
// messages of kafka.MaxMessageBytes.
func createTopic(t testing.TB, brokers []string, partitions int32) string {
	t.Helper()
	topic := testenv.Topic(t)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	admin, err := sarama.NewClusterAdmin(brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	maxBytes := fmt.Sprint(kafka.MaxMessageBytes)
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{"max.message.bytes": &maxBytes}}, false); err != nil {
		t.Fatal(err)
	}
	// A real broker answers CreateTopic before every partition has a leader:
	// a producer right after it gets UNKNOWN_TOPIC_OR_PARTITION (CI did).
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := topicReady(admin, topic, partitions)
		if err == nil {
			return topic
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s not ready: %v", topic, err)
		}
	}
}

func topicReady(admin sarama.ClusterAdmin, topic string, partitions int32) error {
	meta, err := admin.DescribeTopics([]string{topic})
	if err != nil {
		return err
	}
	if len(meta) != 1 || meta[0].Err != sarama.ErrNoError {
		return fmt.Errorf("metadata: %v", meta)
	}
	if got := int32(len(meta[0].Partitions)); got != partitions {
		return fmt.Errorf("%d partitions of %d", got, partitions)
	}
	for _, p := range meta[0].Partitions {
		if p.Err != sarama.ErrNoError || p.Leader < 0 {
			return fmt.Errorf("partition %d: leader %d, %v", p.ID, p.Leader, p.Err)
		}
	}
	return nil
}

// Two routers of one consumer group share the partitions; routers join and
// leave mid-stream (rebalances), and every event is still applied once:
// the read models equal the store's events applied directly.
func TestTwoRoutersOfOneGroupApplyEachEventOnce(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	e := newEnv(t)
	ctx := context.Background()
	brokers := testenv.KafkaBrokers(t)
	topic := createTopic(t, brokers, 4)
	pub := newPublisher(t, brokers, logger)
	// Campaigns (partition keys) on every partition: a router that joins
	// gets partitions with events, whichever the group gives it. Six at
	// random could all hash to the partitions the first router kept (about
	// one run in 64 when the second gets two of the four), and the second
	// then never handled one.
	var campaigns []*campaignData
	onPartition := map[int32]bool{}
	partitioner := sarama.NewHashPartitioner(topic)
	for i := 0; i < 6 || len(onPartition) < 4; i++ {
		if i == 64 {
			t.Fatalf("64 campaigns cover partitions %v of 4", onPartition)
		}
		c := e.seedCampaign(t, 40, seedStart.Add(time.Duration(i)*time.Hour), 3)
		campaigns = append(campaigns, c)
		p, err := partitioner.Partition(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(c.id.String())}, 4)
		if err != nil {
			t.Fatal(err)
		}
		onPartition[p] = true
	}
	first := e.allEvents(t)
	cfg := projections.RouterConfig{Brokers: brokers, Topic: topic, Pool: e.pool, Logger: logger, MaxBatch: 16}
	a := startRouter(t, cfg)
	publish(t, pub, topic, first)
	waitFor(t, 60*time.Second, "the first router applies part of the events", func() bool { return a.handled.Load() > 50 })
	b := startRouter(t, cfg) // a rebalance
	for i, c := range campaigns {
		e.drawWinners(t, c, i, i+1, i+2, i+3, len(c.regs)-1)
	}
	all := e.allEvents(t)
	publish(t, pub, topic, all[len(first):])
	// Everything again, duplicates; then a duplicate per campaign (so on
	// every partition) until the second router, once the group has given it
	// partitions, has handled some. Not everything each time: on a loaded
	// machine a slow rebalance piled up copies the routers had to work off.
	publish(t, pub, topic, all)
	last := map[string]eventstore.RecordedEvent{}
	for _, ev := range all {
		last[ev.PartitionKey] = ev
	}
	again := make([]eventstore.RecordedEvent, 0, len(last))
	for _, ev := range last {
		again = append(again, ev)
	}
	waitFor(t, 90*time.Second, "the second router applies some", func() bool {
		publish(t, pub, topic, again)
		time.Sleep(500 * time.Millisecond)
		return b.handled.Load() > 0
	})
	a.stop(t) // another rebalance
	ref := newEnv(t)
	for _, ev := range all {
		if _, err := ref.store.Append(ctx, ev.StreamID, eventstore.Any, eventstore.EventData{
			ID: ev.ID, PartitionKey: ev.PartitionKey, Type: ev.Type, SchemaVersion: ev.SchemaVersion,
			Data: ev.Data, Metadata: ev.Metadata,
		}); err != nil {
			t.Fatal(err)
		}
	}
	applyAll(t, projections.NewProjectors(ref.pool, nil), all)
	want := snapshot(t, ref.pool)
	// Equal once caught up; a double apply would never be (analytics and
	// campaigns add up what they are given).
	waitFor(t, 90*time.Second, "the read models equal the store's events applied once", func() bool {
		return cmp.Diff(want, snapshot(t, e.pool)) == ""
	})
	b.stop(t)
	if diff := cmp.Diff(want, snapshot(t, e.pool)); diff != "" {
		t.Errorf("read models through two routers differ from applying the store once (-direct +kafka):\n%s", diff)
	}
	t.Logf("messages handled: %d by the first router, %d by the second (one consumer group per read model)",
		a.handled.Load(), b.handled.Load())
}
