package projections

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// kind is what a rebuild does with an event.
type kind uint8

const (
	kindIgnored kind = iota // CampaignOpened: no read model uses it
	kindRegistered
	kindVisited
	kindDrawn
	kindPoison // unknown type or undecodable: skipped, as the live projectors do
)

// event is a stored event, decoded for the fold. Byte slices point into
// the page the event was read with.
type event struct {
	position   int64
	key        string // partition key
	kind       kind
	recordedAt time.Time
	reg        registration
	visit      visit
	draw       *draw // kindDrawn
	err        error // kindPoison
}

// draw is a WinnersDrawn and the stored event the live models plan it from.
type draw struct {
	ev  domain.WinnersDrawn
	rec eventstore.RecordedEvent
}

// decode fills e's kind and payload from its type and data. Only draws
// keep their data (copied): they are few, and planned later.
func (e *event) decode(typ string, data []byte) {
	var err error
	switch typ {
	case domain.TypeCampaignOpened:
		e.kind = kindIgnored
		return
	case domain.TypeParticipantRegistered:
		e.kind = kindRegistered
		e.reg, err = decodeRegistration(data)
	case domain.TypeStoreVisitRecorded:
		e.kind = kindVisited
		e.visit, err = decodeVisit(data)
	case domain.TypeWinnersDrawn:
		e.kind = kindDrawn
		var ev domain.Event
		if ev, err = domain.DecodeEvent(typ, data); err == nil {
			e.draw = &draw{ev: ev.(domain.WinnersDrawn), rec: eventstore.RecordedEvent{Position: e.position,
				PartitionKey: e.key, Type: typ, SchemaVersion: domain.SchemaVersion,
				Data: append([]byte(nil), data...), RecordedAt: e.recordedAt}}
		}
	default:
		err = fmt.Errorf("%w: %q", domain.ErrUnknownEventType, typ)
	}
	if err != nil {
		e.kind, e.err = kindPoison, err
	}
}

// fold is the read models in memory, as far as a rebuild needs them to
// write them in bulk: every participant's campaign, channel and flags, and
// every campaign's counters. It mirrors models.go statement by statement;
// the rebuild tests check that the tables come out identical.
type fold struct {
	participants, winners, drawLog, analytics bool // the projections rebuilt

	people      map[uuid.UUID]person // no pointers: the GC does not scan it
	campaigns   []*campaignFold
	campaignIdx map[uuid.UUID]int32
	paths       []string
	pathBytes   [][]byte // paths, for the rows
	pathIdx     map[string]int32
	keys        map[string]*keyFold

	// page numbers the pages of events; rows are the current page's new
	// participants, not written yet, whose flags change in place.
	page int32
	rows []participantRow

	// What changed since the last flush.
	flagged   map[uuid.UUID]struct{} // flags of participants written before
	dirty     map[int32]struct{}     // campaigns
	dirtyKeys map[*keyFold]struct{}
	draws     []*draw          // draws for the winners and draw log
	applied   map[string]int64 // events applied, per projection
}

type person struct {
	campaign  int32
	path      int32
	page, idx int32 // where its row is while its page is not written
	visited   bool
	winner    bool
}

type campaignFold struct {
	id uuid.UUID
	// participant_counts: the campaign ('') and each path
	registered, winners int64
	paths               map[int32]*pathCount
	// analytics
	seen               bool
	total, visits, won int64
	updatedAt          time.Time
	channels           map[int32]int64
	hours, dirtyHours  map[int64]int64 // Unix seconds of the hour start; dirtyHours' values unused
}

type pathCount struct{ registered, winners int64 }

// keyFold is a partition key's last position claimed: by participants and
// analytics (registrations, visits, draws) and by winners and the draw log
// (draws).
type keyFold struct {
	key       string
	all, draw int64
}

// participantRow is a participants row; name and phone are masked when
// the row is encoded.
type participantRow struct {
	id, eventID             uuid.UUID
	seq, pathSeq, position  int64
	entryNumber, name, path []byte
	phone                   []byte
	at                      time.Time
	visited, winner         bool
}

