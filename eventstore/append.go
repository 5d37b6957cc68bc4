package eventstore

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/shopevents/participation/internal/pgerr"
)

// The append engine: every append, single or batched, over the pool (one
// pipelined round trip, an implicit transaction) or inside a Tx, is one
// statement (sqlAppend) after the fences. Conflicts are settled set-wise,
// with ON CONFLICT DO NOTHING and joins on what won, so a request that loses
// (its stream taken, its closing stream there, a key held) is answered alone
// and never aborts its neighbours: nothing is rerun. The one exception is a
// key or an entry number claimed by two transactions at the same moment:
// the later one's statement fails when the earlier commits, and is sent
// again, once the pre-check can see it (appendAttempts). A stream has no
// row of its own: its version is its newest event's, and the unique index
// on (stream_id, stream_version) decides who appends after it.

// batchSender is a pool (an implicit transaction per batch) or a pgx.Tx.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

const appendAttempts = 3

// anyAttempts bounds the rounds of Any appends that lost a race: each round
// some append of the stream won, so this is the contention tolerated.
const anyAttempts = 16

// modes of a request's stream claim in sqlAppend.
const (
	modeNew   = 0 // NoStream: insert, or lose
	modeExact = 1 // Exactly(n): move from n, or lose
	modeAny   = 2 // Any: insert or move on
)

// Rows of sqlAppend that are not events say why a request lost.
const (
	lostClosed = -1
	lostKey    = -2
	lostHeld   = -3
)

// sqlAppend is the engine's statement, eventstore_append (migration
// 00150): it inserts each request's first event with ON CONFLICT DO NOTHING
// (in stream order, so that two batches never deadlock), then writes the
// other events, keys and data keys of the requests that won, and only
// theirs. It is a function for its SET enable_seqscan = off: its plan,
// cached for the connection, probes the indexes even when it was made while
// the tables held a few rows.
const sqlAppend = `SELECT * FROM eventstore_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
	$13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
	$25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39)`

const (
	sqlFencesShared = `SELECT pg_advisory_xact_lock_shared(hashtextextended(f, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(f, o) ORDER BY o`
	// sqlShredAnswers runs after sqlAppend, in a statement of its own: the
	// data key's row lock orders it after a Complete that stored a subject
	// (IdempotencyKeys.Complete), whose row its fresh snapshot then sees.
	// Only subjects whose key is gone lose their answers: an erasure that
	// lost its stream shredded nothing.
	sqlShredAnswers = `DELETE FROM idempotency_keys i WHERE subject = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM pii_keys p WHERE p.participant_id = i.subject)`
)

// appendPlan is a batch of requests as sqlAppend's columns, with the
// answers already known (a stream or key asked twice in one batch).
type appendPlan struct {
	fences []string
	req    struct {
		idx      []int32
		streams  []string
		modes    []int32
		expected []int64
		closers  []string
	}
	keyIdx []int32
	keys   []string
	en     struct {
		idx               []int32
		campaigns, number []string
	}
	subjIdx  []int32
	subjects []uuid.UUID
	wrapped  [][]byte
	shredIdx []int32
	shreds   []uuid.UUID
	ckIdx    []int32
	ckIDs    []uuid.UUID
	ckWrap   [][]byte
	evIdx    []int32
	evOrd    []int32
	events   []EventData
	ids      struct {
		idx                                 []int32
		scopes, keys                        []string
		fps                                 [][]byte
		lease, ttl                          float64
		wonStatus, lostStatus, closedStatus []int32
		wonBody, lostBody, closedBody       [][]byte
		subjects                            []uuid.UUID
	}
}

