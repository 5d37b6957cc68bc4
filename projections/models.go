package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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

// entryPathOf keeps a registration without an entry path countable: ""
// stands for the whole campaign in participant_counts.
func entryPathOf(p domain.EntryPath) string {
	if p == "" {
		return string(domain.EntryPathOther)
	}
	return string(p)
}

// participatedAt falls back to the recording time for an event without one.
func participatedAt(ev domain.ParticipantRegistered, e eventstore.RecordedEvent) time.Time {
	if ev.Timestamp.IsZero() {
		return e.RecordedAt
	}
	return ev.Timestamp
}

// updatedAt is the event's recording time, so that a rebuild gives the same
// figures; now for an event that lacks it.
func updatedAt(e eventstore.RecordedEvent) time.Time {
	if e.RecordedAt.IsZero() {
		return time.Now()
	}
	return e.RecordedAt
}

func winnerIDs(ws []domain.Winner) []uuid.UUID {
	ids := make([]uuid.UUID, len(ws))
	for i, w := range ws {
		ids[i] = w.ParticipantID
	}
	return ids
}

// ---- participants ----

type participantsModel struct{}

func (participantsModel) handles(t string) bool {
	return t == domain.TypeParticipantRegistered || t == domain.TypeStoreVisitRecorded || t == domain.TypeWinnersDrawn
}

// A participant takes the next seq of its campaign and of its entry path;
// the counters move in the same statement, and not at all for a participant
// already present.
const sqlRegisterParticipant = `WITH fresh AS (
	SELECT WHERE NOT EXISTS (SELECT 1 FROM participants WHERE participant_id = $1)
), total AS (
	INSERT INTO participant_counts AS c (event_id, entry_path, registered)
	SELECT $2, '', 1 FROM fresh
	ON CONFLICT (event_id, entry_path) DO UPDATE SET registered = c.registered + 1
	RETURNING registered
), path AS (
	INSERT INTO participant_counts AS c (event_id, entry_path, registered)
	SELECT $2, $3, 1 FROM fresh
	ON CONFLICT (event_id, entry_path) DO UPDATE SET registered = c.registered + 1
	RETURNING registered
)
INSERT INTO participants (participant_id, event_id, seq, path_seq, position, entry_number,
	name_masked, phone_masked, entry_path, participated_at)
SELECT $1, $2, total.registered, path.registered, $4, $5, $6, $7, $3, $8 FROM total, path`

const sqlVisitParticipant = `UPDATE participants SET store_visited = true
WHERE participant_id = $1 AND NOT store_visited`

const sqlParticipantsWon = `WITH won AS (
	UPDATE participants SET winner = true
	WHERE event_id = $1 AND participant_id = ANY($2) AND NOT winner
	RETURNING entry_path
), n AS (
	SELECT entry_path, count(*) AS n FROM won GROUP BY entry_path
	UNION ALL
	SELECT '', count(*) FROM won
)
UPDATE participant_counts c SET winners = c.winners + n.n
FROM n WHERE c.event_id = $1 AND c.entry_path = n.entry_path`

func (participantsModel) plan(_ context.Context, e eventstore.RecordedEvent, ev domain.Event) (write, error) {
	switch ev := ev.(type) {
	case domain.ParticipantRegistered:
		return func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sqlRegisterParticipant, ev.ParticipantID, ev.EventID, entryPathOf(ev.EntryPath),
				e.Position, ev.EntryNumber, domain.MaskName(ev.Name), domain.MaskPhone(ev.Phone), participatedAt(ev, e))
			return err
		}, nil
	case domain.StoreVisitRecorded:
		return func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sqlVisitParticipant, ev.ParticipantID)
			return err
		}, nil
	case domain.WinnersDrawn:
		return func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sqlParticipantsWon, ev.EventID, winnerIDs(ev.Winners))
			return err
		}, nil
	}
	return nil, fmt.Errorf("unexpected %T", ev)
}

