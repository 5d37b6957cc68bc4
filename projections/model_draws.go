package projections

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// winners is the winners read model: per campaign, each winner by rank
// with the masked name and phone of the registration.
type winners struct {
	publicize Publicize                                  // nil: the store holds registrations in clear
	regs      map[uuid.UUID]domain.ParticipantRegistered // the batch's winners, from the event store
	rows      []winnerRow
	erased    []uuid.UUID // winners erased since the last flush
}

type winnerRow struct {
	eventID, drawID, participantID uuid.UUID
	rank                           int32
	entryNumber, name, phone       string
}

func (*winners) name() string { return WinnersProjection }
func (*winners) handles(t string) bool {
	return t == domain.TypeWinnersDrawn || t == domain.TypeParticipantErased
}

// load reads each winner's registration from the event store, the source
// of truth, rather than from the participants read model, which is another
// projection and may lag behind this one.
func (m *winners) load(ctx context.Context, db querier, batch []Event) error {
	var streams []string
	for _, e := range batch {
		if d, ok := e.Data.(domain.WinnersDrawn); ok {
			for _, w := range d.Winners {
				streams = append(streams, domain.ParticipantStream(w.ParticipantID))
			}
		}
	}
	m.regs = make(map[uuid.UUID]domain.ParticipantRegistered, len(streams))
	if len(streams) == 0 {
		return nil
	}
	rows, err := db.Query(ctx, `SELECT position, partition_key, type, data FROM events WHERE stream_id = ANY($1) AND type = $2`,
		streams, domain.TypeParticipantRegistered)
	if err != nil {
		return fmt.Errorf("winners' registrations: %w", err)
	}
	var recs []eventstore.RecordedEvent
	for rows.Next() {
		var rec eventstore.RecordedEvent
		if err := rows.Scan(&rec.Position, &rec.PartitionKey, &rec.Type, &rec.Data); err != nil {
			rows.Close()
			return err
		}
		recs = append(recs, rec)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("winners' registrations: %w", err)
	}
	if m.publicize != nil {
		if recs, err = m.publicize(ctx, recs); err != nil {
			return fmt.Errorf("winners' registrations: %w", err)
		}
	}
	for _, rec := range recs {
		ev, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			continue // a poison registration: its winner keeps an empty name
		}
		reg := ev.(domain.ParticipantRegistered)
		m.regs[reg.ParticipantID] = reg
	}
	return nil
}

func (m *winners) fold(e Event) error {
	if erased, ok := e.Data.(domain.ParticipantErased); ok {
		// An erased winner keeps its rank, without name or phone: live and
		// rebuilt alike, whichever came first, the draw or the erasure.
		m.erased = append(m.erased, erased.ParticipantID)
		for i := range m.rows {
			if m.rows[i].participantID == erased.ParticipantID {
				m.rows[i].name, m.rows[i].phone = "", ""
			}
		}
		return nil
	}
	d, ok := e.Data.(domain.WinnersDrawn)
	if !ok {
		return fmt.Errorf("unexpected %T", e.Data)
	}
	for _, w := range d.Winners {
		r := winnerRow{eventID: d.EventID, drawID: d.DrawID, participantID: w.ParticipantID, rank: int32(w.Rank),
			entryNumber: w.EntryNumber}
		if reg, ok := m.regs[w.ParticipantID]; ok {
			r.name, r.phone = maskedContact(reg)
		}
		m.rows = append(m.rows, r)
	}
	return nil
}

// flush writes on the final flush only: draws are few, and the rows
// conflict on the table's key.
func (m *winners) flush(ctx context.Context, w *writer, final bool) error {
	if !final || (len(m.rows) == 0 && len(m.erased) == 0) {
		return nil
	}
	if err := m.insert(ctx, w); err != nil {
		return err
	}
	if len(m.erased) > 0 {
		if err := w.exec(ctx, `UPDATE `+w.table("winners")+` SET name_masked = '', phone_masked = ''
			WHERE participant_id = ANY($1)`, m.erased); err != nil {
			return fmt.Errorf("erased winners: %w", err)
		}
		m.erased = m.erased[:0]
	}
	return nil
}

func (m *winners) insert(ctx context.Context, w *writer) error {
	if len(m.rows) == 0 {
		return nil
	}
	n := len(m.rows)
	events, draws, ids := make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n)
	ranks := make([]int32, n)
	numbers, names, phones := make([]string, n), make([]string, n), make([]string, n)
	for i, r := range m.rows {
		events[i], draws[i], ids[i], ranks[i] = r.eventID, r.drawID, r.participantID, r.rank
		numbers[i], names[i], phones[i] = r.entryNumber, r.name, r.phone
	}
	if err := w.exec(ctx, `INSERT INTO `+w.table("winners")+` (event_id, rank, participant_id, entry_number, name_masked, phone_masked, draw_id)
		SELECT * FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::uuid[])
		ON CONFLICT (event_id, rank) DO NOTHING`, events, ranks, ids, numbers, names, phones, draws); err != nil {
		return fmt.Errorf("winners: %w", err)
	}
	m.rows = m.rows[:0]
	return nil
}

// Draw methods as the draw log names them.
const (
	DrawMethodRandom         = "RANDOM"
	DrawMethodWeightedRandom = "WEIGHTED_RANDOM" // the visit bonus was applied
)

// drawLog is the draw log read model: one row per draw.
type drawLog struct {
	draws []drawLogRow
}

type drawLogRow struct {
	d        domain.WinnersDrawn
	method   string
	winners  []byte
	position int64
}

func (*drawLog) name() string                                 { return DrawLogProjection }
func (*drawLog) handles(t string) bool                        { return t == domain.TypeWinnersDrawn }
func (*drawLog) load(context.Context, querier, []Event) error { return nil }

func (m *drawLog) fold(e Event) error {
	d, ok := e.Data.(domain.WinnersDrawn)
	if !ok {
		return fmt.Errorf("unexpected %T", e.Data)
	}
	method := DrawMethodRandom
	if d.VisitBonus {
		method = DrawMethodWeightedRandom
	}
	ws := d.Winners
	if ws == nil {
		ws = []domain.Winner{}
	}
	js, err := json.Marshal(ws)
	if err != nil {
		return err
	}
	m.draws = append(m.draws, drawLogRow{d: d, method: method, winners: js, position: e.Position})
	return nil
}

func (m *drawLog) flush(ctx context.Context, w *writer, final bool) error {
	if !final {
		return nil
	}
	for _, r := range m.draws {
		d := r.d
		if err := w.exec(ctx, `INSERT INTO `+w.table("draw_log")+` (draw_id, event_id, method, winner_count, algorithm, visit_bonus,
			visit_bonus_weight, seed, candidate_count, candidates_digest, cutoff_position, drawn_at, drawn_by, winners, position)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (draw_id) DO NOTHING`, d.DrawID, d.EventID, r.method, d.WinnerCount, d.Algorithm, d.VisitBonus,
			d.VisitBonusWeight, d.Seed, d.CandidateCount, d.CandidatesDigest, d.CutoffPosition, d.DrawnAt, d.DrawnBy,
			r.winners, r.position); err != nil {
			return fmt.Errorf("draw log: %w", err)
		}
	}
	m.draws = m.draws[:0]
	return nil
}
