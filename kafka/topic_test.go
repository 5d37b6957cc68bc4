package kafka_test

import (
	"context"
	"net"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/shopevents/participation/kafka"
)

// Apache Kafka can answer UNKNOWN_TOPIC_OR_PARTITION for a moment after it
// created a topic (CI saw it): EnsureTopic waits that out instead of
// failing, and still fails at once on an answer that will not pass.
func TestEnsureTopicWaitsOutANewTopicsMetadata(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		answer  *kerr.Error
		wantErr bool
	}{
		{"unknown_topic_passes", kerr.UnknownTopicOrPartition, false},
		{"leader_not_available_passes", kerr.LeaderNotAvailable, false},
		{"authorization_failure_does_not", kerr.TopicAuthorizationFailed, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := kfake.NewCluster(kfake.NumBrokers(1))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			const topic, refusals = "new-topic", 3
			var refused atomic.Int32
			for range refusals {
				c.ControlKey(kmsg.Metadata.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
					m := req.(*kmsg.MetadataRequest)
					if len(m.Topics) != 1 || m.Topics[0].Topic == nil || *m.Topics[0].Topic != topic {
						return nil, nil, false // the client's own metadata: the broker answers
					}
					refused.Add(1)
					return metadataRefusal(t, c, m, topic, tc.answer), nil, true
				})
			}
			pub, err := kafka.NewPublisher(kafka.PublisherConfig{Brokers: c.ListenAddrs()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = pub.Close() })
			info, err := pub.EnsureTopic(context.Background(), topic, 4)
			if tc.wantErr {
				if err == nil || refused.Load() != 1 {
					t.Fatalf("EnsureTopic = %+v, %v after %d refusals; want an error after the first", info, err, refused.Load())
				}
				return
			}
			if err != nil {
				t.Fatalf("EnsureTopic after %d refusals: %v", refused.Load(), err)
			}
			if refused.Load() != refusals || !info.Created || info.Partitions != 4 {
				t.Fatalf("EnsureTopic = %+v after %d refusals; want created with 4 partitions after %d", info, refused.Load(), refusals)
			}
		})
	}
}

// metadataRefusal answers req as the broker would, with answer for topic.
func metadataRefusal(t *testing.T, c *kfake.Cluster, req *kmsg.MetadataRequest, topic string, answer *kerr.Error) *kmsg.MetadataResponse {
	t.Helper()
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	for i, addr := range c.ListenAddrs() {
		host, port := splitHostPort(t, addr)
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host, b.Port = int32(i), host, port
		resp.Brokers = append(resp.Brokers, b)
	}
	rt := kmsg.NewMetadataResponseTopic()
	name := topic
	rt.Topic, rt.ErrorCode = &name, answer.Code
	resp.Topics = append(resp.Topics, rt)
	return resp
}

func splitHostPort(t *testing.T, addr string) (string, int32) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return host, int32(p)
}
