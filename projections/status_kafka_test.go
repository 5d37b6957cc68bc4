package projections_test

import (
	"context"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/projections"
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

// A read model that ignores most events still counts them in its status
// checkpoint before Kafka commits past them. A killed projector leaves
// exactly what was committed at that moment, and those messages never come
// again: were the checkpoint behind the commit, `projections status` would
// show that lag for good. So, at the moment the winners group has
// committed everything, its status says it is caught up.
func TestStatusCountsIgnoredMessagesBeforeKafkaCommitsThem(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := newEnv(t)
	brokers := testenv.KafkaBrokers(t)
	topic := createTopic(t, brokers, 3)
	e.seedCampaign(t, 60, seedStart, 0) // registrations only: the winners model ignores them all
	events := e.allEvents(t)
	publish(t, newPublisher(t, brokers, logger), topic, events)
	startRouter(t, projections.RouterConfig{Brokers: brokers, Topic: topic, Pool: e.pool, Logger: logger,
		Projections: []string{projections.WinnersProjection}, FlushInterval: 100 * time.Millisecond})

	group := projections.ConsumerGroup(projections.WinnersProjection)
	waitFor(t, time.Minute, "the winners group commits every message", func() bool {
		return groupBehind(t, brokers, group, topic) == 0
	})
	status, err := projections.Status(context.Background(), e.pool)
	if err != nil {
		t.Fatal(err)
	}
	var winners projections.ProjectionStatus
	for _, s := range status {
		if s.Name == projections.WinnersProjection {
			winners = s
		}
	}
	want := events[len(events)-1].Position
	if winners.Lag != 0 || winners.Position != want {
		t.Fatalf("winners status once Kafka committed everything: position %d, lag %d; want %d, 0",
			winners.Position, winners.Lag, want)
	}
}
