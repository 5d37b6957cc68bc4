package eventstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/internal/pgerr"
)

// AppendBatch appends many independent requests in ONE transaction and
// answers each on its own: a request that conflicts (wrong expected version,
// a duplicate key, a closed fence) fails alone and the others commit. The
// conflicts are detected set-wise, without failing statements, so one bad
// request never rolls back its neighbours. The returned slices are indexed
// like reqs; an error returned as the second value failed the whole batch.
//
// Requests with Expected == Any are not supported here (use Append).
func (s *Store) AppendBatch(ctx context.Context, reqs []AppendRequest) ([]AppendResult, []error, error) {
	results := make([]AppendResult, len(reqs))
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		if err := r.validate(); err != nil {
			errs[i] = err
		} else if r.Expected == Any {
			errs[i] = fmt.Errorf("eventstore: AppendBatch does not take Any")
		} else if r.CampaignKey != nil {
			errs[i] = fmt.Errorf("eventstore: AppendBatch does not take a CampaignKey")
		}
	}
	if ok, err := s.appendBatchFast(ctx, reqs, results, errs); ok || err != nil {
		if err != nil {
			return nil, nil, mapError(err)
		}
		return results, errs, nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		clear(results)
		pending := make([]error, len(reqs))
		copy(pending, errs)
		if err := appendBatchInTx(ctx, tx, reqs, results, pending); err != nil {
			return err
		}
		copy(errs, pending)
		return nil
	})
	if err != nil {
		return nil, nil, mapError(err)
	}
	return results, errs, nil
}

// appendBatchFast is the common case in one pipelined round trip: every
// request opens a new stream and nothing conflicts. Any conflict (a stream
// or key taken, a closing stream present) aborts the implicit transaction,
// and ok=false sends the batch down the careful path, which answers each
// request on its own.
func (s *Store) appendBatchFast(ctx context.Context, reqs []AppendRequest, results []AppendResult, errs []error) (ok bool, err error) {
	var (
		fences, closers, streams, keys, keyStreams []string
		versions                                   []int64
		all                                        []EventData
		subjects, shreds                           []uuid.UUID
		wrapped                                    [][]byte
		owners                                     []int
		seenStream                                 = map[string]bool{}
		seenKey                                    = map[string]bool{}
	)
	for i, r := range reqs {
		if errs[i] != nil || r.Expected != NoStream || seenStream[r.Stream] {
			return false, nil
		}
		seenStream[r.Stream] = true
		if r.Fence != "" {
			fences = append(fences, r.Fence)
		}
		if r.ClosedBy != "" {
			closers = append(closers, r.ClosedBy)
		}
		streams, versions = append(streams, r.Stream), append(versions, int64(len(r.Events)))
		for _, k := range r.Keys {
			if seenKey[k] {
				return false, nil
			}
			seenKey[k] = true
			keys, keyStreams = append(keys, k), append(keyStreams, r.Stream)
		}
		for range r.Events {
			owners = append(owners, i)
		}
		all = append(all, r.Events...)
		if r.SubjectKey != nil {
			subjects, wrapped = append(subjects, r.SubjectKey.Subject), append(wrapped, r.SubjectKey.Wrapped)
		}
		if r.Shred != uuid.Nil {
			shreds = append(shreds, r.Shred)
		}
	}
	slices.Sort(fences)
	fences = slices.Compact(fences)
	// One element per campaign, not per registration: the planner prices a
	// 45-element ANY above a scan of a small streams table.
	slices.Sort(closers)
	closers = slices.Compact(closers)
	eventStreams, eventVersions := make([]string, len(all)), make([]int64, len(all))
	for j, i := range owners {
		eventStreams[j] = reqs[i].Stream
		if j > 0 && owners[j-1] == i {
			eventVersions[j] = eventVersions[j-1] + 1
		} else {
			eventVersions[j] = 1
		}
	}
	cols, err := columnsOf(all)
	if err != nil {
		return false, err
	}
	sortTogether(streams, versions)
	sortTogether(keys, keyStreams)

	batch := &pgx.Batch{}
	if len(fences) > 0 {
		batch.Queue(`SELECT pg_advisory_xact_lock_shared(hashtextextended(f, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(f, o) ORDER BY o`, fences)
	}
	if len(closers) > 0 {
		batch.Queue(`SELECT eventstore_assert_absent($1::text[])`, closers)
	}
	// The stream rows come first: they give the transaction its xid before
	// the events draw their positions (see tail.go).
	batch.Queue(`INSERT INTO streams (stream_id, version) SELECT * FROM unnest($1::text[], $2::bigint[])`, streams, versions)
	if len(keys) > 0 {
		batch.Queue(`INSERT INTO event_keys (key, stream_id) SELECT * FROM unnest($1::text[], $2::text[])`, keys, keyStreams)
	}
	if len(subjects) > 0 {
		batch.Queue(sqlInsertSubjectKeys, UUIDArray(subjects), wrapped)
	}
	if len(shreds) > 0 {
		batch.Queue(sqlShred, UUIDArray(shreds))
		batch.Queue(sqlShredAnswers, UUIDArray(shreds))
	}
	batch.Queue(sqlInsertEventsBatch, cols.ids, eventStreams, eventVersions, cols.keys, cols.types, cols.versions, cols.data, cols.meta)

	positions, err := sendPipeline(ctx, s.pool, batch, pgx.RowTo[int64])
	if pgerr.Is(err, pgerr.UniqueViolation, codeClosed) {
		return false, nil // a conflict: the careful path sorts it out
	}
	if err != nil {
		return false, fmt.Errorf("batch append: %w", err)
	}
	for j, pos := range positions {
		i := owners[j]
		results[i].Positions = append(results[i].Positions, pos)
		results[i].NextExpectedVersion = eventVersions[j]
	}
	return true, nil
}

