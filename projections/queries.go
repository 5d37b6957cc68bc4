package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Queries answers from the read models. It is safe for concurrent use;
// Close releases the analytics listener.
type Queries struct {
	pool     *pgxpool.Pool
	notifier *notifier
}

// NewQueries returns the queries over pool's read models.
func NewQueries(pool *pgxpool.Pool, logger *slog.Logger) *Queries {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Queries{pool: pool, notifier: newNotifier(pool, logger)}
}

// Close stops the analytics listener, if one runs.
func (q *Queries) Close() { q.notifier.close() }

const participantColumns = `p.participant_id, p.entry_number, p.name_masked, p.phone_masked, p.entry_path,
	p.participated_at, p.store_visited, p.winner, p.erased`

// The counters row of the filter and, laterally, the page: one statement,
// so the total and the page come from one snapshot.
const (
	sqlPageAll = `SELECT c.registered, c.winners, ` + participantColumns + `
FROM participant_counts c
LEFT JOIN LATERAL (
	SELECT * FROM participants
	WHERE event_id = c.event_id AND seq <= c.registered - $3
	ORDER BY seq DESC LIMIT $4
) p ON true
WHERE c.event_id = $1 AND c.entry_path = $2`

	sqlPagePath = `SELECT c.registered, c.winners, ` + participantColumns + `
FROM participant_counts c
LEFT JOIN LATERAL (
	SELECT * FROM participants
	WHERE event_id = c.event_id AND entry_path = c.entry_path AND path_seq <= c.registered - $3
	ORDER BY path_seq DESC LIMIT $4
) p ON true
WHERE c.event_id = $1 AND c.entry_path = $2`

	// Winners are few: an offset over the partial index is cheap.
	sqlPageWinners = `SELECT c.registered, c.winners, ` + participantColumns + `
FROM participant_counts c
LEFT JOIN LATERAL (
	SELECT * FROM participants
	WHERE event_id = c.event_id AND winner AND (c.entry_path = '' OR entry_path = c.entry_path)
	ORDER BY seq DESC OFFSET $3 LIMIT $4
) p ON true
WHERE c.event_id = $1 AND c.entry_path = $2`

	sqlWinnerKeys = `SELECT c.registered, c.winners, array(
	SELECT CASE WHEN c.entry_path = '' THEN seq ELSE path_seq END FROM participants
	WHERE event_id = c.event_id AND winner AND (c.entry_path = '' OR entry_path = c.entry_path)
	ORDER BY seq DESC)
FROM participant_counts c WHERE c.event_id = $1 AND c.entry_path = $2`

	sqlPageNonWinnersAll = `SELECT ` + participantColumns + ` FROM participants p
WHERE event_id = $1 AND seq <= $2 AND NOT winner ORDER BY seq DESC LIMIT $3`

	sqlPageNonWinnersPath = `SELECT ` + participantColumns + ` FROM participants p
WHERE event_id = $1 AND entry_path = $4 AND path_seq <= $2 AND NOT winner ORDER BY path_seq DESC LIMIT $3`
)

// Participants returns one page, newest first, and the filtered total. The
// total comes from counters, never from counting rows, and a deep page costs
// what the first one does (see participants.seq in the migration).
func (q *Queries) Participants(ctx context.Context, eventID uuid.UUID, f ParticipantFilter) (ParticipantPage, error) {
	page, size := max(f.Page, 1), f.Size
	if size < 1 {
		size = 20
	}
	offset := int64(math.MaxInt64 / 4) // past any campaign, without overflow
	if int64(page-1) < offset/int64(size) {
		offset = int64(page-1) * int64(size)
	}
	if f.Winner != nil && !*f.Winner {
		return q.nonWinners(ctx, eventID, f.EntryPath, offset, size)
	}
	sql := sqlPageAll
	switch {
	case f.Winner != nil:
		sql = sqlPageWinners
	case f.EntryPath != "":
		sql = sqlPagePath
	}
	rows, err := q.pool.Query(ctx, sql, eventID, f.EntryPath, offset, size)
	if err != nil {
		return ParticipantPage{}, fmt.Errorf("participants: %w", err)
	}
	defer rows.Close()
	out := ParticipantPage{Items: []ParticipantRow{}}
	for rows.Next() {
		var (
			registered, winners int64
			r                   nullableParticipant
		)
		if err := rows.Scan(append([]any{&registered, &winners}, r.dest()...)...); err != nil {
			return ParticipantPage{}, fmt.Errorf("participants: %w", err)
		}
		out.TotalCount = registered
		if f.Winner != nil {
			out.TotalCount = winners
		}
		if r.ParticipantID != nil {
			out.Items = append(out.Items, r.row())
		}
	}
	if err := rows.Err(); err != nil {
		return ParticipantPage{}, fmt.Errorf("participants: %w", err)
	}
	return out, nil
}

