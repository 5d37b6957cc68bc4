package projections

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// The replay reads the store's settled prefix straight from the events
// table. eventstore.Tail reads the same rows gap-safely but decodes every
// column and every event's metadata; that alone tops out near 70,000
// events/s here, below what a rebuild needs. Below a settled head there is
// no gap to be careful about, so a plain ordered scan is as safe; the
// catch-up after it uses the Tail.

// settledHead returns the store's head once every position up to it is
// settled: committed, or rolled back for good. It uses the rule tail.go
// explains — positions at or below a head seen in a snapshot are settled
// once every transaction that held an xid then has ended — but asks it of
// this database's transactions only: xids are the cluster's, and only a
// session of this database can append to its events. The cluster-wide
// oldest xid would make a rebuild wait on any long transaction of another
// database on the same server (a report, another service's batch), polling
// all the while.
func settledHead(ctx context.Context, conn *pgxpool.Conn, logger *slog.Logger) (int64, error) {
	var head, bound int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&head); err != nil {
		return 0, fmt.Errorf("store head: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&bound); err != nil {
		return 0, fmt.Errorf("store head: %w", err)
	}
	wait := time.Millisecond
	for start := time.Now(); ; {
		var oldest string
		err := conn.QueryRow(ctx, sqlOldestLocalXid, bound).Scan(&oldest)
		if errors.Is(err, pgx.ErrNoRows) {
			return head, nil
		}
		if err != nil {
			return 0, fmt.Errorf("store head: %w", err)
		}
		if time.Since(start) > time.Second {
			logger.WarnContext(ctx, "projections rebuild: waiting for transactions in flight to end", "oldest_xid", oldest)
			start = time.Now()
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// sqlOldestLocalXid is the oldest xid, assigned no later than the bound $1
// (an xid8), that a transaction of this database still holds: a session's
// own xid lock (pg_locks shows every session's, whatever the role; its
// database is in pg_stat_activity's datid, also shown to every role), or a
// prepared transaction; no row when there is none. Ages compare the 32-bit
// xids modulo wraparound, both from the same next xid.
const sqlOldestLocalXid = `SELECT x::text FROM (
	SELECT l.transactionid AS x FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
		AND a.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
	UNION ALL
	SELECT transaction FROM pg_prepared_xacts WHERE database = current_database()) t
WHERE age(x) >= age(($1::bigint::text::xid8)::xid) ORDER BY age(x) DESC LIMIT 1`

const sqlReplayPage = `SELECT position, partition_key, type, data::text, recorded_at FROM events
WHERE position > $1 AND position <= $2 AND ($4::text[] IS NULL OR type = ANY($4)) ORDER BY position LIMIT $3`

// page is events read with one query and decoded by a goroutine of its
// own; ready closes when they are.
type page struct {
	events []Event
	poison []Poisoned
	last   int64 // the last position read
	read   int   // rows read
	err    error // set when ready: the page could not be publicized
	ready  chan struct{}
}

// readPage reads up to limit events in (after, upTo], of those types when
// onlyTypes is set, with binary results parsed here (pgx's Scan costs more
// than the parsing); the JSON is decoded by domain.DecodeEvent.
func readPage(ctx context.Context, conn *pgx.Conn, after, upTo int64, limit int, onlyTypes []string, keys map[string]string, publicize Publicize) (*page, error) {
	params := [][]byte{strconv.AppendInt(nil, after, 10), strconv.AppendInt(nil, upTo, 10),
		strconv.AppendInt(nil, int64(limit), 10), nil}
	if len(onlyTypes) > 0 {
		params[3] = []byte("{" + strings.Join(onlyTypes, ",") + "}") // type names need no quoting
	}
	rr := conn.PgConn().ExecParams(ctx, sqlReplayPage, params, nil, nil, []int16{1, 1, 1, 1, 1})
	p := &page{ready: make(chan struct{})}
	var (
		recs  = make([]eventstore.RecordedEvent, 0, limit)
		arena []byte
		spans = make([]int, 0, limit) // data's end offsets in arena
	)
	for rr.NextRow() {
		v := rr.Values()
		if len(v) != 5 || len(v[0]) != 8 || len(v[4]) != 8 {
			rr.Close()
			return nil, fmt.Errorf("replay: unexpected row shape")
		}
		rec := eventstore.RecordedEvent{Position: int64(binary.BigEndian.Uint64(v[0]))}
		key, ok := keys[string(v[1])]
		if !ok {
			key = string(v[1])
			keys[key] = key
		}
		rec.PartitionKey = key
		us := int64(binary.BigEndian.Uint64(v[4])) + pgEpoch
		rec.RecordedAt = time.Unix(us/1_000_000, (us%1_000_000)*1000)
		rec.Type = internType(v[2])
		if arena == nil {
			// Sized for a page of rows like the first (a draw's can be
			// megabytes: bounded): growing it by doubling copied each
			// page's data about twice over.
			arena = make([]byte, 0, min((len(v[3])+len(v[3])/8)*limit, 64<<20))
		}
		arena = append(arena, v[3]...)
		spans = append(spans, len(arena))
		recs = append(recs, rec)
	}
	if _, err := rr.Close(); err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	p.read = len(recs)
	if len(recs) > 0 {
		p.last = recs[len(recs)-1].Position
	}
	go func() {
		defer close(p.ready)
		from := 0
		p.events = make([]Event, 0, len(recs))
		for i := range recs {
			recs[i].Data = arena[from:spans[i]:spans[i]]
			from = spans[i]
		}
		if publicize != nil {
			if recs, p.err = publicize(ctx, recs); p.err != nil {
				return
			}
		}
		for _, rec := range recs {
			p.add(rec)
		}
	}()
	return p, nil
}

func (p *page) add(rec eventstore.RecordedEvent) {
	e, err := decodeEvent(rec)
	if err != nil {
		p.poison = append(p.poison, Poisoned{Position: rec.Position, Key: rec.PartitionKey, Type: rec.Type, Err: err})
		return
	}
	p.events = append(p.events, e)
}

func internType(b []byte) string {
	for _, t := range [...]string{domain.TypeParticipantRegistered, domain.TypeStoreVisitRecorded,
		domain.TypeCampaignOpened, domain.TypeWinnersDrawn} {
		if string(b) == t {
			return t
		}
	}
	return string(b)
}

// replay folds the settled prefix of the log into the read models in
// memory, page by page, writing each page's new participants with COPY
// into the shadow tables (still without indexes). Reading and decoding
// (one goroutine per page) overlap folding and writing.
func (r *rebuild) replay(ctx context.Context) error {
	reader, err := r.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer reader.Release()
	if r.head, err = settledHead(ctx, reader, r.logger); err != nil {
		return err
	}
	for _, m := range r.models {
		if p, ok := m.(*participants); ok {
			// Most events are registrations: growing the map costs more
			// than the memory it may leave unused.
			p.people = make(map[uuid.UUID]person, min(r.head, 4_000_000))
		}
	}
	r.progress(PhaseReplay)
	publicize := r.replayPublicize(ctx)
	// The winners and the draw log need nothing but the draws, the
	// erasures, the claims and the replacements.
	onlyTypes := []string{domain.TypeDrawCommitted, domain.TypeWinnersDrawn, domain.TypeParticipantErased, domain.TypePrizeClaimed,
		domain.TypeWinnerReplaced}
	for _, m := range r.models {
		if m.handles(domain.TypeParticipantRegistered) || m.handles(domain.TypeCampaignOpened) {
			onlyTypes = nil
		}
	}
	pages := make(chan *page, 3)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(pages)
		keys := map[string]string{}
		for after := int64(0); after < r.head; {
			p, err := readPage(gctx, reader.Conn(), after, r.head, r.opts.PageSize, onlyTypes, keys, publicize)
			if err != nil {
				return err
			}
			if p.read == 0 {
				return nil
			}
			after = p.last
			select {
			case pages <- p:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	g.Go(func() error {
		conn, err := r.pool.Acquire(gctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		// One transaction: the shadow tables are nobody's until the swap.
		return pgx.BeginFunc(gctx, conn, func(tx pgx.Tx) error {
			copies := make(chan copyJob, 1)
			cg, cctx := errgroup.WithContext(gctx)
			cg.Go(func() error {
				for j := range copies {
					if _, err := tx.Conn().PgConn().CopyFrom(cctx, &byteReader{b: j.data}, j.sql); err != nil {
						return err
					}
				}
				return nil
			})
			w := &writer{tx: tx, schema: r.schema, copies: copies, copyFailed: cctx.Done()}
			err := r.foldPages(gctx, pages, w)
			close(copies)
			if cerr := cg.Wait(); err == nil || cerr != nil {
				err = cmp.Or(cerr, err)
			}
			return err
		})
	})
	if err := g.Wait(); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}

// replayPublicize is what the replay publicizes with: ReplayPublicize's
// answer, asked for in the background (its key scan overlaps the first
// page's read), or Publicize.
func (r *rebuild) replayPublicize(ctx context.Context) Publicize {
	if r.opts.ReplayPublicize == nil {
		return r.opts.Publicize
	}
	var (
		ready = make(chan struct{})
		p     Publicize
		err   error
	)
	go func() {
		defer close(ready)
		p, err = r.opts.ReplayPublicize(ctx)
	}()
	return func(ctx context.Context, recs []eventstore.RecordedEvent) ([]eventstore.RecordedEvent, error) {
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("replay keys: %w", err)
		}
		return p(ctx, recs)
	}
}

// foldPages folds each page into the models and writes what they let go
// of before the indexes exist (new participants).
func (r *rebuild) foldPages(ctx context.Context, pages <-chan *page, w *writer) error {
	for p := range pages {
		select {
		case <-p.ready:
		case <-ctx.Done():
			return ctx.Err()
		}
		if p.err != nil {
			return p.err
		}
		if err := r.foldPage(ctx, p); err != nil {
			return err
		}
		for _, m := range r.models {
			if err := m.flush(ctx, w, false); err != nil {
				return err
			}
		}
		r.progress(PhaseReplay)
	}
	return nil
}

// foldPage folds a page into every model in memory.
func (r *rebuild) foldPage(ctx context.Context, p *page) error {
	for _, e := range p.poison {
		r.logPoison(ctx, e)
	}
	for i, m := range r.models {
		applied, skipped, err := foldBatch(ctx, m, r.pool, r.pos[i], p.events, &r.scratch)
		if err != nil {
			return err
		}
		r.applied[m.name()] += int64(applied)
		for _, e := range skipped {
			r.logPoison(ctx, e)
		}
	}
	for _, e := range p.events {
		r.keys[e.Key] = struct{}{}
	}
	r.position = max(r.position, p.last)
	r.events += int64(p.read)
	return nil
}

// logPoison logs an event skipped, as the projector does.
func (r *rebuild) logPoison(ctx context.Context, e Poisoned) {
	r.poison++
	r.logger.WarnContext(ctx, "projections rebuild: event skipped", "position", e.Position,
		"partition_key", e.Key, "event_type", e.Type, "error", e.Err)
}

// flush writes what the replay kept in memory, once the indexes exist, and
// the positions the models reached; the models are not needed after it.
func (r *rebuild) flush(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		w := &writer{tx: tx, schema: r.schema}
		for i, m := range r.models {
			if err := m.flush(ctx, w, true); err != nil {
				return err
			}
			if err := writePositions(ctx, w, m.name(), r.pos[i], slices.Collect(maps.Keys(r.keys))); err != nil {
				return fmt.Errorf("positions: %w", err)
			}
		}
		return nil
	})
	r.models, r.pos = nil, nil
	return err
}

// catchUpEnough: once a read returns fewer events than this, the rest is
// left to the swap, which applies it with the writers locked out.
const catchUpEnough = 200

// catchUp applies the events appended since the replay, through the
// store's gap-safe Tail, a page per transaction, until few are left.
func (r *rebuild) catchUp(ctx context.Context) error {
	for {
		recs, waiting, err := r.tail.Next(ctx, r.opts.PageSize)
		if err != nil {
			return fmt.Errorf("catch-up: %w", err)
		}
		if len(recs) > 0 {
			conn, err := r.pool.Acquire(ctx)
			if err != nil {
				return fmt.Errorf("catch-up: %w", err)
			}
			err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return r.applyLive(ctx, tx, recs) })
			conn.Release()
			if err != nil {
				return fmt.Errorf("catch-up: %w", err)
			}
			r.progress(PhaseCatchUp)
		}
		if waiting {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(2 * time.Millisecond):
			}
			continue
		}
		if len(recs) < min(catchUpEnough, r.opts.PageSize) {
			return nil
		}
	}
}