const sqlInsertEventsBatch = `INSERT INTO events
	(position, tx_id, event_id, stream_id, stream_version, partition_key, type, schema_version, data, metadata)
	SELECT nextval('events_position_seq'), pg_current_xact_id(), e.id, e.stream, e.version, e.pkey, e.type, e.sv, e.data, e.meta
	FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[])
		AS e(id, stream, version, pkey, type, sv, data, meta)
	RETURNING position`

func appendBatchInTx(ctx context.Context, tx pgx.Tx, reqs []AppendRequest, results []AppendResult, errs []error) error {
	live := func(yield func(int, AppendRequest) bool) {
		for i, r := range reqs {
			if errs[i] == nil && !yield(i, r) {
				return
			}
		}
	}

	// 1. Fences, shared, in a fixed order.
	var fences []string
	for _, r := range live {
		if r.Fence != "" {
			fences = append(fences, r.Fence)
		}
	}
	slices.Sort(fences)
	if fences = slices.Compact(fences); len(fences) > 0 {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared(hashtextextended(f, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(f, o) ORDER BY o`, fences); err != nil {
			return fmt.Errorf("fences: %w", err)
		}
	}

	// 2. Closing streams, checked once per batch under the fences.
	var closers []string
	for _, r := range live {
		if r.ClosedBy != "" {
			closers = append(closers, r.ClosedBy)
		}
	}
	slices.Sort(closers)
	if closers = slices.Compact(closers); len(closers) > 0 {
		// Unnamed, so planned for the table's size at each call (see subjectKeys).
		rows, err := tx.Query(ctx, `SELECT stream_id FROM streams WHERE stream_id = ANY($1)`, pgx.QueryExecModeCacheDescribe, closers)
		if err != nil {
			return fmt.Errorf("closing streams: %w", err)
		}
		closed, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("closing streams: %w", err)
		}
		for i, r := range live {
			if r.ClosedBy != "" && slices.Contains(closed, r.ClosedBy) {
				errs[i] = ErrClosed
			}
		}
	}

	// 3. Streams. A second request for the same stream in one batch loses
	// to the first, as it would if it came a moment later.
	seen := map[string]bool{}
	var newIDs, exactIDs []string
	var newVersions, exactFrom, exactTo []int64
	for i, r := range live {
		if seen[r.Stream] {
			errs[i] = ErrWrongExpectedVersion
			continue
		}
		seen[r.Stream] = true
		n := int64(len(r.Events))
		if r.Expected == NoStream {
			newIDs, newVersions = append(newIDs, r.Stream), append(newVersions, n)
		} else {
			exactIDs = append(exactIDs, r.Stream)
			exactFrom, exactTo = append(exactFrom, int64(r.Expected)), append(exactTo, int64(r.Expected)+n)
		}
	}
	// Rows are locked in sorted order, so two batches never deadlock.
	sortTogether(newIDs, newVersions)
	sortTogether(exactIDs, exactFrom, exactTo)
	claimed := map[string]bool{}
	if len(newIDs) > 0 {
		if err := collectInto(ctx, tx, claimed, `INSERT INTO streams (stream_id, version)
			SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING RETURNING stream_id`, newIDs, newVersions); err != nil {
			return fmt.Errorf("claim new streams: %w", err)
		}
	}
	if len(exactIDs) > 0 {
		if err := collectInto(ctx, tx, claimed, `UPDATE streams s SET version = v.next
			FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS v(id, expected, next)
			WHERE s.stream_id = v.id AND s.version = v.expected RETURNING s.stream_id`, exactIDs, exactFrom, exactTo); err != nil {
			return fmt.Errorf("claim streams: %w", err)
		}
	}
	for i, r := range live {
		if !claimed[r.Stream] {
			errs[i] = ErrWrongExpectedVersion
		}
	}

	// 4. Keys. A key asked for twice in one batch goes to the first asker.
	// A request that lost a key gives back its stream claim and its other keys.
	var keys, keyStreams []string
	askedBy := map[string]int{}
	var lost []int
	for i, r := range live {
		for _, k := range r.Keys {
			if _, dup := askedBy[k]; dup {
				lost = append(lost, i)
				break
			}
		}
		if len(lost) > 0 && lost[len(lost)-1] == i {
			continue
		}
		for _, k := range r.Keys {
			askedBy[k] = i
			keys, keyStreams = append(keys, k), append(keyStreams, r.Stream)
		}
	}
	sortTogether(keys, keyStreams)
	won := map[string]bool{}
	if len(keys) > 0 {
		if err := collectInto(ctx, tx, won, `INSERT INTO event_keys (key, stream_id)
			SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING RETURNING key`, keys, keyStreams); err != nil {
			return fmt.Errorf("claim keys: %w", err)
		}
		for k, i := range askedBy {
			if !won[k] && !slices.Contains(lost, i) {
				lost = append(lost, i)
			}
		}
	}
	for _, i := range lost {
		errs[i] = ErrDuplicateKey
	}
	if err := undoClaims(ctx, tx, reqs, lost, won, askedBy); err != nil {
		return err
	}

	// 5. The subject keys and shreds of the requests still standing.
	var (
		subjects, shreds []uuid.UUID
		wrapped          [][]byte
	)
	for _, r := range live {
		if r.SubjectKey != nil {
			subjects, wrapped = append(subjects, r.SubjectKey.Subject), append(wrapped, r.SubjectKey.Wrapped)
		}
		if r.Shred != uuid.Nil {
			shreds = append(shreds, r.Shred)
		}
	}
	if len(subjects) > 0 {
		if _, err := tx.Exec(ctx, sqlInsertSubjectKeys, UUIDArray(subjects), wrapped); err != nil {
			return fmt.Errorf("store subject keys: %w", err)
		}
	}
	if len(shreds) > 0 {
		if _, err := tx.Exec(ctx, sqlShred, UUIDArray(shreds)); err != nil {
			return fmt.Errorf("shred: %w", err)
		}
		if _, err := tx.Exec(ctx, sqlShredAnswers, UUIDArray(shreds)); err != nil {
			return fmt.Errorf("shred: %w", err)
		}
	}

	// 6. The events of every request still standing, in one statement.
	var (
		streams []string
		base    []int64
		counts  []int32
		all     []EventData
		owners  []int
	)
	for i, r := range live {
		streams = append(streams, r.Stream)
		base = append(base, max(int64(r.Expected), 0))
		counts = append(counts, int32(len(r.Events)))
		all = append(all, r.Events...)
		for range r.Events {
			owners = append(owners, i)
		}
	}
	if len(all) == 0 {
		return nil
	}
	cols, err := columnsOf(all)
	if err != nil {
		return err
	}
	eventStreams, versions := make([]string, len(all)), make([]int64, len(all))
	k := 0
	for j := range streams {
		for n := range counts[j] {
			eventStreams[k], versions[k] = streams[j], base[j]+int64(n)+1
			k++
		}
	}
	rows, err := tx.Query(ctx, sqlInsertEventsBatch,
		cols.ids, eventStreams, versions, cols.keys, cols.types, cols.versions, cols.data, cols.meta)
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	positions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	for j, pos := range positions {
		i := owners[j]
		results[i].Positions = append(results[i].Positions, pos)
		results[i].NextExpectedVersion = versions[j]
	}
	return nil
}

// undoClaims gives back the stream claims and the keys won by requests that
// failed on another key, so that nothing of theirs stays behind.
func undoClaims(ctx context.Context, tx pgx.Tx, reqs []AppendRequest, failed []int, won map[string]bool, owner map[string]int) error {
	if len(failed) == 0 {
		return nil
	}
	var newStreams, exactStreams, keys []string
	var exactVersions []int64
	for _, i := range failed {
		r := reqs[i]
		if r.Expected == NoStream {
			newStreams = append(newStreams, r.Stream)
		} else {
			exactStreams, exactVersions = append(exactStreams, r.Stream), append(exactVersions, int64(r.Expected))
		}
		for _, k := range r.Keys {
			if won[k] && owner[k] == i {
				keys = append(keys, k)
			}
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM streams WHERE stream_id = ANY($1)`, newStreams); err != nil {
		return fmt.Errorf("undo claims: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE streams s SET version = v.expected FROM unnest($1::text[], $2::bigint[]) AS v(id, expected)
		WHERE s.stream_id = v.id`, exactStreams, exactVersions); err != nil {
		return fmt.Errorf("undo claims: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM event_keys WHERE key = ANY($1)`, keys); err != nil {
		return fmt.Errorf("undo claims: %w", err)
	}
	return nil
}

// sortTogether sorts ids and permutes the parallel slices alike.
func sortTogether[T any](ids []string, parallel ...[]T) {
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(ids[a], ids[b]) })
	sortedIDs := make([]string, len(ids))
	for to, from := range idx {
		sortedIDs[to] = ids[from]
	}
	copy(ids, sortedIDs)
	for _, p := range parallel {
		sorted := make([]T, len(p))
		for to, from := range idx {
			sorted[to] = p[from]
		}
		copy(p, sorted)
	}
}

func collectInto(ctx context.Context, tx pgx.Tx, into map[string]bool, sql string, args ...any) error {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, s := range got {
		into[s] = true
	}
	return nil
}
