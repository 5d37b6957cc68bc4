package projections

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// entryPathOf keeps a registration without an entry path countable: ""
// stands for the whole campaign in participant_counts.
func entryPathOf(p domain.EntryPath) string {
	if p == "" {
		return string(domain.EntryPathOther)
	}
	return string(p)
}

// participatedAt falls back to the recording time for an event without one.
func participatedAt(ev domain.ParticipantRegistered, e Event) time.Time {
	if ev.Timestamp.IsZero() {
		return e.RecordedAt
	}
	return ev.Timestamp
}

// participants is the participants read model: a row per participant,
// numbered densely per campaign (seq) and per entry path (path_seq), and
// the counters of participant_counts.
type participants struct {
	complete bool
	people   map[uuid.UUID]person // no pointers: the GC does not scan a million of them
	counts   map[uuid.UUID]*campaignCounts
	rows     []participantRow // new, not written yet: their flags change in place
	// written counts the rows flushed before rows[0]: a person's row is
	// an ordinal over every row, so that a flush moves rows out by moving
	// this, not by rewriting a million persons in the map.
	written int32
	flagged map[uuid.UUID]struct{}
	dirty   map[uuid.UUID]struct{} // campaigns whose counters changed
	paths   pathNames
}

// pathNames interns entry paths, so that a person holds a number, not a
// string: a map of a million persons without pointers is not scanned by
// the GC.
type pathNames struct {
	names []string
	ids   map[string]uint16
}

func (p *pathNames) id(name string) uint16 {
	if id, ok := p.ids[name]; ok {
		return id
	}
	if p.ids == nil {
		p.ids = map[string]uint16{}
	}
	id := uint16(len(p.names))
	p.names = append(p.names, name)
	p.ids[name] = id
	return id
}

type person struct {
	campaign uuid.UUID
	path     uint16 // in participants.paths
	row      int32  // ordinal of its row: in rows while >= written; -1 loaded (written)
	visited  bool
	winner   bool
	erased   bool
}

type campaignCounts struct {
	registered, winners int64
	paths               map[string]*pathCount
}

type pathCount struct{ registered, winners int64 }

type participantRow struct {
	id, eventID              uuid.UUID
	seq, pathSeq, position   int64
	entryNumber, name, phone string
	path                     string
	at                       time.Time
	visited, winner, erased  bool
}

func newParticipants(complete bool) *participants {
	return &participants{complete: complete, people: map[uuid.UUID]person{}, counts: map[uuid.UUID]*campaignCounts{},
		flagged: map[uuid.UUID]struct{}{}, dirty: map[uuid.UUID]struct{}{}}
}

func (*participants) name() string { return ParticipantsProjection }

func (*participants) handles(t string) bool {
	return t == domain.TypeParticipantRegistered || t == domain.TypeStoreVisitRecorded || t == domain.TypeWinnersDrawn ||
		t == domain.TypeParticipantErased || t == domain.TypeWinnerReplaced
}

// won flags a participant of the campaign as a winner, once, and counts it.
func (m *participants) won(eventID, id uuid.UUID) {
	p, ok := m.people[id]
	if !ok || p.winner || p.campaign != eventID {
		return
	}
	c := m.campaign(p.campaign)
	c.winners++
	if pc := c.paths[m.paths.names[p.path]]; pc != nil {
		pc.winners++
	}
	m.dirty[p.campaign] = struct{}{}
	p.winner = true
	m.flag(id, p)
}

