package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Parked events (parked_events, migration 00004) are the relay's queue of
// events Kafka refused for good (refused) and, behind each, the later events
// of the same campaign (held), so that the campaign's order survives. The
// events stay in the events table; a row here goes once its event is sent.
// The store keeps the table; when to park, send and unpark is the relay's.

// ParkedEvent is a parked_events row.
type ParkedEvent struct {
	Position       int64
	EventID        uuid.UUID
	Campaign       string // the event's partition key
	Type           string
	Refused        bool // false: held behind an earlier refused event of its campaign
	Error          string
	RetryRequested bool
	ParkedAt       time.Time // set by the store
}

// ErrNotRefused is a retry of an event that is not a refused parked event.
var ErrNotRefused = errors.New("not a refused parked event")

const sqlSelectParked = `SELECT position, event_id, partition_key, type, refused, error, retry_requested, parked_at
	FROM parked_events`

// Park records parked events (one already parked is left as it is) and
// moves reader's checkpoint to upTo, in one transaction: a crash between
// the two would either lose the parked events or publish them.
func (s *Store) Park(ctx context.Context, reader string, upTo int64, parked []ParkedEvent) error {
	if len(parked) == 0 {
		return s.SaveCheckpoint(ctx, reader, upTo)
	}
	var (
		positions = make([]int64, len(parked))
		ids       = make([]uuid.UUID, len(parked))
		keys      = make([]string, len(parked))
		types     = make([]string, len(parked))
		refused   = make([]bool, len(parked))
		messages  = make([]string, len(parked))
	)
	for i, p := range parked {
		positions[i], ids[i], keys[i], types[i], refused[i], messages[i] = p.Position, p.EventID, p.Campaign, p.Type, p.Refused, p.Error
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO parked_events (position, event_id, partition_key, type, refused, error)
			SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::bool[], $6::text[])
			ON CONFLICT (position) DO NOTHING`,
			positions, ids, keys, types, refused, messages); err != nil {
			return fmt.Errorf("park events: %w", err)
		}
		return saveCheckpoint(ctx, tx, reader, upTo)
	})
}

// ParkedCampaigns returns the campaigns (partition keys) with parked
// events: those whose new events must be held too.
func (s *Store) ParkedCampaigns(ctx context.Context) ([]string, error) {
	return s.parkedKeys(ctx, `SELECT DISTINCT partition_key FROM parked_events`)
}

// DueParkedCampaigns returns the campaigns whose queue is to be sent again:
// its refused head was asked for (RequestRetry), or it has no refused head
// left (a retry that sent the head but stopped before the rest).
func (s *Store) DueParkedCampaigns(ctx context.Context) ([]string, error) {
	return s.parkedKeys(ctx, `SELECT DISTINCT partition_key FROM parked_events p
		WHERE retry_requested OR NOT EXISTS (SELECT 1 FROM parked_events q WHERE q.partition_key = p.partition_key AND q.refused)`)
}

func (s *Store) parkedKeys(ctx context.Context, sql string) ([]string, error) {
	rows, err := s.pool.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("parked campaigns: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("parked campaigns: %w", err)
	}
	return keys, nil
}

// ParkedQueue returns a campaign's parked events in position order.
func (s *Store) ParkedQueue(ctx context.Context, campaign string) ([]ParkedEvent, error) {
	return s.selectParked(ctx, sqlSelectParked+` WHERE partition_key = $1 ORDER BY position`, campaign)
}

// ParkedEvents returns every parked event, per campaign in position order.
func (s *Store) ParkedEvents(ctx context.Context) ([]ParkedEvent, error) {
	return s.selectParked(ctx, sqlSelectParked+` ORDER BY partition_key, position`)
}

func (s *Store) selectParked(ctx context.Context, sql string, args ...any) ([]ParkedEvent, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("parked events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ParkedEvent, error) {
		var p ParkedEvent
		return p, row.Scan(&p.Position, &p.EventID, &p.Campaign, &p.Type, &p.Refused, &p.Error, &p.RetryRequested, &p.ParkedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("parked events: %w", err)
	}
	return out, nil
}

// CountParked returns how many events are parked now.
func (s *Store) CountParked(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM parked_events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count parked events: %w", err)
	}
	return n, nil
}

// RefuseParked records that Kafka refused a parked event again, and
// answers its retry request.
func (s *Store) RefuseParked(ctx context.Context, position int64, reason string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE parked_events SET refused = true, error = $2, retry_requested = false
		WHERE position = $1`, position, reason); err != nil {
		return fmt.Errorf("park again: %w", err)
	}
	return nil
}

// Unpark deletes the parked events at positions, once they were sent.
func (s *Store) Unpark(ctx context.Context, positions []int64) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM parked_events WHERE position = ANY($1)`, positions); err != nil {
		return fmt.Errorf("unpark: %w", err)
	}
	return nil
}

// RequestRetry asks the leading relay to send the refused events again
// (every one when ids is empty), then their campaigns' held events. It
// returns the refused events it asked for; an id that is not a refused
// parked event fails it with ErrNotRefused (the others are asked for).
func (s *Store) RequestRetry(ctx context.Context, ids []uuid.UUID) ([]uuid.UUID, error) {
	var (
		rows pgx.Rows
		err  error
	)
	if len(ids) == 0 {
		rows, err = s.pool.Query(ctx, `UPDATE parked_events SET retry_requested = true WHERE refused RETURNING event_id`)
	} else {
		rows, err = s.pool.Query(ctx, `UPDATE parked_events SET retry_requested = true
			WHERE refused AND event_id = ANY($1) RETURNING event_id`, ids)
	}
	if err != nil {
		return nil, fmt.Errorf("request retry: %w", err)
	}
	asked, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("request retry: %w", err)
	}
	if len(ids) > 0 && len(asked) < len(ids) {
		return asked, fmt.Errorf("%w: asked for %d, %d are refused parked events", ErrNotRefused, len(ids), len(asked))
	}
	return asked, nil
}
