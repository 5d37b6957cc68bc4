package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// winners is the winners read model: per campaign, each winner by rank,
// then the alternates by rank, with the masked name and phone that the
// published WinnersDrawn carries.
type winners struct {
	rows     []winnerRow
	erased   []uuid.UUID             // winners erased since the last flush
	claimed  []domain.PrizeClaimed   // claims since the last flush
	replaced []domain.WinnerReplaced // replacements since the last flush
}

type winnerRow struct {
	eventID, drawID, participantID uuid.UUID
	kind                           string // WinnerKind or AlternateKind
	rank                           int32  // within its kind
	entryNumber, name, phone       string
	listed                         string // the name as the public result lists it
	claimedAt                      time.Time
	// WinnerReplaced: the replaced row's reason and time; the promoted
	// alternate's row the rank it took and its own claim deadline.
	replacedReason string
	replacedAt     time.Time
	promotedRank   int32
	claimDeadline  time.Time
}

// The winners read model's kinds: a v2 draw's alternates (예비 당첨자) are
// ranked after the winners, from 1, in the same table.
const (
	WinnerKind    = "WINNER"
	AlternateKind = "ALTERNATE"
)

func (*winners) name() string { return WinnersProjection }
func (*winners) handles(t string) bool {
	return t == domain.TypeWinnersDrawn || t == domain.TypeParticipantErased || t == domain.TypePrizeClaimed ||
		t == domain.TypeWinnerReplaced
}

// load reads nothing: the published WinnersDrawn carries the winners'
// masked values (privacy adds them), so the model needs neither the store
// nor a key.
func (*winners) load(context.Context, querier, []Event) error { return nil }

func (m *winners) fold(e Event) error {
	if erased, ok := e.Data.(domain.ParticipantErased); ok {
		// An erased winner keeps its rank, without name or phone: live and
		// rebuilt alike, whichever came first, the draw or the erasure.
		m.erased = append(m.erased, erased.ParticipantID)
		for i := range m.rows {
			if m.rows[i].participantID == erased.ParticipantID {
				m.rows[i].name, m.rows[i].phone, m.rows[i].listed = "", "", ""
			}
		}
		return nil
	}
	if c, ok := e.Data.(domain.PrizeClaimed); ok {
		// A claim follows its draw (and a promoted alternate's, its
		// replacement); the row may be in this batch or written.
		m.claimed = append(m.claimed, c)
		for i := range m.rows {
			if m.rows[i].participantID == c.ParticipantID && m.rows[i].claimedAt.IsZero() {
				m.rows[i].claimedAt = c.ClaimedAt
			}
		}
		return nil
	}
	if r, ok := e.Data.(domain.WinnerReplaced); ok {
		// A replacement follows its draw; the rows may be in this batch or written.
		m.replaced = append(m.replaced, r)
		for i := range m.rows {
			replacedRow(&m.rows[i], r)
		}
		return nil
	}
	d, ok := e.Data.(domain.WinnersDrawn)
	if !ok {
		return fmt.Errorf("unexpected %T", e.Data)
	}
	add := func(kind string, ws []domain.Winner) {
		for _, w := range ws {
			m.rows = append(m.rows, winnerRow{eventID: d.EventID, drawID: d.DrawID, participantID: w.ParticipantID, kind: kind,
				rank: int32(w.Rank), entryNumber: w.EntryNumber, name: w.Name, phone: w.Phone, listed: w.ListedName})
		}
	}
	add(WinnerKind, d.Winners)
	add(AlternateKind, d.Alternates)
	return nil
}

