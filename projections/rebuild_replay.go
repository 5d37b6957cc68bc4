package projections

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// The replay reads the store's settled prefix with a plain ordered scan
// (eventstore.ReplayReader): below a settled head there is no gap to be
// careful about. The catch-up after it uses the gap-safe Tail.

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
// onlyTypes is set; a goroutine of its own publicizes and decodes them.
func readPage(ctx context.Context, reader *eventstore.ReplayReader, after, upTo int64, limit int, onlyTypes []string, publicize Publicize) (*page, error) {
	recs, err := reader.Page(ctx, after, upTo, limit, onlyTypes)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	p := &page{ready: make(chan struct{}), read: len(recs)}
	if len(recs) > 0 {
		p.last = recs[len(recs)-1].Position
	}
	go func() {
		defer close(p.ready)
		p.events = make([]Event, 0, len(recs))
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

// replay folds the settled prefix of the log into the read models in
// memory, page by page, writing each page's new participants with COPY
// into the shadow tables (still without indexes). Reading and decoding
// (one goroutine per page) overlap folding and writing.
func (r *rebuild) replay(ctx context.Context) error {
	reader, err := eventstore.New(r.pool).NewReplayReader(ctx)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer reader.Close()
	if r.head, err = reader.SettledHead(ctx, func(oldest string) {
		r.logger.WarnContext(ctx, "projections rebuild: waiting for transactions in flight to end", "oldest_xid", oldest)
	}); err != nil {
		return fmt.Errorf("replay: %w", err)
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
		for after := int64(0); after < r.head; {
			p, err := readPage(gctx, reader, after, r.head, r.opts.PageSize, onlyTypes, publicize)
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