func (m *participants) load(ctx context.Context, db querier, batch []Event) error {
	if m.complete {
		return nil
	}
	var ids, campaigns []uuid.UUID
	for _, e := range batch {
		switch ev := e.Data.(type) {
		case domain.ParticipantRegistered:
			// looked up too: a participant already present changes nothing
			ids, campaigns = append(ids, ev.ParticipantID), append(campaigns, ev.EventID)
		case domain.StoreVisitRecorded:
			ids = append(ids, ev.ParticipantID)
		case domain.ParticipantErased:
			ids = append(ids, ev.ParticipantID)
		case domain.WinnersDrawn:
			ids, campaigns = append(ids, winnerIDs(ev.Winners)...), append(campaigns, ev.EventID)
		case domain.WinnerReplaced:
			ids, campaigns = append(ids, ev.By.ParticipantID), append(campaigns, ev.EventID)
		}
	}
	// one round trip for both reads
	b := &pgx.Batch{}
	if len(ids) > 0 {
		b.Queue(`SELECT participant_id, event_id, entry_path, store_visited, winner, erased
			FROM participants WHERE participant_id = ANY($1)`, eventstore.UUIDArray(ids))
	}
	b.Queue(`SELECT event_id, entry_path, registered, winners FROM participant_counts WHERE event_id = ANY($1)`, eventstore.UUIDArray(campaigns))
	br := db.SendBatch(ctx, b)
	defer br.Close()
	if len(ids) > 0 {
		if err := m.scanPeople(br); err != nil {
			return err
		}
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id                  uuid.UUID
			path                string
			registered, winners int64
		)
		if err := rows.Scan(&id, &path, &registered, &winners); err != nil {
			return err
		}
		c := m.campaign(id)
		if path == "" {
			c.registered, c.winners = registered, winners
		} else {
			c.paths[path] = &pathCount{registered: registered, winners: winners}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return br.Close()
}

// scanPeople reads the participants the batch's first query found.
func (m *participants) scanPeople(br pgx.BatchResults) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   uuid.UUID
			p    person
			path string
		)
		if err := rows.Scan(&id, &p.campaign, &path, &p.visited, &p.winner, &p.erased); err != nil {
			return err
		}
		p.row, p.path = -1, m.paths.id(path)
		m.people[id] = p
	}
	return rows.Err()
}

func (m *participants) campaign(id uuid.UUID) *campaignCounts {
	c := m.counts[id]
	if c == nil {
		c = &campaignCounts{paths: map[string]*pathCount{}}
		m.counts[id] = c
	}
	return c
}

func (m *participants) fold(e Event) error {
	switch ev := e.Data.(type) {
	case domain.ParticipantRegistered:
		m.register(ev, e)
	case domain.StoreVisitRecorded:
		if p, ok := m.people[ev.ParticipantID]; ok && !p.visited {
			p.visited = true
			m.flag(ev.ParticipantID, p)
		}
	case domain.ParticipantErased:
		// Still counted and listed, flagged, without name or phone.
		if p, ok := m.people[ev.ParticipantID]; ok && !p.erased {
			p.erased = true
			m.flag(ev.ParticipantID, p)
		}
	case domain.WinnersDrawn:
		for _, w := range ev.Winners {
			m.won(ev.EventID, w.ParticipantID)
		}
	case domain.WinnerReplaced:
		// The promoted alternate is a winner from now on; the replaced one
		// stays flagged (drawn a winner: the winners list says replaced).
		m.won(ev.EventID, ev.By.ParticipantID)
	default:
		return fmt.Errorf("unexpected %T", ev)
	}
	return nil
}

// register: a participant already present changes nothing; a new one
// takes the next seq of its campaign and of its path.
func (m *participants) register(ev domain.ParticipantRegistered, e Event) {
	if _, ok := m.people[ev.ParticipantID]; ok {
		return
	}
	path := entryPathOf(ev.EntryPath)
	c := m.campaign(ev.EventID)
	pc := c.paths[path]
	if pc == nil {
		pc = &pathCount{}
		c.paths[path] = pc
	}
	c.registered++
	pc.registered++
	m.dirty[ev.EventID] = struct{}{}
	m.people[ev.ParticipantID] = person{campaign: ev.EventID, path: m.paths.id(path), row: m.written + int32(len(m.rows))}
	// The public form carries the name and phone masked (privacy masks
	// them on publishing): the read model keeps them as they come.
	m.rows = append(m.rows, participantRow{id: ev.ParticipantID, eventID: ev.EventID, seq: c.registered,
		pathSeq: pc.registered, position: e.Position, entryNumber: ev.EntryNumber, name: ev.Name, phone: ev.Phone,
		path: path, at: participatedAt(ev, e)})
}

// flag stores a participant's new flags: in its row while that is not
// written, else as an update for the next final flush.
func (m *participants) flag(id uuid.UUID, p person) {
	m.people[id] = p
	if p.row >= m.written {
		r := &m.rows[p.row-m.written]
		r.visited, r.winner, r.erased = p.visited, p.winner, p.erased
		if p.erased {
			r.name, r.phone = "", ""
		}
		return
	}
	m.flagged[id] = struct{}{}
}

var participantCopyColumns = []string{"participant_id", "event_id", "seq", "path_seq", "position", "entry_number",
	"name_masked", "phone_masked", "entry_path", "participated_at", "store_visited", "winner", "erased"}