// flush writes on the final flush only: draws are few, and the rows
// conflict on the table's key.
func (m *winners) flush(ctx context.Context, w *writer, final bool) error {
	if !final || (len(m.rows) == 0 && len(m.erased) == 0 && len(m.claimed) == 0 && len(m.replaced) == 0) {
		return nil
	}
	if err := m.insert(ctx, w); err != nil {
		return err
	}
	if len(m.erased) > 0 {
		if err := w.exec(ctx, `UPDATE `+w.table("winners")+` SET name_masked = '', phone_masked = '', name_listed = ''
			WHERE participant_id = ANY($1)`, m.erased); err != nil {
			return fmt.Errorf("erased winners: %w", err)
		}
		m.erased = m.erased[:0]
	}
	if err := m.flushReplaced(ctx, w); err != nil {
		return err
	}
	if len(m.claimed) > 0 {
		ids, at := make([]uuid.UUID, len(m.claimed)), make([]time.Time, len(m.claimed))
		for i, c := range m.claimed {
			ids[i], at[i] = c.ParticipantID, c.ClaimedAt
		}
		// The first claim counts (the store allows one); a redelivery changes nothing.
		if err := w.exec(ctx, `UPDATE `+w.table("winners")+` w SET claimed_at = c.at
			FROM unnest($1::uuid[], $2::timestamptz[]) AS c(id, at)
			WHERE w.participant_id = c.id AND w.claimed_at IS NULL`, ids, at); err != nil {
			return fmt.Errorf("claimed winners: %w", err)
		}
		m.claimed = m.claimed[:0]
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
	numbers, names, phones, kinds := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	listed := make([]string, n)
	claimed, replacedAt, deadlines := make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
	reasons, promoted := make([]*string, n), make([]*int32, n)
	for i, r := range m.rows {
		events[i], draws[i], ids[i], ranks[i] = r.eventID, r.drawID, r.participantID, r.rank
		numbers[i], names[i], phones[i], kinds[i], listed[i] = r.entryNumber, r.name, r.phone, r.kind, r.listed
		row := &m.rows[i]
		claimed[i], replacedAt[i], deadlines[i] = nonZero(&row.claimedAt), nonZero(&row.replacedAt), nonZero(&row.claimDeadline)
		if r.replacedReason != "" {
			reasons[i] = &row.replacedReason
		}
		if r.promotedRank > 0 {
			promoted[i] = &row.promotedRank
		}
	}
	if err := w.exec(ctx, `INSERT INTO `+w.table("winners")+` (event_id, rank, participant_id, entry_number, name_masked, phone_masked, draw_id, kind, name_listed, claimed_at,
			replaced_reason, replaced_at, promoted_rank, claim_deadline)
		SELECT * FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::text[], $9::text[], $10::timestamptz[],
			$11::text[], $12::timestamptz[], $13::int[], $14::timestamptz[])
		ON CONFLICT (event_id, kind, rank) DO NOTHING`, events, ranks, ids, numbers, names, phones, draws, kinds, listed, claimed,
		reasons, replacedAt, promoted, deadlines); err != nil {
		return fmt.Errorf("winners: %w", err)
	}
	m.rows = m.rows[:0]
	return nil
}

// replacedRow applies a replacement to a row: the replaced one gets the
// reason and time, the promoted alternate the rank and its deadline.
func replacedRow(row *winnerRow, r domain.WinnerReplaced) {
	switch row.participantID {
	case r.Replaced.ParticipantID:
		row.replacedReason, row.replacedAt = r.Reason, r.ReplacedAt
	case r.By.ParticipantID:
		row.promotedRank, row.claimDeadline = int32(r.Rank), r.ClaimDeadline
	}
}

// flushReplaced writes the replacements to rows written before (setting
// the same values again is harmless: a redelivery changes nothing).
func (m *winners) flushReplaced(ctx context.Context, w *writer) error {
	for _, r := range m.replaced {
		if err := w.exec(ctx, `UPDATE `+w.table("winners")+` SET replaced_reason = $3, replaced_at = $4
			WHERE event_id = $1 AND participant_id = $2`, r.EventID, r.Replaced.ParticipantID, r.Reason, r.ReplacedAt); err != nil {
			return fmt.Errorf("replaced winner: %w", err)
		}
		if err := w.exec(ctx, `UPDATE `+w.table("winners")+` SET promoted_rank = $3, claim_deadline = $4
			WHERE event_id = $1 AND participant_id = $2`, r.EventID, r.By.ParticipantID, r.Rank, r.ClaimDeadline); err != nil {
			return fmt.Errorf("promoted alternate: %w", err)
		}
	}
	m.replaced = m.replaced[:0]
	return nil
}

func nonZero(t *time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return t
}
