package embedded

import (
	"context"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/shopevents/participation/kafka"
)

// The embedded broker seeds the topic with the partitions asked for
// (KAFKA_PARTITIONS) and takes a message as large as the relay may send.
func TestTheEmbeddedBrokerSeedsPartitionsAndTakesLargeMessages(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	k, err := StartKafka(t.TempDir(), port, "participant-events", 12)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Stop()
	client, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.ProducerBatchMaxBytes(kafka.MaxMessageBytes),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := t.Context()

	req := kmsg.NewPtrMetadataRequest()
	topic := kmsg.NewMetadataRequestTopic()
	name := "participant-events"
	topic.Topic = &name
	req.Topics = append(req.Topics, topic)
	resp, err := req.RequestWith(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 12 {
		t.Fatalf("topic metadata %+v, want participant-events with 12 partitions", resp.Topics)
	}

	big := make([]byte, kafka.MaxMessageBytes/2) // sent uncompressed
	rec := &kgo.Record{Topic: name, Key: []byte("campaign"), Value: big}
	if err := client.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
		t.Fatalf("produce a %d-byte message: %v", len(big), err)
	}
}
