package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// Draw methods as the draw log names them.
const (
	DrawMethodRandom         = "RANDOM"
	DrawMethodWeightedRandom = "WEIGHTED_RANDOM" // the visit bonus was applied
)

// Draw states as the draw log names them: a v2 commit without its result
// is a pending draw (it waits for its public randomness).
const (
	DrawStateCommitted = "COMMITTED"
	DrawStateDrawn     = "DRAWN"
)

// drawLog is the draw log read model: one row per draw, made by a v2
// draw's DrawCommitted and completed by its WinnersDrawn, or by a v1
// draw's WinnersDrawn alone.
type drawLog struct {
	draws []drawLogRow
	index map[uuid.UUID]int // draw id → draws, for a result folded after its commit
}

// drawLogRow is a draw_log row; nil pointers are NULL.
type drawLogRow struct {
	drawID, eventID             uuid.UUID
	method, algorithm, state    string
	winnerCount, alternateCount int
	visitBonus                  bool
	visitBonusWeight            int
	candidateCount              int
	cutoffPosition, position    int64
	seed, digest, root          *string
	source, chainHash           *string
	round                       *int64
	beacon                      []byte // JSON or nil
	winners, alternates         []byte // JSON arrays
	committedAt, drawnAt        *time.Time
	committedBy, drawnBy        *string
}

func (*drawLog) name() string { return DrawLogProjection }
func (*drawLog) handles(t string) bool {
	return t == domain.TypeWinnersDrawn || t == domain.TypeDrawCommitted
}
func (*drawLog) load(context.Context, querier, []Event) error { return nil }

func drawMethod(visitBonus bool) string {
	if visitBonus {
		return DrawMethodWeightedRandom
	}
	return DrawMethodRandom
}

func jsonOf[T any](v []T) ([]byte, error) {
	if v == nil {
		v = []T{}
	}
	return json.Marshal(v)
}

// asRecorded is ws as the draw recorded them, without the masked values
// the published form adds: the draw log is the draw's record, and the
// winners model is where names are shown.
func asRecorded(ws []domain.Winner) []domain.Winner {
	out := make([]domain.Winner, len(ws))
	for i, w := range ws {
		out[i] = domain.Winner{ParticipantID: w.ParticipantID, EntryNumber: w.EntryNumber, Rank: w.Rank}
	}
	return out
}

func (m *drawLog) fold(e Event) error {
	if m.index == nil {
		m.index = map[uuid.UUID]int{}
	}
	switch d := e.Data.(type) {
	case domain.DrawCommitted:
		r := drawLogRow{
			drawID: d.DrawID, eventID: d.EventID, method: drawMethod(d.VisitBonus), algorithm: d.Algorithm, state: DrawStateCommitted,
			winnerCount: d.WinnerCount, alternateCount: d.AlternateCount, visitBonus: d.VisitBonus, visitBonusWeight: d.VisitBonusWeight,
			candidateCount: d.CandidateCount, cutoffPosition: d.CutoffPosition, position: e.Position,
			root: &d.CandidatesRoot, source: &d.Randomness.Source, committedAt: &d.CommittedAt, committedBy: &d.CommittedBy,
			winners: []byte("[]"), alternates: []byte("[]"),
		}
		if d.Randomness.ChainHash != "" {
			r.chainHash = &d.Randomness.ChainHash
		}
		if d.Randomness.Round != 0 {
			round := int64(d.Randomness.Round)
			r.round = &round
		}
		m.index[d.DrawID] = len(m.draws)
		m.draws = append(m.draws, r)
		return nil
	case domain.WinnersDrawn:
		winners, err := jsonOf(asRecorded(d.Winners))
		if err != nil {
			return err
		}
		alternates, err := jsonOf(asRecorded(d.Alternates))
		if err != nil {
			return err
		}
		var beacon []byte
		if d.Beacon != nil {
			if beacon, err = json.Marshal(d.Beacon); err != nil {
				return err
			}
		}
		if i, ok := m.index[d.DrawID]; ok { // its commit is in memory still
			r := &m.draws[i]
			r.state, r.seed, r.beacon, r.winners, r.alternates = DrawStateDrawn, &d.Seed, beacon, winners, alternates
			r.drawnAt, r.drawnBy, r.position = &d.DrawnAt, &d.DrawnBy, e.Position
			return nil
		}
		// a v1 draw, or a v2 result whose commit was flushed before: the
		// row is whole here and, for v2, only its result columns update
		r := drawLogRow{
			drawID: d.DrawID, eventID: d.EventID, method: drawMethod(d.VisitBonus), algorithm: d.Algorithm, state: DrawStateDrawn,
			winnerCount: d.WinnerCount, alternateCount: len(d.Alternates), visitBonus: d.VisitBonus, visitBonusWeight: d.VisitBonusWeight,
			candidateCount: d.CandidateCount, cutoffPosition: d.CutoffPosition, position: e.Position,
			seed: &d.Seed, beacon: beacon, winners: winners, alternates: alternates, drawnAt: &d.DrawnAt, drawnBy: &d.DrawnBy,
		}
		if d.CandidatesDigest != "" {
			r.digest = &d.CandidatesDigest
		}
		m.draws = append(m.draws, r)
		return nil
	}
	return fmt.Errorf("unexpected %T", e.Data)
}

func (m *drawLog) flush(ctx context.Context, w *writer, final bool) error {
	if !final {
		return nil
	}
	for _, r := range m.draws {
		if err := w.exec(ctx, `INSERT INTO `+w.table("draw_log")+` AS l (draw_id, event_id, method, winner_count, algorithm, visit_bonus,
			visit_bonus_weight, seed, candidate_count, candidates_digest, cutoff_position, drawn_at, drawn_by, winners, position,
			state, alternate_count, alternates, candidates_root, randomness_source, randomness_chain_hash, randomness_round, beacon,
			committed_at, committed_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
			ON CONFLICT (draw_id) DO UPDATE SET state = excluded.state, seed = excluded.seed, beacon = excluded.beacon,
				winners = excluded.winners, alternates = excluded.alternates, drawn_at = excluded.drawn_at,
				drawn_by = excluded.drawn_by, position = excluded.position
			WHERE l.state = '`+DrawStateCommitted+`' AND excluded.state = '`+DrawStateDrawn+`'`,
			r.drawID, r.eventID, r.method, r.winnerCount, r.algorithm, r.visitBonus,
			r.visitBonusWeight, r.seed, r.candidateCount, r.digest, r.cutoffPosition, r.drawnAt, r.drawnBy, r.winners, r.position,
			r.state, r.alternateCount, r.alternates, r.root, r.source, r.chainHash, r.round, r.beacon,
			r.committedAt, r.committedBy); err != nil {
			return fmt.Errorf("draw log: %w", err)
		}
	}
	m.draws, m.index = m.draws[:0], nil
	return nil
}
