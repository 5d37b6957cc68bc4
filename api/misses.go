package api

import (
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// maxMisses bounds the unknown-campaign cache; when full of live entries it
// starts afresh (a miss is only a saving, never an answer that must hold).
const maxMisses = 10_000

// missCache remembers, for a short time, campaign ids the write side said
// do not exist, so hammering an unknown eventId is not a database read per
// request. A campaign opened through this instance is forgotten at once;
// one opened elsewhere is seen within the TTL.
type missCache struct {
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	until map[uuid.UUID]time.Time
}

func newMissCache(ttl time.Duration, now func() time.Time) *missCache {
	return &missCache{ttl: ttl, now: now, until: make(map[uuid.UUID]time.Time)}
}

func (m *missCache) has(id uuid.UUID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	until, ok := m.until[id]
	if ok && m.now().After(until) {
		delete(m.until, id)
		return false
	}
	return ok
}

func (m *missCache) add(id uuid.UUID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if len(m.until) >= maxMisses {
		for k, until := range m.until {
			if now.After(until) {
				delete(m.until, k)
			}
		}
		if len(m.until) >= maxMisses {
			clear(m.until)
		}
	}
	m.until[id] = now.Add(m.ttl)
}

func (m *missCache) forget(id uuid.UUID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.until, id)
}

// throughMisses is how a public route reads a campaign-scoped thing by
// eventId: an id remembered as unknown is answered ErrCampaignNotFound
// without asking, and a lookup that says so is remembered. Registration,
// the customer's erasure, the public campaign read and the customer pages'
// 404 share it. It spares the store repeated ids; a flood of distinct
// made-up ids is one read each, bounded by the per-IP limiter (limitPerIP)
// that every one of those routes sits behind.
func throughMisses[T any](m *missCache, eventID uuid.UUID, lookup func() (T, error)) (T, error) {
	if m.has(eventID) {
		var zero T
		return zero, domain.ErrCampaignNotFound
	}
	v, err := lookup()
	if errors.Is(err, domain.ErrCampaignNotFound) {
		m.add(eventID)
	}
	return v, err
}