func newFold(names []string) *fold {
	f := &fold{
		people: map[uuid.UUID]person{}, campaignIdx: map[uuid.UUID]int32{}, pathIdx: map[string]int32{},
		keys: map[string]*keyFold{}, flagged: map[uuid.UUID]struct{}{}, dirty: map[int32]struct{}{},
		dirtyKeys: map[*keyFold]struct{}{}, applied: map[string]int64{},
	}
	for _, n := range names {
		switch n {
		case ParticipantsProjection:
			f.participants = true
		case WinnersProjection:
			f.winners = true
		case DrawLogProjection:
			f.drawLog = true
		case AnalyticsProjection:
			f.analytics = true
		}
	}
	return f
}

// apply folds one event; events come in position order.
func (f *fold) apply(e *event) {
	switch e.kind {
	case kindRegistered:
		f.claim(e, false)
		if f.participants {
			f.register(e)
		}
		if f.analytics {
			c := f.seen(e.reg.eventID, e.recordedAt)
			c.total++
			c.channels[f.pathOf(e.reg.path)]++
			h := hourStart(registeredAt(e)).Unix()
			c.hours[h]++
			c.dirtyHours[h] = 0
		}
	case kindVisited:
		f.claim(e, false)
		if f.participants {
			if p, ok := f.people[e.visit.participantID]; ok && !p.visited {
				p.visited = true
				f.flag(e.visit.participantID, p)
			}
		}
		if f.analytics {
			f.seen(e.visit.eventID, e.recordedAt).visits++
		}
	case kindDrawn:
		f.claim(e, true)
		if f.participants {
			f.won(e.draw.ev)
		}
		if f.analytics {
			f.seen(e.draw.ev.EventID, e.recordedAt).won += int64(len(e.draw.ev.Winners))
		}
		if f.winners || f.drawLog {
			f.draws = append(f.draws, e.draw)
		}
	}
}

// claim records the event's position for its partition key, as each
// projection's de-duplication record would.
func (f *fold) claim(e *event, draw bool) {
	k := f.keys[e.key]
	if k == nil {
		k = &keyFold{key: e.key}
		f.keys[e.key] = k
	}
	k.all = e.position
	if f.participants {
		f.applied[ParticipantsProjection]++
	}
	if f.analytics {
		f.applied[AnalyticsProjection]++
	}
	if draw {
		k.draw = e.position
		if f.winners {
			f.applied[WinnersProjection]++
		}
		if f.drawLog {
			f.applied[DrawLogProjection]++
		}
	}
	f.dirtyKeys[k] = struct{}{}
}

func registeredAt(e *event) time.Time {
	if e.reg.timestamp.IsZero() { // participatedAt's fallback
		return e.recordedAt
	}
	return e.reg.timestamp
}

// register is sqlRegisterParticipant: a participant already present
// changes nothing; a new one takes the next seq of its campaign and path.
func (f *fold) register(e *event) {
	reg := &e.reg
	if _, ok := f.people[reg.participantID]; ok {
		return
	}
	ci := f.campaignOf(reg.eventID)
	c := f.campaigns[ci]
	pi := f.pathOf(reg.path)
	pc := c.paths[pi]
	if pc == nil {
		pc = &pathCount{}
		c.paths[pi] = pc
	}
	c.registered++
	pc.registered++
	f.dirty[ci] = struct{}{}
	f.people[reg.participantID] = person{campaign: ci, path: pi, page: f.page, idx: int32(len(f.rows))}
	f.rows = append(f.rows, participantRow{
		id: reg.participantID, eventID: reg.eventID, seq: c.registered, pathSeq: pc.registered, position: e.position,
		entryNumber: reg.entryNumber, name: reg.name, phone: reg.phone, path: f.pathBytes[pi], at: registeredAt(e),
	})
}

// won is sqlParticipantsWon: the campaign's participants among the winners
// become winners once, and the counters of their paths count them.
func (f *fold) won(d domain.WinnersDrawn) {
	for _, w := range d.Winners {
		p, ok := f.people[w.ParticipantID]
		if !ok || p.winner || f.campaigns[p.campaign].id != d.EventID {
			continue
		}
		c := f.campaigns[p.campaign]
		c.winners++
		c.paths[p.path].winners++
		f.dirty[p.campaign] = struct{}{}
		p.winner = true
		f.flag(w.ParticipantID, p)
	}
}

