// Command kafkaping asks a Kafka cluster for its metadata through sarama, the
// client library the service uses, and exits 0 once the cluster answers with at
// least one broker. With -autocreate it also produces one record to a topic
// that does not exist yet, which proves the broker creates topics on first use.
//
// deploy/kafka/kafka.sh runs it to tell "the port is open" from "Kafka answers".
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/IBM/sarama"
)

func main() {
	brokers := flag.String("brokers", envOr("KAFKA_BROKERS", "127.0.0.1:19092"), "comma-separated broker addresses")
	timeout := flag.Duration("timeout", 5*time.Second, "give up after this long")
	version := flag.String("version", "3.9.0", "Kafka protocol version sarama speaks (sarama.ParseKafkaVersion)")
	autocreate := flag.String("autocreate", "", "produce one record to this new topic and report its partitions")
	flag.Parse()

	if err := ping(strings.Split(*brokers, ","), *version, *timeout, *autocreate); err != nil {
		fmt.Fprintln(os.Stderr, "kafkaping:", err)
		os.Exit(1)
	}
}

func ping(brokers []string, version string, timeout time.Duration, autocreate string) error {
	v, err := sarama.ParseKafkaVersion(version)
	if err != nil {
		return err
	}
	cfg := sarama.NewConfig()
	cfg.Version = v
	cfg.ClientID = "kafkaping"
	cfg.Net.DialTimeout = timeout
	cfg.Net.ReadTimeout = timeout
	cfg.Net.WriteTimeout = timeout
	cfg.Metadata.Full = false
	cfg.Metadata.Retry.Max = 0
	if autocreate != "" {
		// A new topic is created asynchronously by the KRaft controller: the first
		// metadata answers say UNKNOWN_TOPIC_OR_PARTITION until it exists.
		cfg.Metadata.Retry.Max = 40
		cfg.Metadata.Retry.Backoff = 250 * time.Millisecond
	}
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Retry.Max = 20
	cfg.Producer.Retry.Backoff = 250 * time.Millisecond

	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	if err := client.RefreshMetadata(); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if len(client.Brokers()) == 0 {
		return errors.New("metadata lists no broker yet")
	}
	controller, err := client.Controller()
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	fmt.Printf("kafkaping: %d broker(s), controller %s, protocol %s\n", len(client.Brokers()), controller.Addr(), v)

	if autocreate == "" {
		return nil
	}
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return err
	}
	defer producer.Close()
	partition, offset, err := producer.SendMessage(&sarama.ProducerMessage{
		Topic: autocreate,
		Key:   sarama.StringEncoder("kafkaping"),
		Value: sarama.StringEncoder(time.Now().Format(time.RFC3339Nano)),
	})
	if err != nil {
		return fmt.Errorf("produce to new topic %q (is auto.create.topics.enable on?): %w", autocreate, err)
	}
	partitions, err := client.Partitions(autocreate)
	if err != nil {
		return err
	}
	fmt.Printf("kafkaping: auto-created topic %s with %d partitions; wrote partition %d offset %d\n",
		autocreate, len(partitions), partition, offset)
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
