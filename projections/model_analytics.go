package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// seoul is Asia/Seoul without a tz database: Korea keeps no daylight saving.
var seoul = time.FixedZone("KST", 9*60*60)

// hourStart is the start of t's hour in Asia/Seoul.
func hourStart(t time.Time) time.Time {
	t = t.In(seoul)
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, seoul)
}

// AnalyticsChannel is the PostgreSQL notification channel the analytics
// projector signals in each transaction; the payload is the campaign id.
const AnalyticsChannel = "analytics_changed"

// analytics is the analytics read model. Its figures are sums, so it folds
// what changed since the last flush and adds that to the rows: no row is
// read, live or in a rebuild (whose tables start empty).
type analytics struct {
	delta map[uuid.UUID]*analyticsDelta
}

type analyticsDelta struct {
	total, visits, winners int64
	claimed                int64 // winners who claimed: one PrizeClaimed each (the store allows one)
	updatedAt              time.Time
	channels               map[string]int64
	hours                  map[int64]int64 // Unix seconds of the hour's start
}

func newAnalytics() *analytics { return &analytics{delta: map[uuid.UUID]*analyticsDelta{}} }

func (*analytics) name() string { return AnalyticsProjection }

func (*analytics) handles(t string) bool {
	return t == domain.TypeParticipantRegistered || t == domain.TypeStoreVisitRecorded || t == domain.TypeWinnersDrawn ||
		t == domain.TypePrizeClaimed
}

func (*analytics) load(context.Context, querier, []Event) error { return nil }

// touched is the campaign's delta, its update time moved to the event's
// recording time (so that a rebuild gives the same figures).
func (m *analytics) touched(id uuid.UUID, e Event) *analyticsDelta {
	d := m.delta[id]
	if d == nil {
		d = &analyticsDelta{channels: map[string]int64{}, hours: map[int64]int64{}}
		m.delta[id] = d
	}
	at := e.RecordedAt
	if at.IsZero() {
		at = time.Now()
	}
	if at.After(d.updatedAt) {
		d.updatedAt = at
	}
	return d
}

func (m *analytics) fold(e Event) error {
	switch ev := e.Data.(type) {
	case domain.ParticipantRegistered:
		d := m.touched(ev.EventID, e)
		d.total++
		d.channels[entryPathOf(ev.EntryPath)]++
		d.hours[hourStart(participatedAt(ev, e)).Unix()]++
	case domain.StoreVisitRecorded:
		m.touched(ev.EventID, e).visits++
	case domain.WinnersDrawn:
		m.touched(ev.EventID, e).winners += int64(len(ev.Winners))
	case domain.PrizeClaimed:
		m.touched(ev.EventID, e).claimed++
	default:
		return fmt.Errorf("unexpected %T", ev)
	}
	return nil
}

// flush adds the deltas; a rebuild's replay keeps them for the final flush.
func (m *analytics) flush(ctx context.Context, w *writer, final bool) error {
	if !final || len(m.delta) == 0 {
		return nil
	}
	var (
		ids                             []uuid.UUID
		total, visits, winners, claimed []int64
		at                              []time.Time
		chIDs, hIDs                     []uuid.UUID
		chPaths                         []string
		chN, hN                         []int64
		hours                           []time.Time
	)
	for id, d := range m.delta {
		ids, total, visits, winners, at = append(ids, id), append(total, d.total), append(visits, d.visits),
			append(winners, d.winners), append(at, d.updatedAt)
		claimed = append(claimed, d.claimed)
		for p, n := range d.channels {
			chIDs, chPaths, chN = append(chIDs, id), append(chPaths, p), append(chN, n)
		}
		for h, n := range d.hours {
			hIDs, hours, hN = append(hIDs, id), append(hours, time.Unix(h, 0)), append(hN, n)
		}
	}
	if err := w.exec(ctx, `INSERT INTO `+w.table("analytics")+` AS a (event_id, total_participants, store_visits, winners, updated_at, claimed)
		SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::timestamptz[], $6::bigint[])
		ON CONFLICT (event_id) DO UPDATE SET total_participants = a.total_participants + EXCLUDED.total_participants,
			store_visits = a.store_visits + EXCLUDED.store_visits, winners = a.winners + EXCLUDED.winners,
			claimed = a.claimed + EXCLUDED.claimed,
			updated_at = greatest(a.updated_at, EXCLUDED.updated_at)`, eventstore.UUIDArray(ids), total, visits, winners, at, claimed); err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	if len(chIDs) > 0 {
		if err := w.exec(ctx, `INSERT INTO `+w.table("analytics_channels")+` AS c (event_id, entry_path, participants)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[])
			ON CONFLICT (event_id, entry_path) DO UPDATE SET participants = c.participants + EXCLUDED.participants`,
			eventstore.UUIDArray(chIDs), chPaths, chN); err != nil {
			return fmt.Errorf("analytics channels: %w", err)
		}
	}
	if len(hIDs) > 0 {
		if err := w.exec(ctx, `INSERT INTO `+w.table("analytics_hours")+` AS h (event_id, hour, participants)
			SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::bigint[])
			ON CONFLICT (event_id, hour) DO UPDATE SET participants = h.participants + EXCLUDED.participants`,
			eventstore.UUIDArray(hIDs), hours, hN); err != nil {
			return fmt.Errorf("analytics hours: %w", err)
		}
	}
	for _, id := range ids {
		w.notify = append(w.notify, id.String())
	}
	clear(m.delta)
	return nil
}