// planAppend lays out the requests still unanswered in errs. Within one
// batch a second request for a stream or a key loses to the first, as it
// would a moment later. Requests go in stream order: the claims lock rows
// in that order.
func planAppend(reqs []AppendRequest, errs []error) appendPlan {
	order := make([]int, 0, len(reqs))
	for i := range reqs {
		if errs[i] == nil {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(reqs[a].Stream, reqs[b].Stream) })
	var p appendPlan
	seenKey := map[string]int{} // the first asker of a key in the batch wins it
	for _, i := range order {
		for _, k := range reqs[i].keys() {
			if j, ok := seenKey[k]; !ok || i < j {
				seenKey[k] = i
			}
		}
	}
	var lastStream string
	for _, i := range order {
		r := reqs[i]
		if r.Stream == lastStream {
			errs[i] = ErrWrongExpectedVersion
			continue
		}
		if slices.ContainsFunc(r.keys(), func(k string) bool { return seenKey[k] != i }) {
			errs[i] = ErrDuplicateKey
			continue
		}
		lastStream = r.Stream
		mode, expected := int32(modeNew), int64(0)
		switch {
		case r.Expected == Any:
			mode = modeAny
		case r.Expected > NoStream:
			mode, expected = modeExact, int64(r.Expected)
		}
		idx := int32(i)
		p.req.idx = append(p.req.idx, idx)
		p.req.streams = append(p.req.streams, r.Stream)
		p.req.modes = append(p.req.modes, mode)
		p.req.expected = append(p.req.expected, expected)
		p.req.closers = append(p.req.closers, r.ClosedBy)
		if r.Fence != "" {
			p.fences = append(p.fences, r.Fence)
		}
		for _, k := range r.Keys {
			p.keyIdx, p.keys = append(p.keyIdx, idx), append(p.keys, k)
		}
		if e := r.Entry; e != nil {
			p.en.idx, p.en.campaigns, p.en.number = append(p.en.idx, idx), append(p.en.campaigns, e.Campaign.String()), append(p.en.number, e.Number)
		}
		if k := r.SubjectKey; k != nil {
			p.subjIdx, p.subjects, p.wrapped = append(p.subjIdx, idx), append(p.subjects, k.Subject), append(p.wrapped, k.Wrapped)
		}
		if r.Shred != uuid.Nil {
			p.shredIdx, p.shreds = append(p.shredIdx, idx), append(p.shreds, r.Shred)
		}
		if k := r.CampaignKey; k != nil {
			p.ckIdx, p.ckIDs, p.ckWrap = append(p.ckIdx, idx), append(p.ckIDs, k.Campaign), append(p.ckWrap, k.Wrapped)
		}
		for ord := range r.Events {
			p.evIdx, p.evOrd = append(p.evIdx, idx), append(p.evOrd, int32(ord+1))
		}
		p.events = append(p.events, r.Events...)
		if w := r.Idempotency; w != nil {
			w.setDefaults()
			p.ids.idx = append(p.ids.idx, idx)
			p.ids.scopes, p.ids.keys, p.ids.fps = append(p.ids.scopes, w.Scope), append(p.ids.keys, w.Key), append(p.ids.fps, w.Fingerprint)
			p.ids.lease, p.ids.ttl = w.Lease.Seconds(), w.TTL.Seconds()
			p.ids.wonStatus, p.ids.wonBody = append(p.ids.wonStatus, int32(w.Won.Status)), append(p.ids.wonBody, w.Won.Body)
			p.ids.subjects = append(p.ids.subjects, w.Won.Subject)
			p.ids.lostStatus, p.ids.lostBody = append(p.ids.lostStatus, int32(w.Lost.Status)), append(p.ids.lostBody, w.Lost.Body)
			p.ids.closedStatus, p.ids.closedBody = append(p.ids.closedStatus, int32(w.Closed.Status)), append(p.ids.closedBody, w.Closed.Body)
		}
	}
	slices.Sort(p.fences)
	p.fences = slices.Compact(p.fences)
	return p
}

// appendAll runs reqs through the engine: results and errs are indexed like
// reqs, and errs already set are left alone (those requests are skipped).
// The returned error failed the whole batch. An append with Any that lost
// its stream to a concurrent one (both took the same newest version) is
// sent again, alone with the others that lost so: Any never fails for a
// version.
func appendAll(ctx context.Context, db batchSender, inTx bool, reqs []AppendRequest, results []AppendResult, errs []error) error {
	for i, r := range reqs {
		if errs[i] == nil {
			errs[i] = r.validate()
		}
	}
	heldInBatch(reqs, errs)
	if err := appendRound(ctx, db, inTx, reqs, results, errs); err != nil {
		return err
	}
	for range anyAttempts {
		var again []int
		for i, r := range reqs {
			if r.Expected == Any && errors.Is(errs[i], ErrWrongExpectedVersion) {
				again = append(again, i)
			}
		}
		if len(again) == 0 {
			return nil
		}
		sub := make([]AppendRequest, len(again))
		for j, i := range again {
			sub[j] = reqs[i]
		}
		subResults, subErrs := make([]AppendResult, len(sub)), make([]error, len(sub))
		if err := appendRound(ctx, db, inTx, sub, subResults, subErrs); err != nil {
			return err
		}
		for j, i := range again {
			results[i], errs[i] = subResults[j], subErrs[j]
		}
	}
	return nil
}

