package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TopicInfo is what EnsureTopic found or made.
type TopicInfo struct {
	Created         bool
	Partitions      int32
	MaxMessageBytes int32 // the topic's max.message.bytes, after any raise
}

// EnsureTopic creates topic with partitions partitions and a
// max.message.bytes of the publisher's MaxMessageBytes when it is missing.
// An existing topic keeps its partitions (adding some would move campaigns
// to other partitions and break their order); its max.message.bytes is
// raised when lower. The publisher then sizes its messages to what the topic
// takes, so that Kafka never refuses a batch the size check let through.
func (p *Publisher) EnsureTopic(ctx context.Context, topic string, partitions int32) (TopicInfo, error) {
	want := strconv.Itoa(int(p.cfg.MaxMessageBytes))
	create := kmsg.NewCreateTopicsRequest()
	create.TimeoutMillis = 15_000
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = topic, partitions, -1 // the broker's default replication
	cfg := kmsg.NewCreateTopicsRequestTopicConfig()
	cfg.Name, cfg.Value = "max.message.bytes", &want
	t.Configs = append(t.Configs, cfg)
	create.Topics = append(create.Topics, t)
	resp, err := create.RequestWith(ctx, p.client)
	if err != nil {
		return TopicInfo{}, fmt.Errorf("create topic %s: %w", topic, err)
	}
	var info TopicInfo
	if len(resp.Topics) != 1 {
		return TopicInfo{}, fmt.Errorf("create topic %s: %d answers", topic, len(resp.Topics))
	}
	switch err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); {
	case err == nil:
		info.Created = true
	case errors.Is(err, kerr.TopicAlreadyExists):
	default:
		return TopicInfo{}, fmt.Errorf("create topic %s: %w", topic, err)
	}

	if info.Partitions, err = p.partitions(ctx, topic); err != nil {
		return TopicInfo{}, err
	}
	have, err := p.topicMaxBytes(ctx, topic)
	if err != nil {
		return TopicInfo{}, err
	}
	if have < p.cfg.MaxMessageBytes {
		if err := p.raiseMaxBytes(ctx, topic, want); err != nil {
			p.cfg.Logger.Warn("kafka: cannot raise the topic's max.message.bytes; larger events will be parked",
				"topic", topic, "max_message_bytes", have, "want", want, "err", err)
		} else {
			have = p.cfg.MaxMessageBytes
		}
	}
	info.MaxMessageBytes = min(have, p.cfg.MaxMessageBytes)
	p.mu.Lock()
	p.limits[topic] = info.MaxMessageBytes
	p.mu.Unlock()
	return info, nil
}

// partitions reads the topic's partition count. A real broker can answer
// UNKNOWN_TOPIC_OR_PARTITION (or LEADER_NOT_AVAILABLE) for a moment after
// it created the topic, until the controller's metadata reached it: such
// retriable answers are waited out for up to topicSettleTimeout.
func (p *Publisher) partitions(ctx context.Context, topic string) (int32, error) {
	deadline := time.Now().Add(topicSettleTimeout)
	for {
		n, err := p.readPartitions(ctx, topic)
		if err == nil || !kerr.IsRetriable(err) || time.Now().After(deadline) {
			return n, err
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("topic %s metadata: %w (then %w)", topic, err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// topicSettleTimeout bounds the wait for a new topic's metadata; the
// relay's own retry with backoff covers anything longer.
const topicSettleTimeout = 15 * time.Second

func (p *Publisher) readPartitions(ctx context.Context, topic string) (int32, error) {
	req := kmsg.NewMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = &topic
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, p.client)
	if err != nil {
		return 0, fmt.Errorf("topic %s metadata: %w", topic, err)
	}
	for _, t := range resp.Topics {
		if t.Topic != nil && *t.Topic == topic {
			if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
				return 0, fmt.Errorf("topic %s metadata: %w", topic, err)
			}
			return int32(len(t.Partitions)), nil
		}
	}
	return 0, fmt.Errorf("topic %s metadata: topic missing from the answer", topic)
}

func (p *Publisher) topicMaxBytes(ctx context.Context, topic string) (int32, error) {
	req := kmsg.NewDescribeConfigsRequest()
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	r.ConfigNames = []string{"max.message.bytes"}
	req.Resources = append(req.Resources, r)
	resp, err := req.RequestWith(ctx, p.client)
	if err != nil {
		return 0, fmt.Errorf("describe topic %s: %w", topic, err)
	}
	for _, res := range resp.Resources {
		if err := kerr.ErrorForCode(res.ErrorCode); err != nil {
			return 0, fmt.Errorf("describe topic %s: %w", topic, err)
		}
		for _, c := range res.Configs {
			if c.Name == "max.message.bytes" && c.Value != nil {
				n, err := strconv.ParseInt(*c.Value, 10, 32)
				if err != nil {
					return 0, fmt.Errorf("topic %s max.message.bytes %q: %w", topic, *c.Value, err)
				}
				return int32(n), nil
			}
		}
	}
	return 0, fmt.Errorf("describe topic %s: no max.message.bytes", topic)
}

func (p *Publisher) raiseMaxBytes(ctx context.Context, topic, value string) error {
	req := kmsg.NewIncrementalAlterConfigsRequest()
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	c.Name, c.Op, c.Value = "max.message.bytes", kmsg.IncrementalAlterConfigOpSet, &value
	r.Configs = append(r.Configs, c)
	req.Resources = append(req.Resources, r)
	resp, err := req.RequestWith(ctx, p.client)
	if err != nil {
		return err
	}
	for _, res := range resp.Resources {
		if err := kerr.ErrorForCode(res.ErrorCode); err != nil {
			return err
		}
	}
	return nil
}