// ---- winners ----

type winnersModel struct {
	store     *eventstore.Store
	publicize Publicize
	logger    *slog.Logger
}

// Publicize turns stored events into what may leave the store (personal
// data opened and masked: privacy.Publicizer.Public). Whatever reads the
// store instead of the topic — the winners' registrations, a rebuild —
// folds its output, so it sees what the topic carries.
type Publicize func(context.Context, []eventstore.RecordedEvent) ([]eventstore.RecordedEvent, error)

func (winnersModel) handles(t string) bool { return t == domain.TypeWinnersDrawn }

const sqlInsertWinners = `INSERT INTO winners (event_id, rank, participant_id, entry_number, name_masked, phone_masked, draw_id)
SELECT $1, w.rank, w.pid, w.entry_number, w.name, w.phone, $2
FROM unnest($3::int[], $4::uuid[], $5::text[], $6::text[], $7::text[]) AS w(rank, pid, entry_number, name, phone)
ON CONFLICT (event_id, rank) DO NOTHING`

// plan reads each winner's registration from the event store, the source
// of truth, rather than from the participants read model, which is another
// projection and may lag behind this one.
func (m winnersModel) plan(ctx context.Context, e eventstore.RecordedEvent, ev domain.Event) (write, error) {
	drawn, ok := ev.(domain.WinnersDrawn)
	if !ok {
		return nil, fmt.Errorf("unexpected %T", ev)
	}
	n := len(drawn.Winners)
	ranks, ids := make([]int32, n), make([]uuid.UUID, n)
	numbers, names, phones := make([]string, n), make([]string, n), make([]string, n)
	for i, w := range drawn.Winners {
		ranks[i], ids[i], numbers[i] = int32(w.Rank), w.ParticipantID, w.EntryNumber
		reg, found, err := m.registration(ctx, w.ParticipantID)
		if err != nil {
			return nil, err
		}
		if !found {
			m.logger.WarnContext(ctx, "projection: a winner's registration is not in the event store",
				"projection", WinnersProjection, "event_id", drawn.EventID, "participant_id", w.ParticipantID,
				"position", e.Position, "correlation_id", e.Metadata.CorrelationID)
			continue
		}
		names[i], phones[i] = domain.MaskName(reg.Name), domain.MaskPhone(reg.Phone)
	}
	return func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, sqlInsertWinners, drawn.EventID, drawn.DrawID, ranks, ids, numbers, names, phones)
		return err
	}, nil
}

func (m winnersModel) registration(ctx context.Context, participantID uuid.UUID) (domain.ParticipantRegistered, bool, error) {
	stored, err := m.store.ReadStream(ctx, domain.ParticipantStream(participantID))
	if err != nil {
		return domain.ParticipantRegistered{}, false, err
	}
	if m.publicize != nil {
		if stored, err = m.publicize(ctx, stored); err != nil {
			return domain.ParticipantRegistered{}, false, err
		}
	}
	for _, rec := range stored {
		if rec.Type != domain.TypeParticipantRegistered {
			continue
		}
		ev, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return domain.ParticipantRegistered{}, false, nil
		}
		return ev.(domain.ParticipantRegistered), true, nil
	}
	return domain.ParticipantRegistered{}, false, nil
}

// ---- draw log ----

// Draw methods as the draw log names them.
const (
	DrawMethodRandom         = "RANDOM"
	DrawMethodWeightedRandom = "WEIGHTED_RANDOM" // the visit bonus was applied
)

type drawLogModel struct{}

func (drawLogModel) handles(t string) bool { return t == domain.TypeWinnersDrawn }

const sqlInsertDrawLog = `INSERT INTO draw_log (draw_id, event_id, method, winner_count, algorithm, visit_bonus,
	visit_bonus_weight, seed, candidate_count, candidates_digest, cutoff_position, drawn_at, drawn_by, winners, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (draw_id) DO NOTHING`

