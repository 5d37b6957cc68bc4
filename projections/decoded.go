package projections

import (
	"sync"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/kafka"
)

// decoded is one message read for the read models: the stored event its
// envelope carries and the domain event its data holds (or why not).
type decoded struct {
	rec eventstore.RecordedEvent
	ev  Event
	err error // decodeEvent's: poison for a read model that handles rec.Type
}

func decodeRecord(rec eventstore.RecordedEvent) decoded {
	ev, err := decodeEvent(rec)
	return decoded{rec: rec, ev: ev, err: err}
}

// decodeCache reads each message once for every read model of the
// process. Each read model has its own consumer group, so each gets its own
// copy of a message; the first to apply it decodes it (the envelope's
// metadata, then the event's JSON) and the others take that. An entry goes
// once every read model took it, or when capacity pushes it out: a read
// model far behind the others (a new group reading from the start) decodes
// for itself rather than holding the others' events in memory. Keyed by
// message UUID, the event id: a message published twice carries the same
// event.
type decodeCache struct {
	readers  int
	capacity int
	decodes  atomic.Int64 // messages decoded (tests and benchmarks)

	mu      sync.Mutex
	entries map[string]*cacheEntry
	order   []string // insertion order, for eviction
}

type cacheEntry struct {
	ready  chan struct{} // closed once d and envErr are set
	d      decoded
	envErr error // the envelope unreadable: no event at all
	taken  int
}

func newDecodeCache(readers, capacity int) *decodeCache {
	return &decodeCache{readers: readers, capacity: max(capacity, 1), entries: map[string]*cacheEntry{}}
}

// get returns m decoded, decoding it only if no other read model did yet.
// An error means the envelope itself is unreadable.
func (c *decodeCache) get(m *message.Message) (decoded, error) {
	if c.readers <= 1 {
		return c.decode(m)
	}
	c.mu.Lock()
	e, ok := c.entries[m.UUID]
	if !ok {
		e = &cacheEntry{ready: make(chan struct{})}
		c.entries[m.UUID] = e
		c.order = append(c.order, m.UUID)
		if len(c.order) > c.capacity {
			if old := c.order[0]; c.entries[old] != e {
				delete(c.entries, old)
			}
			c.order = c.order[1:]
		}
	}
	c.mu.Unlock()
	if ok {
		<-e.ready
	} else {
		e.d, e.envErr = c.decode(m)
		close(e.ready)
	}
	c.mu.Lock()
	if e.taken++; e.taken >= c.readers && c.entries[m.UUID] == e {
		delete(c.entries, m.UUID)
	}
	c.mu.Unlock()
	return e.d, e.envErr
}

func (c *decodeCache) decode(m *message.Message) (decoded, error) {
	c.decodes.Add(1)
	rec, err := kafka.FromMessage(m)
	if err != nil {
		return decoded{}, err
	}
	return decodeRecord(rec), nil
}
