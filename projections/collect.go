package projections

import (
	"context"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// collect appends the next batch from msgs to batch: it waits for a first
// message, takes what is queued behind it, up to limit, and, when more than
// one was queued (the projector is behind the topic), lingers: it goes on
// taking messages as long as each comes within linger/2 of the last and
// linger has not passed since the first. So batches grow under load (one
// transaction, one commit for more events) while a lone message at idle
// is applied at once, as before. open is false once msgs is closed or ctx
// ended; what batch holds then is still to apply.
func collect(ctx context.Context, msgs <-chan *message.Message, batch []*message.Message, limit int, linger time.Duration) (_ []*message.Message, open bool) {
	select {
	case m, ok := <-msgs:
		if !ok {
			return batch, false
		}
		batch = append(batch, m)
	case <-ctx.Done():
		return batch, false
	}
	for len(batch) < limit {
		select {
		case m, ok := <-msgs:
			if !ok {
				return batch, false
			}
			batch = append(batch, m)
			continue
		default:
		}
		break
	}
	if len(batch) == 1 || len(batch) >= limit || linger <= 0 {
		return batch, true
	}
	deadline := time.Now().Add(linger)
	timer := time.NewTimer(linger / 2)
	defer timer.Stop()
	for len(batch) < limit {
		wait := min(linger/2, time.Until(deadline))
		if wait <= 0 {
			break
		}
		timer.Reset(wait)
		select {
		case m, ok := <-msgs:
			if !ok {
				return batch, false
			}
			batch = append(batch, m)
		case <-timer.C:
			return batch, true
		case <-ctx.Done():
			return batch, false
		}
	}
	return batch, true
}
