package projections

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/eventstore"
)

// swap finishes the rebuild in one transaction; see rebuild.go. On any
// error the transaction rolls back: the live tables are as they were, the
// shadow tables as after the catch-up, and the tail is reset, so the swap
// can run again.
func (r *rebuild) swap(ctx context.Context) (err error) {
	r.progress(PhaseSwap)
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	before, committed := r.tail.Position(), false
	defer func() {
		if committed {
			return
		}
		rbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = tx.Rollback(rbCtx)
		r.tail.Reset(before)
		if err != nil {
			err = fmt.Errorf("swap: %w", err)
		}
	}()
	exec := func(sql string, args ...any) error {
		_, err := tx.Exec(ctx, sql, args...)
		return err
	}
	live := make([]string, len(r.tables))
	for i, t := range r.tables {
		live[i] = pgx.Identifier{"public", t}.Sanitize()
	}
	// The positions table first: a live projector's transaction claims its
	// position before it writes, so none is half done once this is held.
	// EXCLUSIVE stops the live projectors' writes, not the queries' reads.
	if err := exec(fmt.Sprintf("SET LOCAL lock_timeout = %d", r.opts.LockTimeout.Milliseconds())); err != nil {
		return err
	}
	if err := exec("LOCK TABLE public.projection_positions, " + strings.Join(live, ", ") + " IN EXCLUSIVE MODE"); err != nil {
		return err
	}
	// Every event a live projector has applied must be in the rebuilt
	// tables: Kafka will not deliver it again. Events after the rebuild's
	// last one will be delivered, and the positions then let them through.
	var liveMax int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM public.projection_positions WHERE projection = ANY($1)`,
		r.names).Scan(&liveMax); err != nil {
		return err
	}
	// Read before writing: this transaction has no xid yet, so the tail can
	// still tell the holes of appends in flight from settled ones.
	var recs []eventstore.RecordedEvent
	for {
		page, waiting, err := r.tail.Next(ctx, r.opts.PageSize)
		if err != nil {
			return err
		}
		recs = append(recs, page...)
		if waiting {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(2 * time.Millisecond):
			}
			continue
		}
		if len(page) < r.opts.PageSize && r.tail.Position() >= liveMax {
			break
		}
		if len(page) == 0 {
			return fmt.Errorf("the live projections stand at position %d, past the event store's head %d",
				liveMax, r.tail.Position())
		}
	}
	// The last events, applied by the live projectors' own code to the
	// shadow tables. What it counts is put back if the swap fails.
	position, events, poison, applied := r.position, r.events, r.poison, maps.Clone(r.applied)
	defer func() {
		if err != nil {
			r.position, r.events, r.poison, r.applied = position, events, poison, applied
		}
	}()
	if err := r.applyLive(ctx, tx, recs); err != nil {
		return err
	}
	r.position = max(r.position, r.tail.Position())
	if r.opts.Verify {
		if r.report.Diffs, r.report.Lagging, err = r.verify(ctx, tx); err != nil {
			return err
		}
	}
	if !r.opts.DryRun {
		// Queries wait from here to the commit, a few milliseconds; tables
		// are locked in the order queries lock them, so neither waits for
		// the other in a circle.
		if err := exec("LOCK TABLE " + strings.Join(live, ", ") + " IN ACCESS EXCLUSIVE MODE"); err != nil {
			return err
		}
		for i, t := range r.tables {
			if err := exec("DROP TABLE " + live[i]); err != nil {
				return err
			}
			if err := exec("ALTER TABLE " + r.ident(t) + " SET SCHEMA public"); err != nil {
				return err
			}
		}
		if err := exec(`DELETE FROM public.projection_positions WHERE projection = ANY($1)`, r.names); err != nil {
			return err
		}
		if err := exec(`INSERT INTO public.projection_positions (projection, partition_key, position, updated_at)
			SELECT projection, partition_key, position, updated_at FROM ` + r.ident("projection_positions")); err != nil {
			return err
		}
		if err := exec(`INSERT INTO public.projection_checkpoints AS c (projection, position, updated_at)
			SELECT unnest($1::text[]), $2, now()
			ON CONFLICT (projection) DO UPDATE SET position = greatest(c.position, EXCLUDED.position), updated_at = now()`,
			r.names, r.position); err != nil {
			return err
		}
		// Once asked, the commit is seen through: an interrupted commit
		// would leave the outcome unknown.
		if err := tx.Commit(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		committed = true
		r.report.Swapped = true
	}
	r.report.Position = r.position
	r.progress(PhaseSwap)
	return nil
}

// TableDiff is how one rebuilt table differs from the live one.
type TableDiff struct {
	Table       string
	LiveRows    int64
	RebuiltRows int64
	OnlyLive    int64    // rows whose key the rebuilt table lacks
	OnlyRebuilt int64    // rows whose key the live table lacks
	Different   int64    // rows with the same key and other values
	Keys        []string // the first differing keys, in order
}

// Differs reports whether the tables differ.
func (d TableDiff) Differs() bool { return d.OnlyLive+d.OnlyRebuilt+d.Different > 0 }

// diffKeys bounds TableDiff.Keys.
const diffKeys = 5

// verifyTables are each table's key columns and the column naming its campaign.
var verifyTables = map[string]struct {
	keys     []string
	campaign string
}{
	"participants":       {[]string{"participant_id"}, "event_id"},
	"participant_counts": {[]string{"event_id", "entry_path"}, "event_id"},
	"winners":            {[]string{"event_id", "kind", "rank"}, "event_id"},
	"draw_log":           {[]string{"draw_id"}, "event_id"},
	"analytics":          {[]string{"event_id"}, "event_id"},
	"analytics_channels": {[]string{"event_id", "entry_path"}, "event_id"},
	"analytics_hours":    {[]string{"event_id", "hour"}, "event_id"},
	"campaigns":          {[]string{"event_id"}, "event_id"},
}

// verify compares the shadow tables with the live ones inside the swap,
// where the live projectors cannot write. A campaign where a live
// projection has not yet applied what the rebuild applied is left out: it
// would differ by lag, not by fault.
func (r *rebuild) verify(ctx context.Context, tx pgx.Tx) ([]TableDiff, []string, error) {
	rows, err := tx.Query(ctx, `SELECT s.projection, s.partition_key FROM `+r.ident("projection_positions")+` s
		LEFT JOIN public.projection_positions l USING (projection, partition_key)
		WHERE coalesce(l.position, 0) < s.position ORDER BY 1, 2`)
	if err != nil {
		return nil, nil, fmt.Errorf("verify: %w", err)
	}
	defer rows.Close()
	lagging := map[string][]string{}
	laggingKeys := []string{}
	for rows.Next() {
		var name, key string
		if err := rows.Scan(&name, &key); err != nil {
			return nil, nil, fmt.Errorf("verify: %w", err)
		}
		lagging[name] = append(lagging[name], key)
		laggingKeys = append(laggingKeys, name+"/"+key)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("verify: %w", err)
	}
	var diffs []TableDiff
	for _, name := range r.names {
		skip := lagging[name]
		if skip == nil {
			skip = []string{}
		}
		for _, t := range projectionTables[name] {
			spec := verifyTables[t]
			d, err := r.diffTable(ctx, tx, t, spec.keys, "ROW(l.*) IS DISTINCT FROM ROW(s.*)",
				spec.campaign+"::text <> ALL($1)", skip)
			if err != nil {
				return nil, nil, err
			}
			diffs = append(diffs, d)
		}
	}
	d, err := r.diffTable(ctx, tx, "projection_positions", []string{"projection", "partition_key"},
		"l.position IS DISTINCT FROM s.position",
		"projection = ANY($2) AND projection || '/' || partition_key <> ALL($1)", laggingKeys, r.names)
	if err != nil {
		return nil, nil, err
	}
	diffs = append(diffs, d)
	return diffs, laggingKeys, nil
}

// diffTable compares a table's live and rebuilt rows with the same key,
// in one full join; differ compares the rows l and s.
func (r *rebuild) diffTable(ctx context.Context, tx pgx.Tx, table string, keys []string, differ, filter string, args ...any) (TableDiff, error) {
	d := TableDiff{Table: table, Keys: []string{}}
	live, shadow := pgx.Identifier{"public", table}.Sanitize(), r.ident(table)
	k := pgx.Identifier{keys[0]}.Sanitize()
	key := "concat_ws('/', " + strings.Join(keys, ", ") + ")"
	differs := "(l." + k + " IS NULL OR s." + k + " IS NULL OR " + differ + ")"
	err := tx.QueryRow(ctx, `SELECT count(l.`+k+`), count(s.`+k+`),
			count(*) FILTER (WHERE s.`+k+` IS NULL), count(*) FILTER (WHERE l.`+k+` IS NULL),
			count(*) FILTER (WHERE l.`+k+` IS NOT NULL AND s.`+k+` IS NOT NULL AND `+differ+`),
			coalesce((array_agg(`+key+` ORDER BY `+key+`) FILTER (WHERE `+differs+`))[1:`+fmt.Sprint(diffKeys)+`], '{}')
		FROM (SELECT * FROM `+live+` WHERE `+filter+`) l
		FULL JOIN (SELECT * FROM `+shadow+` WHERE `+filter+`) s USING (`+strings.Join(keys, ", ")+`)`, args...).
		Scan(&d.LiveRows, &d.RebuiltRows, &d.OnlyLive, &d.OnlyRebuilt, &d.Different, &d.Keys)
	if err != nil {
		return d, fmt.Errorf("verify %s: %w", table, err)
	}
	return d, nil
}
