package projections

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strconv"
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
// explains: positions at or below a head seen in a snapshot are settled
// once every transaction that held an xid then has ended.
func settledHead(ctx context.Context, conn *pgxpool.Conn, logger *slog.Logger) (int64, error) {
	var head, xmax int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(position), 0),
		pg_snapshot_xmax(pg_current_snapshot())::text::bigint FROM events`).Scan(&head, &xmax); err != nil {
		return 0, fmt.Errorf("store head: %w", err)
	}
	for start := time.Now(); ; {
		var xmin int64
		if err := conn.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&xmin); err != nil {
			return 0, fmt.Errorf("store head: %w", err)
		}
		if xmin >= xmax {
			return head, nil
		}
		if time.Since(start) > time.Second {
			logger.WarnContext(ctx, "projections rebuild: waiting for transactions in flight to end", "oldest_xid", xmin)
			start = time.Now()
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

const sqlReplayPage = `SELECT position, partition_key, type, data::text, recorded_at FROM events
WHERE position > $1 AND position <= $2 AND ($4::text IS NULL OR type = $4) ORDER BY position LIMIT $3`

// page is events read with one query and decoded by a goroutine of its own;
// ready closes when they are.
type page struct {
	events []event
	ready  chan struct{}
}

// readPage reads up to limit events in (after, upTo], of one type when
// onlyType is set, with binary results parsed here (pgx's Scan costs more
// than the parsing).
func readPage(ctx context.Context, conn *pgx.Conn, after, upTo int64, limit int, onlyType string, keys map[string]string, publicize Publicize) (*page, error) {
	params := [][]byte{strconv.AppendInt(nil, after, 10), strconv.AppendInt(nil, upTo, 10),
		strconv.AppendInt(nil, int64(limit), 10), nil}
	if onlyType != "" {
		params[3] = []byte(onlyType)
	}
	rr := conn.PgConn().ExecParams(ctx, sqlReplayPage, params, nil, nil, []int16{1, 1, 1, 1, 1})
	p := &page{events: make([]event, 0, limit), ready: make(chan struct{})}
	var (
		arena []byte
		spans []int // data's end offsets in arena
		types []string
	)
	for rr.NextRow() {
		v := rr.Values()
		if len(v) != 5 || len(v[0]) != 8 || len(v[4]) != 8 {
			rr.Close()
			return nil, fmt.Errorf("replay: unexpected row shape")
		}
		e := event{position: int64(binary.BigEndian.Uint64(v[0]))}
		key, ok := keys[string(v[1])]
		if !ok {
			key = string(v[1])
			keys[key] = key
		}
		e.key = key
		us := int64(binary.BigEndian.Uint64(v[4])) + pgEpoch
		e.recordedAt = time.Unix(us/1_000_000, (us%1_000_000)*1000)
		types = append(types, internType(v[2]))
		arena = append(arena, v[3]...)
		spans = append(spans, len(arena))
		p.events = append(p.events, e)
	}
	if _, err := rr.Close(); err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	if publicize != nil {
		var err error
		if arena, spans, err = publicPage(ctx, p.events, types, arena, spans, publicize); err != nil {
			return nil, err
		}
	}
	go func() {
		defer close(p.ready)
		from := 0
		for i := range p.events {
			p.events[i].decode(types[i], arena[from:spans[i]:spans[i]])
			from = spans[i]
		}
	}()
	return p, nil
}

// publicPage replaces the page's registrations by their public form.
func publicPage(ctx context.Context, events []event, types []string, arena []byte, spans []int, publicize Publicize) ([]byte, []int, error) {
	recs := make([]eventstore.RecordedEvent, len(events))
	from := 0
	for i := range events {
		recs[i] = eventstore.RecordedEvent{Position: events[i].position, Type: types[i], Data: arena[from:spans[i]:spans[i]]}
		from = spans[i]
	}
	public, err := publicize(ctx, recs)
	if err != nil {
		return nil, nil, fmt.Errorf("replay: %w", err)
	}
	var out []byte
	outSpans := make([]int, len(public))
	for i, r := range public {
		out = append(out, r.Data...)
		outSpans[i] = len(out)
	}
	return out, outSpans, nil
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

// replay folds the settled prefix of the log, writing new participants
// page by page. Three goroutines overlap: reading (and, one goroutine per
// page, decoding), folding, and COPY.
func (r *rebuild) replay(ctx context.Context) error {
	reader, err := r.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer reader.Release()
	if r.head, err = settledHead(ctx, reader, r.logger); err != nil {
		return err
	}
	if r.participants {
		// Most events are registrations: growing the map costs more than
		// the memory it may leave unused.
		r.people = make(map[uuid.UUID]person, min(r.head, 4_000_000))
	}
	r.progress(PhaseReplay)

	// The winners and the draw log need nothing but the draws.
	onlyType := ""
	if !r.participants && !r.analytics {
		onlyType = domain.TypeWinnersDrawn
	}
	pages := make(chan *page, 3)
	batches := make(chan []participantRow, 2)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(pages)
		keys := map[string]string{}
		for after := int64(0); after < r.head; {
			p, err := readPage(gctx, reader.Conn(), after, r.head, r.opts.PageSize, onlyType, keys, r.opts.Publicize)
			if err != nil {
				return err
			}
			if len(p.events) == 0 {
				return nil
			}
			after = p.events[len(p.events)-1].position
			select {
			case pages <- p:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	g.Go(func() error {
		defer close(batches)
		for p := range pages {
			select {
			case <-p.ready:
			case <-gctx.Done():
				return gctx.Err()
			}
			for i := range p.events {
				r.applyEvent(gctx, &p.events[i])
			}
			if rows := r.nextPage(); len(rows) > 0 {
				select {
				case batches <- rows:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			r.progress(PhaseReplay)
		}
		return nil
	})
	g.Go(func() error {
		writer, err := r.pool.Acquire(gctx)
		if err != nil {
			return err
		}
		defer writer.Release()
		table := r.ident("participants")
		var buf []byte
		for rows := range batches {
			if buf, err = copyParticipants(gctx, writer.Conn(), table, rows, buf); err != nil {
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}

func (r *rebuild) applyEvent(ctx context.Context, e *event) {
	if e.kind == kindPoison {
		r.logPoison(ctx, e)
	} else {
		r.fold.apply(e)
	}
	r.position = e.position
	r.events++
}

// flush writes what the replay kept in memory, once the indexes exist.
func (r *rebuild) flush(ctx context.Context) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error { return r.flushIn(ctx, tx) })
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
			if err := r.applyPage(ctx, recs); err != nil {
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

func (r *rebuild) applyPage(ctx context.Context, recs []eventstore.RecordedEvent) error {
	if r.opts.Publicize != nil {
		var err error
		if recs, err = r.opts.Publicize(ctx, recs); err != nil {
			return err
		}
	}
	for _, rec := range recs {
		e := event{position: rec.Position, key: rec.PartitionKey, recordedAt: rec.RecordedAt}
		e.decode(rec.Type, rec.Data)
		r.applyEvent(ctx, &e)
		r.head = max(r.head, rec.Position)
	}
	rows := r.nextPage()
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := copyParticipants(ctx, tx.Conn(), r.ident("participants"), rows, nil); err != nil {
			return err
		}
		return r.flushIn(ctx, tx)
	})
}