// flag stores a participant's new flags: in its row when that is not
// written yet, else as an update for the next flush.
func (f *fold) flag(id uuid.UUID, p person) {
	f.people[id] = p
	if p.page == f.page {
		f.rows[p.idx].visited, f.rows[p.idx].winner = p.visited, p.winner
		return
	}
	f.flagged[id] = struct{}{}
}

// seen is the analytics row of a campaign touched by an event recorded at t.
func (f *fold) seen(id uuid.UUID, t time.Time) *campaignFold {
	ci := f.campaignOf(id)
	c := f.campaigns[ci]
	at := updatedAt(eventstore.RecordedEvent{RecordedAt: t})
	if !c.seen || at.After(c.updatedAt) {
		c.updatedAt = at
	}
	c.seen = true
	f.dirty[ci] = struct{}{}
	return c
}

func (f *fold) campaignOf(id uuid.UUID) int32 {
	if i, ok := f.campaignIdx[id]; ok {
		return i
	}
	i := int32(len(f.campaigns))
	f.campaigns = append(f.campaigns, &campaignFold{id: id, paths: map[int32]*pathCount{},
		channels: map[int32]int64{}, hours: map[int64]int64{}, dirtyHours: map[int64]int64{}})
	f.campaignIdx[id] = i
	return i
}

// pathOf interns a registration's entry path, as entryPathOf names it.
func (f *fold) pathOf(p []byte) int32 {
	if len(p) == 0 {
		p = []byte(domain.EntryPathOther)
	}
	if i, ok := f.pathIdx[string(p)]; ok {
		return i
	}
	i := int32(len(f.paths))
	f.paths = append(f.paths, string(p))
	f.pathBytes = append(f.pathBytes, []byte(string(p)))
	f.pathIdx[string(p)] = i
	return i
}

// nextPage hands over the current page's new participants and starts the
// next page.
func (f *fold) nextPage() []participantRow {
	rows := f.rows
	f.rows = nil
	f.page++
	return rows
}

// ---- writing ----

var participantCopyColumns = []string{"participant_id", "event_id", "seq", "path_seq", "position", "entry_number",
	"name_masked", "phone_masked", "entry_path", "participated_at", "store_visited", "winner"}

// copyParticipants writes rows with one binary COPY, encoded here rather
// than through pgx.CopyFrom's []any per row: a million rows is the bulk of
// a rebuild.
func copyParticipants(ctx context.Context, conn *pgx.Conn, table string, rows []participantRow, buf []byte) ([]byte, error) {
	if len(rows) == 0 {
		return buf, nil
	}
	buf = encodeParticipants(buf[:0], rows)
	sql := "COPY " + table + " (" + strings.Join(participantCopyColumns, ", ") + ") FROM STDIN (FORMAT binary)"
	if _, err := conn.PgConn().CopyFrom(ctx, &byteReader{b: buf}, sql); err != nil {
		return buf, fmt.Errorf("copy participants: %w", err)
	}
	return buf, nil
}

type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// pgEpoch is PostgreSQL's timestamp epoch, in Unix microseconds.
const pgEpoch = 946_684_800 * 1_000_000

// pgMicros is how pgx encodes a timestamptz, so that the rebuilt and the
// live tables hold the same value.
func pgMicros(t time.Time) int64 { return t.Unix()*1_000_000 + int64(t.Nanosecond())/1000 - pgEpoch }

