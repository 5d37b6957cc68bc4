package kafka

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BrokerCheck asks the brokers for their metadata and nothing else: the
// wiring's /readyz reports with it whether Kafka answers.
type BrokerCheck struct{ client *kgo.Client }

// NewBrokerCheck dials nothing until the first Ping.
func NewBrokerCheck(brokers []string) (*BrokerCheck, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return &BrokerCheck{client: client}, nil
}

// Ping fails when no broker answers.
func (b *BrokerCheck) Ping(ctx context.Context) error { return b.client.Ping(ctx) }

// Close closes the client.
func (b *BrokerCheck) Close() { b.client.Close() }
