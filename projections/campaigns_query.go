package projections

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
)

// CampaignState is a campaign's state at a given time.
type CampaignState string

// Campaign states. Drawn wins over the dates: a draw closes registration.
const (
	CampaignScheduled CampaignState = "scheduled" // before startsAt
	CampaignOpen      CampaignState = "open"      // startsAt ≤ now < endsAt, not drawn
	CampaignClosed    CampaignState = "closed"    // from endsAt on, not drawn
	CampaignDrawn     CampaignState = "drawn"
)

// CampaignRow is one campaign of the campaigns read model.
type CampaignRow struct {
	EventID    uuid.UUID
	Title      string
	StartsAt   time.Time
	EndsAt     time.Time
	AnnounceAt time.Time
	// ClaimDeadline ends the winners' claims.
	ClaimDeadline time.Time
	Drawn         bool
	Participants  int64
	State         CampaignState // at CampaignFilter.Now
}

// StateAt derives the campaign's state at now.
func (c CampaignRow) StateAt(now time.Time) CampaignState {
	switch {
	case c.Drawn:
		return CampaignDrawn
	case now.Before(c.StartsAt):
		return CampaignScheduled
	case now.Before(c.EndsAt):
		return CampaignOpen
	}
	return CampaignClosed
}

// CampaignFilter selects a page of an owner's campaigns.
type CampaignFilter struct {
	Page int       // 1-based
	Size int       // 1..100, checked by the api (20 when zero)
	Now  time.Time // the time states are derived at (time.Now when zero)
}

// CampaignPage is one page of an owner's campaigns and how many there are.
type CampaignPage struct {
	Items      []CampaignRow
	TotalCount int64
}

// An owner has few campaigns: an offset over the owner's index is cheap.
// The count and the page come from one statement, one snapshot.
const sqlCampaignPage = `SELECT n.total, c.event_id, c.title, c.starts_at, c.ends_at, c.announce_at, c.drawn, c.participants,
	c.claim_deadline
FROM (SELECT count(*) AS total FROM campaigns WHERE owner_id = $1) n
LEFT JOIN LATERAL (
	SELECT * FROM campaigns WHERE owner_id = $1 ORDER BY position DESC OFFSET $2 LIMIT $3
) c ON true`

// Campaigns returns one page of the owner's campaigns, newest (last
// opened) first, each with its state at f.Now, and the owner's total.
func (q *Queries) Campaigns(ctx context.Context, ownerID string, f CampaignFilter) (CampaignPage, error) {
	page, size := max(f.Page, 1), f.Size
	if size < 1 {
		size = 20
	}
	offset := int64(math.MaxInt64 / 4)
	if int64(page-1) < offset/int64(size) {
		offset = int64(page-1) * int64(size)
	}
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	rows, err := q.pool.Query(ctx, sqlCampaignPage, ownerID, offset, size)
	if err != nil {
		return CampaignPage{}, fmt.Errorf("campaigns: %w", err)
	}
	defer rows.Close()
	out := CampaignPage{Items: []CampaignRow{}}
	for rows.Next() {
		var (
			id                   *uuid.UUID
			title                *string
			starts, ends, announ *time.Time
			claimDeadline        *time.Time
			drawn                *bool
			participants         *int64
		)
		if err := rows.Scan(&out.TotalCount, &id, &title, &starts, &ends, &announ, &drawn, &participants, &claimDeadline); err != nil {
			return CampaignPage{}, fmt.Errorf("campaigns: %w", err)
		}
		if id == nil {
			continue
		}
		c := CampaignRow{EventID: *id, Title: *title, StartsAt: *starts, EndsAt: *ends, AnnounceAt: *announ,
			Drawn: *drawn, Participants: *participants, ClaimDeadline: *claimDeadline}
		c.State = c.StateAt(now)
		out.Items = append(out.Items, c)
	}
	if err := rows.Err(); err != nil {
		return CampaignPage{}, fmt.Errorf("campaigns: %w", err)
	}
	return out, nil
}