func (drawLogModel) plan(_ context.Context, e eventstore.RecordedEvent, ev domain.Event) (write, error) {
	d, ok := ev.(domain.WinnersDrawn)
	if !ok {
		return nil, fmt.Errorf("unexpected %T", ev)
	}
	method := DrawMethodRandom
	if d.VisitBonus {
		method = DrawMethodWeightedRandom
	}
	winners := d.Winners
	if winners == nil {
		winners = []domain.Winner{}
	}
	js, err := json.Marshal(winners)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, sqlInsertDrawLog, d.DrawID, d.EventID, method, d.WinnerCount, d.Algorithm, d.VisitBonus,
			d.VisitBonusWeight, d.Seed, d.CandidateCount, d.CandidatesDigest, d.CutoffPosition, d.DrawnAt, d.DrawnBy,
			js, e.Position)
		return err
	}, nil
}

// ---- analytics ----

// AnalyticsChannel is the PostgreSQL notification channel the analytics
// projector signals in each transaction; the payload is the campaign id.
const AnalyticsChannel = "analytics_changed"

type analyticsModel struct{}

func (analyticsModel) handles(t string) bool {
	return t == domain.TypeParticipantRegistered || t == domain.TypeStoreVisitRecorded || t == domain.TypeWinnersDrawn
}

const sqlAnalyticsRegistered = `WITH a AS (
	INSERT INTO analytics AS a (event_id, total_participants, updated_at) VALUES ($1, 1, $4)
	ON CONFLICT (event_id) DO UPDATE SET total_participants = a.total_participants + 1,
		updated_at = greatest(a.updated_at, EXCLUDED.updated_at)
), c AS (
	INSERT INTO analytics_channels AS c (event_id, entry_path, participants) VALUES ($1, $2, 1)
	ON CONFLICT (event_id, entry_path) DO UPDATE SET participants = c.participants + 1
), h AS (
	INSERT INTO analytics_hours AS h (event_id, hour, participants) VALUES ($1, $3, 1)
	ON CONFLICT (event_id, hour) DO UPDATE SET participants = h.participants + 1
)
SELECT pg_notify('` + AnalyticsChannel + `', $5)`

const sqlAnalyticsVisited = `WITH a AS (
	INSERT INTO analytics AS a (event_id, store_visits, updated_at) VALUES ($1, 1, $2)
	ON CONFLICT (event_id) DO UPDATE SET store_visits = a.store_visits + 1,
		updated_at = greatest(a.updated_at, EXCLUDED.updated_at)
)
SELECT pg_notify('` + AnalyticsChannel + `', $3)`

const sqlAnalyticsDrawn = `WITH a AS (
	INSERT INTO analytics AS a (event_id, winners, updated_at) VALUES ($1, $2, $3)
	ON CONFLICT (event_id) DO UPDATE SET winners = a.winners + EXCLUDED.winners,
		updated_at = greatest(a.updated_at, EXCLUDED.updated_at)
)
SELECT pg_notify('` + AnalyticsChannel + `', $4)`

func (analyticsModel) plan(_ context.Context, e eventstore.RecordedEvent, ev domain.Event) (write, error) {
	var (
		sql  string
		args []any
	)
	switch ev := ev.(type) {
	case domain.ParticipantRegistered:
		sql = sqlAnalyticsRegistered
		args = []any{ev.EventID, entryPathOf(ev.EntryPath), hourStart(participatedAt(ev, e)), updatedAt(e), ev.EventID.String()}
	case domain.StoreVisitRecorded:
		sql = sqlAnalyticsVisited
		args = []any{ev.EventID, updatedAt(e), ev.EventID.String()}
	case domain.WinnersDrawn:
		sql = sqlAnalyticsDrawn
		args = []any{ev.EventID, int64(len(ev.Winners)), updatedAt(e), ev.EventID.String()}
	default:
		return nil, fmt.Errorf("unexpected %T", ev)
	}
	return func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, sql, args...)
		return err
	}, nil
}
