package eventstore

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
)

// KafkaVersion is the protocol family the service speaks. Kafka 4 dropped
// the oldest request versions; sarama lifts requests to what the broker
// accepts, and kfake answers this family too.
var KafkaVersion = sarama.V4_0_0_0

// KafkaMarshaler keys every message by its partition key (the campaign id),
// so one campaign's events stay in order on one partition.
func KafkaMarshaler() kafka.MarshalerUnmarshaler {
	return kafka.NewWithPartitioningMarshaler(func(_ string, msg *message.Message) (string, error) {
		return msg.Metadata.Get(MetaPartitionKey), nil
	})
}

// NewKafkaPublisher returns a synchronous Watermill publisher that waits for
// every in-sync replica to acknowledge.
func NewKafkaPublisher(brokers []string, logger *slog.Logger) (*kafka.Publisher, error) {
	cfg := kafka.DefaultSaramaSyncPublisherConfig()
	cfg.Version = KafkaVersion
	cfg.ClientID = "participation-relay"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Retry.Max = 3
	cfg.Producer.Retry.Backoff = 100 * time.Millisecond
	cfg.Metadata.Retry.Backoff = 250 * time.Millisecond
	cfg.Net.DialTimeout = 3 * time.Second
	pub, err := kafka.NewPublisher(kafka.PublisherConfig{
		Brokers:               brokers,
		Marshaler:             KafkaMarshaler(),
		OverwriteSaramaConfig: cfg,
	}, watermill.NewSlogLogger(logger))
	if err != nil {
		return nil, fmt.Errorf("kafka publisher: %w", err)
	}
	return pub, nil
}