func encodeParticipants(buf []byte, rows []participantRow) []byte {
	buf = append(buf, "PGCOPY\n\xff\r\n\x00"...)
	buf = binary.BigEndian.AppendUint32(buf, 0) // flags
	buf = binary.BigEndian.AppendUint32(buf, 0) // header extension
	field := func(b []byte) {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(b)))
		buf = append(buf, b...)
	}
	i64 := func(v int64) {
		buf = binary.BigEndian.AppendUint32(buf, 8)
		buf = binary.BigEndian.AppendUint64(buf, uint64(v))
	}
	boolean := func(v bool) {
		buf = binary.BigEndian.AppendUint32(buf, 1)
		if v {
			buf = append(buf, 1)
		} else {
			buf = append(buf, 0)
		}
	}
	// masked appends a value whose length is known only once written.
	masked := func(appendTo func([]byte, []byte) []byte, v []byte) {
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		buf = appendTo(buf, v)
		binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	}
	for i := range rows {
		r := &rows[i]
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(participantCopyColumns)))
		field(r.id[:])
		field(r.eventID[:])
		i64(r.seq)
		i64(r.pathSeq)
		i64(r.position)
		field(r.entryNumber)
		masked(appendMaskedName, r.name)
		masked(appendMaskedPhone, r.phone)
		field(r.path)
		i64(pgMicros(r.at))
		boolean(r.visited)
		boolean(r.winner)
	}
	return binary.BigEndian.AppendUint16(buf, 0xffff)
}

// flush writes everything the fold changed since the last flush but the
// new participants (copyParticipants writes those), inside tx.
func (r *rebuild) flushIn(ctx context.Context, tx pgx.Tx) error {
	f := r.fold
	if f.participants && len(f.flagged) > 0 {
		ids := make([]uuid.UUID, 0, len(f.flagged))
		visited := make([]bool, 0, len(f.flagged))
		won := make([]bool, 0, len(f.flagged))
		for id := range f.flagged {
			p := f.people[id]
			ids, visited, won = append(ids, id), append(visited, p.visited), append(won, p.winner)
		}
		if _, err := tx.Exec(ctx, `UPDATE `+r.ident("participants")+` p SET store_visited = u.visited, winner = u.winner
			FROM unnest($1::uuid[], $2::bool[], $3::bool[]) AS u(id, visited, winner) WHERE p.participant_id = u.id`,
			ids, visited, won); err != nil {
			return fmt.Errorf("participants' flags: %w", err)
		}
		clear(f.flagged)
	}
	if err := r.flushCampaigns(ctx, tx); err != nil {
		return err
	}
	if len(f.draws) > 0 {
		// Draws are few: the live models write them, into the shadow tables.
		if _, err := tx.Exec(ctx, "SET LOCAL search_path = "+pgx.Identifier{r.schema}.Sanitize()+", public"); err != nil {
			return err
		}
		var models []readModel
		if f.winners {
			models = append(models, winnersModel{store: eventstore.New(r.pool), publicize: r.opts.Publicize, logger: r.logger})
		}
		if f.drawLog {
			models = append(models, drawLogModel{})
		}
		for _, d := range f.draws {
			for _, m := range models {
				w, err := m.plan(ctx, d.rec, d.ev)
				if err != nil {
					return fmt.Errorf("draw at %d: %w", d.rec.Position, err)
				}
				if err := w(ctx, tx); err != nil {
					return fmt.Errorf("draw at %d: %w", d.rec.Position, err)
				}
			}
		}
		if _, err := tx.Exec(ctx, "SET LOCAL search_path TO DEFAULT"); err != nil {
			return err
		}
		f.draws = nil
	}
	return r.flushPositions(ctx, tx)
}

