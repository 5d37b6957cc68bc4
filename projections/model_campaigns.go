package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// campaigns is the campaigns read model: per owner, each campaign with its
// dates, drawn flag and participant count (the state is derived at query
// time, see CampaignRow.StateAt). Like analytics it folds deltas.
type campaigns struct {
	opened map[uuid.UUID]openedCampaign
	delta  map[uuid.UUID]*campaignDelta
}

type openedCampaign struct {
	ev       domain.CampaignOpened
	position int64
}

type campaignDelta struct {
	participants int64
	drawn        bool
}

func newCampaigns() *campaigns {
	return &campaigns{opened: map[uuid.UUID]openedCampaign{}, delta: map[uuid.UUID]*campaignDelta{}}
}

func (*campaigns) name() string { return CampaignsProjection }

func (*campaigns) handles(t string) bool {
	return t == domain.TypeCampaignOpened || t == domain.TypeParticipantRegistered || t == domain.TypeWinnersDrawn
}

func (*campaigns) load(context.Context, querier, []Event) error { return nil }

func (m *campaigns) of(id uuid.UUID) *campaignDelta {
	d := m.delta[id]
	if d == nil {
		d = &campaignDelta{}
		m.delta[id] = d
	}
	return d
}

func (m *campaigns) fold(e Event) error {
	switch ev := e.Data.(type) {
	case domain.CampaignOpened:
		m.opened[ev.EventID] = openedCampaign{ev: ev, position: e.Position}
		m.of(ev.EventID)
	case domain.ParticipantRegistered:
		m.of(ev.EventID).participants++
	case domain.WinnersDrawn:
		m.of(ev.EventID).drawn = true
	default:
		return fmt.Errorf("unexpected %T", ev)
	}
	return nil
}

// flush inserts the campaigns opened since the last flush and adds the
// other deltas; a rebuild's replay keeps them for the final flush. A
// registration of a campaign never opened changes nothing.
func (m *campaigns) flush(ctx context.Context, w *writer, final bool) error {
	if !final || len(m.delta) == 0 {
		return nil
	}
	var (
		ids, upd           []uuid.UUID
		owners, titles     []string
		starts, ends, anns []time.Time
		claimDeadlines     []time.Time
		drawn, updDrawn    []bool
		n, updN, pos       []int64
	)
	for id, d := range m.delta {
		if o, ok := m.opened[id]; ok {
			ids, owners, titles = append(ids, id), append(owners, o.ev.OwnerID), append(titles, o.ev.Title)
			starts, ends, anns = append(starts, o.ev.StartsAt), append(ends, o.ev.EndsAt), append(anns, o.ev.AnnounceAt)
			claimDeadlines = append(claimDeadlines, o.ev.ClaimDeadline)
			drawn, n, pos = append(drawn, d.drawn), append(n, d.participants), append(pos, o.position)
			continue
		}
		upd, updN, updDrawn = append(upd, id), append(updN, d.participants), append(updDrawn, d.drawn)
	}
	if len(ids) > 0 {
		if err := w.exec(ctx, `INSERT INTO `+w.table("campaigns")+` AS c (event_id, owner_id, title, starts_at, ends_at,
			announce_at, drawn, participants, position, claim_deadline)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[],
				$6::timestamptz[], $7::bool[], $8::bigint[], $9::bigint[], $10::timestamptz[])
			ON CONFLICT (event_id) DO UPDATE SET participants = c.participants + EXCLUDED.participants,
				drawn = c.drawn OR EXCLUDED.drawn`, eventstore.UUIDArray(ids), owners, titles, starts, ends, anns, drawn, n, pos,
			claimDeadlines); err != nil {
			return fmt.Errorf("campaigns: %w", err)
		}
	}
	if len(upd) > 0 {
		if err := w.exec(ctx, `UPDATE `+w.table("campaigns")+` c SET participants = c.participants + u.n, drawn = c.drawn OR u.drawn
			FROM unnest($1::uuid[], $2::bigint[], $3::bool[]) AS u(id, n, drawn) WHERE c.event_id = u.id`,
			eventstore.UUIDArray(upd), updN, updDrawn); err != nil {
			return fmt.Errorf("campaigns: %w", err)
		}
	}
	clear(m.opened)
	clear(m.delta)
	return nil
}