// applyLive applies events to the shadow tables as the live projector
// applies them to the public ones (the same code: models that load what
// they touch, positions locked), inside tx.
func (r *rebuild) applyLive(ctx context.Context, tx pgx.Tx, recs []eventstore.RecordedEvent) error {
	if _, err := tx.Exec(ctx, "SET LOCAL search_path = "+pgx.Identifier{r.schema}.Sanitize()+", public"); err != nil {
		return err
	}
	p := &page{read: len(recs)}
	if r.opts.Publicize != nil {
		var err error
		if recs, err = r.opts.Publicize(ctx, recs); err != nil {
			return err
		}
	}
	for _, rec := range recs {
		p.add(rec)
		r.head = max(r.head, rec.Position)
		p.last = rec.Position
	}
	for _, e := range p.poison {
		r.logPoison(ctx, e)
	}
	for _, name := range r.names {
		applied, skipped, err := applyEvents(ctx, tx, name, r.schema, p.events)
		if err != nil {
			return err
		}
		r.applied[name] += int64(applied)
		for _, e := range skipped {
			r.logPoison(ctx, e)
		}
	}
	r.position = max(r.position, p.last)
	r.events += int64(p.read)
	_, err := tx.Exec(ctx, "SET LOCAL search_path TO DEFAULT")
	return err
}
