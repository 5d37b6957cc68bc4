package embedded

import (
	"fmt"
	"os"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/shopevents/participation/kafka"
)

// DefaultKafkaPort is where the in-process broker listens (loopback only).
const DefaultKafkaPort = 9092

// Kafka is an in-process Kafka-protocol broker (kfake) that keeps its log
// under a data directory, so the service runs the very same Kafka code
// path as in production.
type Kafka struct {
	cluster *kfake.Cluster
}

// StartKafka starts the broker on 127.0.0.1:port with its data in dir and
// the topic created with partitions partitions (a topic kept in dir from an
// earlier run keeps its own).
func StartKafka(dir string, port int, topic string, partitions int32) (*Kafka, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if inUse(port) {
		return nil, fmt.Errorf("port %d is taken (another `make run`, or a Kafka broker): stop it, or set KAFKA_BROKERS", port)
	}
	cluster, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(port),
		// Every produce is written to the data directory before it is
		// acknowledged, so a kill -9 of the service (and of this in-process
		// broker with it) loses nothing acknowledged. Without SyncWrites an
		// OS crash could; with it every produce waits for an fsync, which
		// made the relay publish one campaign's events at ~200/s.
		kfake.DataDir(dir),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(int(partitions)),
		kfake.SeedTopics(partitions, topic),
		// The broker takes what the relay may send (a draw of 100,000 winners).
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(kafka.MaxMessageBytes)}),
	)
	if err != nil {
		return nil, fmt.Errorf("start the in-process Kafka broker: %w", err)
	}
	return &Kafka{cluster: cluster}, nil
}

// Brokers are the broker addresses.
func (k *Kafka) Brokers() []string { return k.cluster.ListenAddrs() }

// Stop closes the broker, flushing its data.
func (k *Kafka) Stop() {
	if k != nil {
		k.cluster.Close()
	}
}