// nonWinners pages past the few winners: with the winners' keys (descending)
// it finds the key u above which exactly offset non-winners lie, then reads
// the page below u. Both reads share one snapshot.
func (q *Queries) nonWinners(ctx context.Context, eventID uuid.UUID, path string, offset int64, size int) (ParticipantPage, error) {
	out := ParticipantPage{Items: []ParticipantRow{}}
	err := pgx.BeginTxFunc(ctx, q.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var (
			registered, winners int64
			keys                []int64
		)
		err := tx.QueryRow(ctx, sqlWinnerKeys, eventID, path).Scan(&registered, &winners, &keys)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		out.TotalCount = registered - winners
		if offset >= out.TotalCount {
			return nil
		}
		u := registered - offset
		for c := 0; ; {
			for c < len(keys) && keys[c] > u {
				c++
			}
			next := registered - offset - int64(c)
			if next == u {
				break
			}
			u = next
		}
		var rows pgx.Rows
		if path == "" {
			rows, err = tx.Query(ctx, sqlPageNonWinnersAll, eventID, u, size)
		} else {
			rows, err = tx.Query(ctx, sqlPageNonWinnersPath, eventID, u, size, path)
		}
		if err != nil {
			return err
		}
		out.Items, err = collectParticipants(rows, out.Items)
		return err
	})
	if err != nil {
		return ParticipantPage{}, fmt.Errorf("participants: %w", err)
	}
	return out, nil
}

// eachBatch bounds EachParticipant's memory and each query's run time.
const eachBatch = 1000

const sqlEachParticipant = `SELECT ` + participantColumns + `, p.seq FROM participants p
WHERE event_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`