func (r *rebuild) flushCampaigns(ctx context.Context, tx pgx.Tx) error {
	f := r.fold
	if len(f.dirty) == 0 {
		return nil
	}
	var (
		counts = struct {
			ids                 []uuid.UUID
			paths               []string
			registered, winners []int64
		}{}
		totals = struct {
			ids                []uuid.UUID
			total, visits, won []int64
			at                 []time.Time
		}{}
		channels = struct {
			ids   []uuid.UUID
			paths []string
			n     []int64
		}{}
		hours = struct {
			ids   []uuid.UUID
			hours []time.Time
			n     []int64
		}{}
	)
	for ci := range f.dirty {
		c := f.campaigns[ci]
		if f.participants && c.registered > 0 {
			counts.ids, counts.paths = append(counts.ids, c.id), append(counts.paths, "")
			counts.registered, counts.winners = append(counts.registered, c.registered), append(counts.winners, c.winners)
			for pi, pc := range c.paths {
				counts.ids, counts.paths = append(counts.ids, c.id), append(counts.paths, f.paths[pi])
				counts.registered, counts.winners = append(counts.registered, pc.registered), append(counts.winners, pc.winners)
			}
		}
		if f.analytics && c.seen {
			totals.ids, totals.total, totals.visits = append(totals.ids, c.id), append(totals.total, c.total), append(totals.visits, c.visits)
			totals.won, totals.at = append(totals.won, c.won), append(totals.at, c.updatedAt)
			for pi, n := range c.channels {
				channels.ids, channels.paths, channels.n = append(channels.ids, c.id), append(channels.paths, f.paths[pi]), append(channels.n, n)
			}
			for h := range c.dirtyHours {
				hours.ids, hours.hours, hours.n = append(hours.ids, c.id), append(hours.hours, time.Unix(h, 0)), append(hours.n, c.hours[h])
			}
			clear(c.dirtyHours)
		}
	}
	clear(f.dirty)
	type stmt struct {
		sql  string
		args []any
	}
	var stmts []stmt
	if len(counts.ids) > 0 {
		stmts = append(stmts, stmt{`INSERT INTO ` + r.ident("participant_counts") + ` AS c (event_id, entry_path, registered, winners)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[])
			ON CONFLICT (event_id, entry_path) DO UPDATE SET registered = EXCLUDED.registered, winners = EXCLUDED.winners`,
			[]any{counts.ids, counts.paths, counts.registered, counts.winners}})
	}
	if len(totals.ids) > 0 {
		stmts = append(stmts, stmt{`INSERT INTO ` + r.ident("analytics") + ` AS a (event_id, total_participants, store_visits, winners, updated_at)
			SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::timestamptz[])
			ON CONFLICT (event_id) DO UPDATE SET total_participants = EXCLUDED.total_participants,
				store_visits = EXCLUDED.store_visits, winners = EXCLUDED.winners, updated_at = EXCLUDED.updated_at`,
			[]any{totals.ids, totals.total, totals.visits, totals.won, totals.at}})
	}
	if len(channels.ids) > 0 {
		stmts = append(stmts, stmt{`INSERT INTO ` + r.ident("analytics_channels") + ` AS c (event_id, entry_path, participants)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[])
			ON CONFLICT (event_id, entry_path) DO UPDATE SET participants = EXCLUDED.participants`,
			[]any{channels.ids, channels.paths, channels.n}})
	}
	if len(hours.ids) > 0 {
		stmts = append(stmts, stmt{`INSERT INTO ` + r.ident("analytics_hours") + ` AS h (event_id, hour, participants)
			SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::bigint[])
			ON CONFLICT (event_id, hour) DO UPDATE SET participants = EXCLUDED.participants`,
			[]any{hours.ids, hours.hours, hours.n}})
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("campaign figures: %w", err)
		}
	}
	return nil
}

func (r *rebuild) flushPositions(ctx context.Context, tx pgx.Tx) error {
	f := r.fold
	var (
		names, keys []string
		positions   []int64
	)
	for k := range f.dirtyKeys {
		for _, name := range r.names {
			pos := k.all
			if name == WinnersProjection || name == DrawLogProjection {
				pos = k.draw
			}
			if pos > 0 {
				names, keys, positions = append(names, name), append(keys, k.key), append(positions, pos)
			}
		}
	}
	clear(f.dirtyKeys)
	if len(names) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO `+r.ident("projection_positions")+` AS p (projection, partition_key, position, updated_at)
		SELECT n, k, pos, now() FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(n, k, pos)
		ON CONFLICT (projection, partition_key) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
		names, keys, positions)
	if err != nil {
		return fmt.Errorf("positions: %w", err)
	}
	return nil
}

// logPoison logs an event no projection can apply, as the router does.
func (r *rebuild) logPoison(ctx context.Context, e *event) {
	r.poison++
	r.logger.Log(ctx, slog.LevelWarn, "projections rebuild: event skipped", "position", e.position,
		"partition_key", e.key, "error", e.err)
}