// appendRound is one statement of the engine for the requests of reqs not
// yet answered in errs.
func appendRound(ctx context.Context, db batchSender, inTx bool, reqs []AppendRequest, results []AppendResult, errs []error) error {
	p := planAppend(reqs, errs)
	if len(p.req.idx) == 0 {
		return nil
	}
	cols, err := columnsOf(p.events)
	if err != nil {
		return err
	}
	args := []any{p.req.idx, p.req.streams, p.req.modes, p.req.expected, p.req.closers,
		p.keyIdx, p.keys, p.en.idx, p.en.campaigns, p.en.number, p.subjIdx, UUIDArray(p.subjects), p.wrapped, p.shredIdx, UUIDArray(p.shreds),
		p.ckIdx, UUIDArray(p.ckIDs), p.ckWrap,
		p.evIdx, p.evOrd, cols.ids, cols.keys, cols.types, cols.versions, cols.data, cols.meta,
		p.ids.idx, p.ids.scopes, p.ids.keys, p.ids.fps, p.ids.lease, p.ids.ttl,
		p.ids.wonStatus, p.ids.wonBody, subjectArray(p.ids.subjects),
		p.ids.lostStatus, p.ids.lostBody, p.ids.closedStatus, p.ids.closedBody}
	// A batch per attempt: a sent one keeps the statements it was
	// described with, which a failed pipeline may have dropped.
	newBatch := func() *pgx.Batch {
		batch := &pgx.Batch{}
		if len(p.fences) > 0 {
			batch.Queue(sqlFencesShared, p.fences)
		}
		batch.Queue(sqlAppend, args...)
		if len(p.shreds) > 0 {
			batch.Queue(sqlShredAnswers, UUIDArray(p.shreds))
		}
		return batch
	}
	type outcome struct {
		I        int32
		Position int64
		Version  int64
	}
	var rows []outcome
	for attempt := 1; ; attempt++ {
		rows, err = sendAppend(ctx, db, newBatch(), len(p.fences) > 0, pgx.RowToStructByPos[outcome])
		if isKeyViolation(err) {
			if inTx || attempt == appendAttempts {
				return ErrDuplicateKey // a Tx is aborted: its caller starts again
			}
			continue // a key taken by a transaction that committed meanwhile: the pre-check sees it now
		}
		if err != nil {
			return mapError(err)
		}
		break
	}
	won := make(map[int32]bool, len(rows))
	for _, o := range rows {
		switch o.Position {
		case lostClosed:
			errs[o.I] = ErrClosed
		case lostKey:
			errs[o.I] = ErrDuplicateKey
		case lostHeld:
			errs[o.I] = ErrIdempotencyKeyTaken
		default:
			won[o.I] = true
			results[o.I].Positions = append(results[o.I].Positions, o.Position)
			results[o.I].NextExpectedVersion = max(results[o.I].NextExpectedVersion, o.Version)
		}
	}
	for _, i := range p.req.idx {
		if errs[i] == nil && !won[i] {
			errs[i] = ErrWrongExpectedVersion
		}
		slices.Sort(results[i].Positions)
	}
	return nil
}

// sendAppend sends the batch in one round trip and collects the rows of
// sqlAppend (after the fences when there are any).
func sendAppend[T any](ctx context.Context, db batchSender, batch *pgx.Batch, fenced bool, scan pgx.RowToFunc[T]) ([]T, error) {
	results := db.SendBatch(ctx, batch)
	var (
		out []T
		err error
	)
	if fenced {
		_, err = results.Exec()
	}
	if err == nil {
		var rows pgx.Rows
		if rows, err = results.Query(); err == nil {
			out, err = pgx.CollectRows(rows, scan)
		}
	}
	for q := 1 + btoi(fenced); err == nil && q < batch.Len(); q++ {
		_, err = results.Exec()
	}
	if cerr := results.Close(); err == nil {
		err = cerr
	}
	return out, err
}

// isKeyViolation: a key or an entry number taken by a transaction that
// committed after the statement's pre-check looked.
func isKeyViolation(err error) bool {
	pgErr, ok := pgerr.As(err)
	return ok && pgErr.Code == pgerr.UniqueViolation &&
		(pgErr.ConstraintName == "event_keys_pkey" || pgErr.ConstraintName == "draw_candidates_entry_number_key")
}

// subjectArray binds ids as a uuid[] in which uuid.Nil is NULL (an
// answer about no participant).
func subjectArray(ids []uuid.UUID) []pgtype.UUID {
	out := make([]pgtype.UUID, len(ids))
	for i, id := range ids {
		out[i] = pgtype.UUID{Bytes: id, Valid: id != uuid.Nil}
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// appendOne is the engine for one request.
func appendOne(ctx context.Context, db batchSender, inTx bool, req AppendRequest) (AppendResult, error) {
	results, errs := make([]AppendResult, 1), make([]error, 1)
	if err := appendAll(ctx, db, inTx, []AppendRequest{req}, results, errs); err != nil {
		return AppendResult{}, err
	}
	return results[0], errs[0]
}