func (m *participants) flush(ctx context.Context, w *writer, final bool) error {
	if len(m.rows) > 0 {
		sql := "COPY " + w.table("participants") + " (" + strings.Join(participantCopyColumns, ", ") + ") FROM STDIN (FORMAT binary)"
		// about 160 bytes a row: no growing while encoding
		buf := make([]byte, 0, 192*len(m.rows))
		if err := w.copyFrom(ctx, sql, encodeParticipants(buf, m.rows)); err != nil {
			return fmt.Errorf("participants: %w", err)
		}
		m.written += int32(len(m.rows))
		m.rows = m.rows[:0]
	}
	if !final {
		return nil
	}
	if len(m.flagged) > 0 {
		ids := make([]uuid.UUID, 0, len(m.flagged))
		visited := make([]bool, 0, len(m.flagged))
		won := make([]bool, 0, len(m.flagged))
		erased := make([]bool, 0, len(m.flagged))
		for id := range m.flagged {
			p := m.people[id]
			ids, visited, won, erased = append(ids, id), append(visited, p.visited), append(won, p.winner), append(erased, p.erased)
		}
		if err := w.exec(ctx, `UPDATE `+w.table("participants")+` p SET store_visited = u.visited, winner = u.winner,
				erased = u.erased,
				name_masked = CASE WHEN u.erased THEN '' ELSE p.name_masked END,
				phone_masked = CASE WHEN u.erased THEN '' ELSE p.phone_masked END
			FROM unnest($1::uuid[], $2::bool[], $3::bool[], $4::bool[]) AS u(id, visited, winner, erased) WHERE p.participant_id = u.id`,
			eventstore.UUIDArray(ids), visited, won, erased); err != nil {
			return fmt.Errorf("participants' flags: %w", err)
		}
		clear(m.flagged)
	}
	if len(m.dirty) > 0 {
		var (
			ids                 []uuid.UUID
			paths               []string
			registered, winners []int64
		)
		for id := range m.dirty {
			c := m.counts[id]
			ids, paths, registered, winners = append(ids, id), append(paths, ""), append(registered, c.registered), append(winners, c.winners)
			for path, pc := range c.paths {
				ids, paths = append(ids, id), append(paths, path)
				registered, winners = append(registered, pc.registered), append(winners, pc.winners)
			}
		}
		if err := w.exec(ctx, `INSERT INTO `+w.table("participant_counts")+` AS c (event_id, entry_path, registered, winners)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[])
			ON CONFLICT (event_id, entry_path) DO UPDATE SET registered = EXCLUDED.registered, winners = EXCLUDED.winners`,
			eventstore.UUIDArray(ids), paths, registered, winners); err != nil {
			return fmt.Errorf("participant counts: %w", err)
		}
		clear(m.dirty)
	}
	return nil
}

func winnerIDs(ws []domain.Winner) []uuid.UUID {
	ids := make([]uuid.UUID, len(ws))
	for i, w := range ws {
		ids[i] = w.ParticipantID
	}
	return ids
}

// pgEpoch is PostgreSQL's timestamp epoch, in Unix microseconds.
const pgEpoch = 946_684_800 * 1_000_000

// pgMicros is how pgx encodes a timestamptz, so that the rebuilt and the
// live tables hold the same value.
func pgMicros(t time.Time) int64 { return t.Unix()*1_000_000 + int64(t.Nanosecond())/1000 - pgEpoch }

// encodeParticipants is rows as one binary COPY, encoded here rather than
// through pgx.CopyFrom's []any per row: a million rows is the bulk of a
// rebuild.
func encodeParticipants(buf []byte, rows []participantRow) []byte {
	buf = append(buf, "PGCOPY\n\xff\r\n\x00"...)
	buf = binary.BigEndian.AppendUint32(buf, 0) // flags
	buf = binary.BigEndian.AppendUint32(buf, 0) // header extension
	field := func(b []byte) {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(b)))
		buf = append(buf, b...)
	}
	text := func(s string) {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
		buf = append(buf, s...)
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
	for i := range rows {
		r := &rows[i]
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(participantCopyColumns)))
		field(r.id[:])
		field(r.eventID[:])
		i64(r.seq)
		i64(r.pathSeq)
		i64(r.position)
		text(r.entryNumber)
		text(r.name)
		text(r.phone)
		text(r.path)
		i64(pgMicros(r.at))
		boolean(r.visited)
		boolean(r.winner)
		boolean(r.erased)
	}
	return binary.BigEndian.AppendUint16(buf, 0xffff)
}
