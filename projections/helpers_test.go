package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/projections"
)

// env is a database of the test's own with the event store and the read
// models migrated.
type env struct {
	pool  *pgxpool.Pool
	store *eventstore.Store
}

func newEnv(t testing.TB) env {
	t.Helper()
	ctx := context.Background()
	pool := testenv.Pool(t, 20)
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := projections.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	return env{pool: pool, store: eventstore.New(pool)}
}

// append stores a domain event in its stream with the campaign as partition key.
func (e env) append(t *testing.T, campaign uuid.UUID, ev domain.Event) {
	t.Helper()
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.store.Append(context.Background(), ev.StreamID(), eventstore.Any, eventstore.EventData{
		PartitionKey:  campaign.String(),
		Type:          ev.EventType(),
		SchemaVersion: domain.SchemaVersion,
		Data:          data,
		Metadata:      eventstore.Metadata{CorrelationID: "test-" + uuid.NewString(), Actor: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// campaignData is what a test wrote for one campaign, to check read models against.
type campaignData struct {
	id      uuid.UUID
	regs    []domain.ParticipantRegistered // in registration order
	visited map[uuid.UUID]bool
	draw    *domain.WinnersDrawn
}

var koreanNames = []string{"김철수", "이영희", "박민준", "최서연", "정우진", "강하은", "조현우", "윤지아"}

// seedCampaign opens a campaign and registers n participants, channel by
// round robin, 7 minutes apart from start, and marks every visitEvery-th as
// visited (0: none).
func (e env) seedCampaign(t *testing.T, n int, start time.Time, visitEvery int) *campaignData {
	t.Helper()
	c := &campaignData{id: uuid.New(), visited: map[uuid.UUID]bool{}}
	e.append(t, c.id, domain.CampaignOpened{EventID: c.id, OwnerID: "owner-1", Title: "봄맞이 이벤트",
		StartsAt: start.Add(-time.Hour), EndsAt: start.Add(1000 * time.Hour), AnnounceAt: start.Add(1000 * time.Hour)})
	e.register(t, c, n, start)
	for i, r := range c.regs {
		if visitEvery > 0 && i%visitEvery == 0 {
			e.visit(t, c, r)
		}
	}
	return c
}

func (e env) register(t *testing.T, c *campaignData, n int, start time.Time) {
	t.Helper()
	for range n {
		i := len(c.regs)
		name := koreanNames[i%len(koreanNames)]
		if i%5 == 4 {
			name = fmt.Sprintf("John Smith%c", 'a'+rune(i%26)) // with a space, that the mask hides
		}
		phone := fmt.Sprintf("010-%04d-%04d", 2000+i, 7000+i)
		r := domain.ParticipantRegistered{
			ParticipantID:  domain.ParticipantID([]byte("test-pii-key"), c.id, phone),
			EventID:        c.id,
			EntryNumber:    fmt.Sprintf("T%03d-%04d", i%1000, i),
			Name:           name,
			Phone:          phone,
			EntryPath:      domain.EntryPaths[i%len(domain.EntryPaths)],
			PrivacyConsent: true,
			Timestamp:      start.Add(time.Duration(i) * 7 * time.Minute),
		}
		e.append(t, c.id, r)
		c.regs = append(c.regs, r)
	}
}

func (e env) visit(t *testing.T, c *campaignData, r domain.ParticipantRegistered) {
	t.Helper()
	e.append(t, c.id, domain.StoreVisitRecorded{ParticipantID: r.ParticipantID, EventID: c.id, VisitedAt: r.Timestamp.Add(time.Hour)})
	c.visited[r.ParticipantID] = true
}

// drawWinners records a draw won by the participants at the given indexes, in rank order.
func (e env) drawWinners(t *testing.T, c *campaignData, indexes ...int) {
	t.Helper()
	d := domain.WinnersDrawn{
		DrawID: uuid.New(), EventID: c.id, WinnerCount: len(indexes), VisitBonus: true, VisitBonusWeight: 2,
		Algorithm: domain.DrawAlgorithmWeighted, Seed: strings.Repeat("ab", 32), CandidateCount: len(c.regs),
		CandidatesDigest: strings.Repeat("cd", 32), CutoffPosition: 123456,
		DrawnAt: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC), DrawnBy: "owner-1",
	}
	for rank, i := range indexes {
		d.Winners = append(d.Winners, domain.Winner{ParticipantID: c.regs[i].ParticipantID,
			EntryNumber: c.regs[i].EntryNumber, Rank: rank + 1})
	}
	e.append(t, c.id, d)
	c.draw = &d
}

// drawV2 records a v2 draw: its commit and, unless pending, its result won
// by the participants at winners and alternates, in rank order.
func (e env) drawV2(t *testing.T, c *campaignData, pending bool, winners, alternates []int) (domain.DrawCommitted, *domain.WinnersDrawn) {
	t.Helper()
	commit := domain.DrawCommitted{DrawID: uuid.New(), EventID: c.id, Algorithm: domain.DrawAlgorithmMerkleV2,
		WinnerCount: len(winners), AlternateCount: len(alternates), VisitBonusWeight: 1, CutoffPosition: 4321,
		CandidateCount: len(c.regs), CandidatesRoot: strings.Repeat("9f", 32),
		Randomness:  domain.DrawRandomness{Source: domain.RandomnessDrand, ChainHash: strings.Repeat("52", 32), Round: 777},
		CommittedAt: time.Date(2025, 3, 10, 8, 59, 0, 0, time.UTC), CommittedBy: "owner-1"}
	e.append(t, c.id, commit)
	if pending {
		return commit, nil
	}
	picks := func(idx []int) []domain.Winner {
		var out []domain.Winner
		for rank, i := range idx {
			out = append(out, domain.Winner{ParticipantID: c.regs[i].ParticipantID, EntryNumber: c.regs[i].EntryNumber, Rank: rank + 1})
		}
		return out
	}
	d := domain.WinnersDrawn{DrawID: commit.DrawID, EventID: c.id, WinnerCount: len(winners), VisitBonusWeight: 1,
		Algorithm: commit.Algorithm, Seed: strings.Repeat("ab", 32), Beacon: &domain.DrawBeacon{Round: 777, Signature: "aa", Randomness: "bb"},
		CandidateCount: len(c.regs), CutoffPosition: 4321, Winners: picks(winners), Alternates: picks(alternates),
		DrawnAt: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC), DrawnBy: "owner-1"}
	e.append(t, c.id, d)
	c.draw = &d
	return commit, &d
}

func (e env) allEvents(t *testing.T) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	for after := int64(0); ; {
		page, err := e.store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		last := page[len(page)-1].Position
		// What the relay publishes of them: personal data masked.
		if page, err = testPublicize(t, e.pool)(context.Background(), page); err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		after = last
	}
}

// applyAll applies events to every projector, in the order given, and
// flushes the checkpoints.
func applyAll(t *testing.T, projectors []*projections.Projector, events []eventstore.RecordedEvent) {
	t.Helper()
	ctx := context.Background()
	for _, p := range projectors {
		for _, ev := range events {
			if err := p.Apply(ctx, ev); err != nil {
				t.Fatalf("%s: apply %s at %d: %v", p.Name(), ev.Type, ev.Position, err)
			}
		}
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// readModelTables are every table the projections own, with the columns
// that must not differ between two equal read models.
var readModelTables = map[string]string{
	"participants":         "*",
	"participant_counts":   "*",
	"winners":              "*",
	"draw_log":             "*",
	"analytics":            "*",
	"analytics_channels":   "*",
	"analytics_hours":      "*",
	"campaigns":            "*",
	"projection_positions": "projection, partition_key, position",
}

// snapshot dumps every read model table as sorted JSON rows.
func snapshot(t *testing.T, pool *pgxpool.Pool) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for table, cols := range readModelTables {
		rows, err := pool.Query(context.Background(),
			fmt.Sprintf(`SELECT to_jsonb(t)::text FROM (SELECT %s FROM %s) t ORDER BY 1`, cols, table))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
