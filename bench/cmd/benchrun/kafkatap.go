package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaTap reads the topic from its end and notes when each participant of
// one campaign first appears on it: it splits the end-to-end lag into
// store → Kafka (the relay) and Kafka → read model (the projectors).
type kafkaTap struct {
	client *kgo.Client
	key    string
	mu     sync.Mutex
	seen   map[uuid.UUID]time.Time
	done   chan struct{}
	cancel context.CancelFunc
}

func (e *env) newKafkaTap(eventID uuid.UUID) (*kafkaTap, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(e.brokers, ",")...), kgo.ConsumeTopics(e.o.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(e.ctx)
	t := &kafkaTap{client: client, key: eventID.String(), seen: map[uuid.UUID]time.Time{}, done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(t.done)
		for ctx.Err() == nil {
			fetches := client.PollFetches(ctx)
			now := time.Now()
			fetches.EachRecord(func(r *kgo.Record) {
				if string(r.Key) != t.key {
					return
				}
				var v struct {
					ParticipantID uuid.UUID `json:"participantId"`
				}
				if json.Unmarshal(r.Value, &v) != nil || v.ParticipantID == uuid.Nil {
					return
				}
				t.mu.Lock()
				if _, ok := t.seen[v.ParticipantID]; !ok {
					t.seen[v.ParticipantID] = now
				}
				t.mu.Unlock()
			})
		}
	}()
	return t, nil
}

// waitFor waits until the tap has seen id (or timeout).
func (t *kafkaTap) waitFor(id uuid.UUID, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		t.mu.Lock()
		_, ok := t.seen[id]
		t.mu.Unlock()
		if ok {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func (t *kafkaTap) at(id uuid.UUID) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.seen[id]
	return at, ok
}

func (t *kafkaTap) close() {
	t.cancel()
	<-t.done
	t.client.Close()
}
