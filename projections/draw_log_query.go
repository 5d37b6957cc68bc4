package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/domain"
)

// DrawLog is one draw as the draw log holds it: the result's fields under
// WinnersDrawn's names (zero while a v2 draw is COMMITTED only) and the
// commit's.
type DrawLog struct {
	domain.WinnersDrawn
	State          string // DrawStateCommitted or DrawStateDrawn
	AlternateCount int
	CandidatesRoot string                 // v2; v1 draws have CandidatesDigest
	Randomness     *domain.DrawRandomness // v2
	CommittedAt    *time.Time             // v2
	CommittedBy    string                 // v2
}

const sqlDrawLog = `SELECT draw_id, event_id, winner_count, visit_bonus, visit_bonus_weight, algorithm, coalesce(seed, ''),
	candidate_count, coalesce(candidates_digest, ''), cutoff_position, winners, drawn_at, coalesce(drawn_by, ''),
	state, alternate_count, alternates, coalesce(candidates_root, ''), randomness_source, coalesce(randomness_chain_hash, ''),
	coalesce(randomness_round, 0), beacon, committed_at, coalesce(committed_by, '') FROM draw_log`

// DrawLogs returns the campaign's draw logs (at most one: a draw is final).
func (q *Queries) DrawLogs(ctx context.Context, eventID uuid.UUID) ([]DrawLog, error) {
	rows, err := q.pool.Query(ctx, sqlDrawLog+` WHERE event_id = $1 ORDER BY coalesce(committed_at, drawn_at), draw_id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("draw logs: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanDrawLog)
	if err != nil {
		return nil, fmt.Errorf("draw logs: %w", err)
	}
	return out, nil
}

// DrawLog returns one draw log; found is false when there is none.
func (q *Queries) DrawLog(ctx context.Context, drawLogID uuid.UUID) (DrawLog, bool, error) {
	rows, err := q.pool.Query(ctx, sqlDrawLog+` WHERE draw_id = $1`, drawLogID)
	if err != nil {
		return DrawLog{}, false, fmt.Errorf("draw log: %w", err)
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDrawLog)
	if errors.Is(err, pgx.ErrNoRows) {
		return DrawLog{}, false, nil
	}
	if err != nil {
		return DrawLog{}, false, fmt.Errorf("draw log: %w", err)
	}
	return d, true, nil
}

func scanDrawLog(row pgx.CollectableRow) (DrawLog, error) {
	var (
		d                                   DrawLog
		winnerCount, weight, alternateCount int32
		candidates, round                   int64
		winners, alternates, beacon         []byte
		drawnAt                             *time.Time
		source                              *string
		chainHash                           string
	)
	if err := row.Scan(&d.DrawID, &d.EventID, &winnerCount, &d.VisitBonus, &weight, &d.Algorithm, &d.Seed,
		&candidates, &d.CandidatesDigest, &d.CutoffPosition, &winners, &drawnAt, &d.DrawnBy,
		&d.State, &alternateCount, &alternates, &d.CandidatesRoot, &source, &chainHash,
		&round, &beacon, &d.CommittedAt, &d.CommittedBy); err != nil {
		return d, err
	}
	d.WinnerCount, d.VisitBonusWeight, d.CandidateCount = int(winnerCount), int(weight), int(candidates)
	d.AlternateCount = int(alternateCount)
	if drawnAt != nil {
		d.DrawnAt = *drawnAt
	}
	if source != nil {
		d.Randomness = &domain.DrawRandomness{Source: *source, ChainHash: chainHash, Round: uint64(round)}
	}
	if err := json.Unmarshal(winners, &d.Winners); err != nil {
		return d, fmt.Errorf("winners of draw %s: %w", d.DrawID, err)
	}
	if err := json.Unmarshal(alternates, &d.Alternates); err != nil {
		return d, fmt.Errorf("alternates of draw %s: %w", d.DrawID, err)
	}
	if len(d.Alternates) == 0 {
		d.Alternates = nil // as the event holds none (omitted)
	}
	if beacon != nil {
		d.Beacon = new(domain.DrawBeacon)
		if err := json.Unmarshal(beacon, d.Beacon); err != nil {
			return d, fmt.Errorf("beacon of draw %s: %w", d.DrawID, err)
		}
	}
	return d, nil
}