// EachParticipant calls fn for every participant of the campaign, newest
// first, in constant memory: it reads batches by key (no long-held
// connection or snapshot while fn writes to a slow client). Participants who
// join meanwhile are not included. It stops at fn's first error and returns it.
func (q *Queries) EachParticipant(ctx context.Context, eventID uuid.UUID, fn func(ParticipantRow) error) error {
	after := int64(math.MaxInt64)
	batch := make([]ParticipantRow, 0, eachBatch)
	for {
		batch = batch[:0]
		rows, err := q.pool.Query(ctx, sqlEachParticipant, eventID, after, eachBatch)
		if err != nil {
			return fmt.Errorf("each participant: %w", err)
		}
		for rows.Next() {
			var r ParticipantRow
			if err := rows.Scan(&r.ParticipantID, &r.EntryNumber, &r.Name, &r.Phone, &r.EntryPath,
				&r.ParticipatedAt, &r.StoreVisited, &r.Winner, &r.Erased, &after); err != nil {
				rows.Close()
				return fmt.Errorf("each participant: %w", err)
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("each participant: %w", err)
		}
		for _, r := range batch {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(batch) < eachBatch {
			return nil
		}
	}
}

// Winners returns the campaign's winners by rank, then its alternates by
// rank; none before the draw. A replaced winner's row carries the reason, a
// promoted alternate's the winner's rank it took; each its claim deadline:
// a promoted alternate's own, else the campaign's.
func (q *Queries) Winners(ctx context.Context, eventID uuid.UUID) ([]WinnerRow, error) {
	rows, err := q.pool.Query(ctx, `SELECT w.participant_id, w.entry_number, w.name_masked, w.phone_masked, w.name_listed, w.rank, w.kind,
			w.claimed_at, w.replaced_reason, w.replaced_at, w.promoted_rank, COALESCE(w.claim_deadline, c.claim_deadline),
			COALESCE(p.erased, false)
		FROM winners w LEFT JOIN campaigns c ON c.event_id = w.event_id
			LEFT JOIN participants p ON p.participant_id = w.participant_id
		WHERE w.event_id = $1 ORDER BY w.kind <> '`+WinnerKind+`', w.rank`, eventID)
	if err != nil {
		return nil, fmt.Errorf("winners: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (WinnerRow, error) {
		var w WinnerRow
		var rank int32
		var promoted *int32
		var reason *string
		var claimed, replacedAt, deadline *time.Time
		err := row.Scan(&w.ParticipantID, &w.EntryNumber, &w.Name, &w.Phone, &w.ListedName, &rank, &w.Kind, &claimed,
			&reason, &replacedAt, &promoted, &deadline, &w.Erased)
		w.Rank = int(rank)
		w.ClaimedAt, w.ReplacedAt, w.ClaimDeadline = utcOrZero(claimed), utcOrZero(replacedAt), utcOrZero(deadline)
		if reason != nil {
			w.ReplacedReason = *reason
		}
		if promoted != nil {
			w.PromotedRank = int(*promoted)
		}
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("winners: %w", err)
	}
	return out, nil
}

func utcOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// One statement, so totals, channels and hours come from one snapshot.
const sqlAnalytics = `SELECT a.total_participants, a.store_visits, a.winners, a.claimed, a.updated_at,
	array(SELECT entry_path FROM analytics_channels WHERE event_id = a.event_id ORDER BY entry_path),
	array(SELECT participants FROM analytics_channels WHERE event_id = a.event_id ORDER BY entry_path),
	array(SELECT hour FROM analytics_hours WHERE event_id = a.event_id ORDER BY hour),
	array(SELECT participants FROM analytics_hours WHERE event_id = a.event_id ORDER BY hour)
FROM analytics a WHERE a.event_id = $1`

// Analytics returns the campaign's current figures (zero when none).
func (q *Queries) Analytics(ctx context.Context, eventID uuid.UUID) (Analytics, error) {
	out := Analytics{EventID: eventID, ByChannel: map[string]int64{}, ByHour: []HourCount{}}
	var (
		channels      []string
		channelCounts []int64
		hours         []time.Time
		hourCounts    []int64
	)
	err := q.pool.QueryRow(ctx, sqlAnalytics, eventID).Scan(&out.TotalParticipants, &out.StoreVisits, &out.Winners,
		&out.Claimed, &out.UpdatedAt, &channels, &channelCounts, &hours, &hourCounts)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return Analytics{}, fmt.Errorf("analytics: %w", err)
	}
	for i, ch := range channels {
		out.ByChannel[ch] = channelCounts[i]
	}
	for i, h := range hours {
		out.ByHour = append(out.ByHour, HourCount{Hour: h.In(seoul), Count: hourCounts[i]})
	}
	return out, nil
}

// SubscribeAnalytics signals changes to the campaign's figures, coalesced:
// the channel holds at most one pending signal. It also signals whenever
// the listener (re)connects, since changes may have been missed meanwhile.
// cancel, or the end of ctx, releases the subscription; the channel is
// never closed.
func (q *Queries) SubscribeAnalytics(ctx context.Context, eventID uuid.UUID) (<-chan struct{}, func()) {
	return q.notifier.subscribe(ctx, eventID)
}

// nullableParticipant scans a participant from a LEFT JOIN.
type nullableParticipant struct {
	ParticipantID  *uuid.UUID
	EntryNumber    *string
	Name           *string
	Phone          *string
	EntryPath      *string
	ParticipatedAt *time.Time
	StoreVisited   *bool
	Winner         *bool
	Erased         *bool
}

func (r *nullableParticipant) dest() []any {
	return []any{&r.ParticipantID, &r.EntryNumber, &r.Name, &r.Phone, &r.EntryPath, &r.ParticipatedAt,
		&r.StoreVisited, &r.Winner, &r.Erased}
}

func (r *nullableParticipant) row() ParticipantRow {
	return ParticipantRow{
		ParticipantID: *r.ParticipantID, EntryNumber: *r.EntryNumber, Name: *r.Name, Phone: *r.Phone,
		EntryPath: *r.EntryPath, ParticipatedAt: *r.ParticipatedAt, StoreVisited: *r.StoreVisited, Winner: *r.Winner,
		Erased: *r.Erased,
	}
}

func collectParticipants(rows pgx.Rows, out []ParticipantRow) ([]ParticipantRow, error) {
	defer rows.Close()
	for rows.Next() {
		var r ParticipantRow
		if err := rows.Scan(&r.ParticipantID, &r.EntryNumber, &r.Name, &r.Phone, &r.EntryPath,
			&r.ParticipatedAt, &r.StoreVisited, &r.Winner, &r.Erased); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
