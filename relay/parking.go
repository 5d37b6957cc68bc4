package relay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/eventstore"
)

// Parking. An event Kafka refuses for good gets a parked_events row
// (refused), and every later event of its campaign one too (held), in the
// same transaction that moves the checkpoint past them: the relay goes on
// with the other campaigns, and the blocked campaign's order survives. The
// queue of a campaign goes out again, head first, when `relay retry` asks
// for its head (retry_requested); only the leader sends, so the order holds
// with any number of instances.

type parkedRow struct {
	position  int64
	eventID   uuid.UUID
	key       string
	eventType string
	refused   bool
	err       string
}

func heldRow(e eventstore.RecordedEvent) parkedRow {
	return parkedRow{position: e.Position, eventID: e.ID, key: e.PartitionKey, eventType: e.Type}
}

func refusedRow(e eventstore.RecordedEvent, err error) parkedRow {
	r := heldRow(e)
	r.refused, r.err = true, err.Error()
	return r
}

// settle records the parked rows and moves the checkpoint to upTo, atomically.
func settle(ctx context.Context, store *eventstore.Store, name string, upTo int64, rows []parkedRow) error {
	if len(rows) == 0 {
		return store.SaveCheckpoint(ctx, name, upTo)
	}
	cols := struct {
		pos      []int64
		ids      []uuid.UUID
		keys     []string
		types    []string
		refused  []bool
		messages []string
	}{}
	for _, r := range rows {
		cols.pos, cols.ids, cols.keys = append(cols.pos, r.position), append(cols.ids, r.eventID), append(cols.keys, r.key)
		cols.types, cols.refused, cols.messages = append(cols.types, r.eventType), append(cols.refused, r.refused), append(cols.messages, r.err)
	}
	return pgx.BeginFunc(ctx, store.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO parked_events (position, event_id, partition_key, type, refused, error)
			SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::bool[], $6::text[])
			ON CONFLICT (position) DO NOTHING`,
			cols.pos, cols.ids, cols.keys, cols.types, cols.refused, cols.messages); err != nil {
			return fmt.Errorf("park events: %w", err)
		}
		return eventstore.SaveCheckpointTx(ctx, tx, name, upTo)
	})
}

func blockedKeys(ctx context.Context, store *eventstore.Store) (map[string]bool, error) {
	rows, err := store.Pool().Query(ctx, `SELECT DISTINCT partition_key FROM parked_events`)
	if err != nil {
		return nil, fmt.Errorf("parked campaigns: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("parked campaigns: %w", err)
	}
	out := make(map[string]bool, len(keys))
	for _, k := range keys {
		out[k] = true
	}
	return out, nil
}

// drainParked sends again the queues whose head was asked for, and those
// left without a refused head (a retry that sent the head but stopped).
func (r *Relay) drainParked(ctx context.Context) error {
	if len(r.blocked) == 0 {
		return nil
	}
	rows, err := r.store.Pool().Query(ctx, `SELECT DISTINCT partition_key FROM parked_events p
		WHERE retry_requested OR NOT EXISTS (SELECT 1 FROM parked_events q WHERE q.partition_key = p.partition_key AND q.refused)`)
	if err != nil {
		return fmt.Errorf("parked retries: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("parked retries: %w", err)
	}
	for _, key := range keys {
		if err := r.drainKey(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

type queued struct {
	position  int64
	refused   bool
	requested bool
}

// drainKey sends one campaign's queue from its head: a refused head alone
// (so that nothing behind it goes out if Kafka refuses it again), then the
// held events up to the next refused one. It stops at the first failure.
func (r *Relay) drainKey(ctx context.Context, key string) (err error) {
	rows, err := r.store.Pool().Query(ctx, `SELECT position, refused, retry_requested FROM parked_events
		WHERE partition_key = $1 ORDER BY position`, key)
	if err != nil {
		return fmt.Errorf("parked queue: %w", err)
	}
	queue, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (queued, error) {
		var q queued
		return q, row.Scan(&q.position, &q.refused, &q.requested)
	})
	if err != nil {
		return fmt.Errorf("parked queue: %w", err)
	}
	// What went out leaves the table at the end, all at once: `relay retry`
	// then sees a queue either waiting or gone.
	var sentAll []int64
	defer func() {
		if len(sentAll) > 0 {
			if _, derr := r.store.Pool().Exec(ctx, `DELETE FROM parked_events WHERE position = ANY($1)`, sentAll); derr != nil && err == nil {
				err = fmt.Errorf("unpark: %w", derr)
			}
		}
	}()
	for len(queue) > 0 {
		head := queue[0]
		if head.refused && !head.requested {
			break
		}
		n := 1
		if !head.refused {
			for n < len(queue) && n < r.cfg.BatchSize && !queue[n].refused {
				n++
			}
		}
		sent, stop, err := r.sendQueued(ctx, queue[:n])
		sentAll = append(sentAll, sent...)
		if err != nil {
			return err
		}
		if stop {
			return nil
		}
		queue = queue[n:]
	}
	if len(queue) == 0 {
		if _, err := r.store.Pool().Exec(ctx, `DELETE FROM parked_events WHERE position = ANY($1)`, sentAll); err != nil {
			return fmt.Errorf("unpark: %w", err)
		}
		sentAll = nil // deleted: the campaign may flow
		delete(r.blocked, key)
		r.cfg.Logger.Info("relay: a parked campaign's queue went out; it flows again", "relay", r.cfg.Name, "campaign", key)
	}
	return nil
}

// sendQueued sends parked events in order and returns the positions Kafka
// took, up to the first failure; a refusal is recorded on its row.
func (r *Relay) sendQueued(ctx context.Context, run []queued) (sent []int64, stop bool, err error) {
	positions := make([]int64, len(run))
	for i, q := range run {
		positions[i] = q.position
	}
	events, err := r.store.ReadPositions(ctx, positions)
	if err != nil {
		return nil, false, err
	}
	msgs, err := r.messages(ctx, events)
	if err != nil {
		return nil, true, err
	}
	for i, err := range r.sender.Send(ctx, r.cfg.Topic, msgs) {
		e := events[i]
		switch {
		case err == nil:
			sent = append(sent, e.Position)
			continue
		case Permanent(err):
			row := refusedRow(e, err)
			if _, uerr := r.store.Pool().Exec(ctx, `UPDATE parked_events SET refused = true, error = $2, retry_requested = false
				WHERE position = $1`, e.Position, row.err); uerr != nil {
				return sent, true, fmt.Errorf("park again: %w", uerr)
			}
			r.noteParked([]parkedRow{row}, nil)
		default:
			r.cfg.Logger.Warn("relay: sending a parked event failed; will try again", "relay", r.cfg.Name,
				"position", e.Position, "err", err)
		}
		return sent, true, nil
	}
	return sent, false, nil
}

// Parked is a row of parked_events, for `relay parked`.
type Parked struct {
	Position       int64
	EventID        uuid.UUID
	Campaign       string
	Type           string
	Refused        bool // false: held behind an earlier refused event of its campaign
	Error          string
	RetryRequested bool
	ParkedAt       time.Time
}

// ListParked returns every parked event, per campaign in position order.
func ListParked(ctx context.Context, store *eventstore.Store) ([]Parked, error) {
	rows, err := store.Pool().Query(ctx, `SELECT position, event_id, partition_key, type, refused, error, retry_requested, parked_at
		FROM parked_events ORDER BY partition_key, position`)
	if err != nil {
		return nil, fmt.Errorf("parked events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Parked, error) {
		var p Parked
		return p, row.Scan(&p.Position, &p.EventID, &p.Campaign, &p.Type, &p.Refused, &p.Error, &p.RetryRequested, &p.ParkedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("parked events: %w", err)
	}
	return out, nil
}

// ErrNotRefused is a retry of an event that is not a refused parked event.
var ErrNotRefused = errors.New("not a refused parked event")

// RequestRetry asks the leading relay to send the refused events again
// (every one when ids is empty), then their campaigns' held events. It
// returns the refused events it asked for.
func RequestRetry(ctx context.Context, store *eventstore.Store, ids []uuid.UUID) ([]uuid.UUID, error) {
	var (
		rows pgx.Rows
		err  error
	)
	if len(ids) == 0 {
		rows, err = store.Pool().Query(ctx, `UPDATE parked_events SET retry_requested = true WHERE refused RETURNING event_id`)
	} else {
		rows, err = store.Pool().Query(ctx, `UPDATE parked_events SET retry_requested = true
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

func parkedGauge(store *eventstore.Store) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "participation_relay_parked_events",
		Help: "Events parked now: refused by Kafka for good, or held behind such an event of their campaign.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var n int64
		if err := store.Pool().QueryRow(ctx, `SELECT count(*) FROM parked_events`).Scan(&n); err != nil {
			return -1
		}
		return float64(n)
	})
}
