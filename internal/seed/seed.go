// Package seed makes synthetic but realistic participation data — Korean
// names, mobile numbers, channels and times — written as real events
// through the event store's batch append, for demos and benchmarks.
package seed

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/privacy"
)

// Config says how much to make.
type Config struct {
	Campaigns    int
	Participants int     // per campaign
	VisitRatio   float64 // share of participants who visited the store
	OwnerID      string
	PIIKey       []byte
	BatchSize    int        // participants per transaction (default 1000)
	Rand         *rand.Rand // default: seeded from the clock
	Now          time.Time  // campaigns run around it
	// Announced: the campaigns end and are announced at Now instead of two
	// weeks later, so a draw's certificate and leaves are public at once
	// (the bench streams them).
	Announced bool
}

// Validate reports what is wrong.
func (c Config) Validate() error {
	switch {
	case c.Campaigns < 1:
		return fmt.Errorf("campaigns: at least 1")
	case c.Participants < 0 || c.Participants > 90_000_000:
		return fmt.Errorf("participants: 0 to 90,000,000 per campaign (distinct phone numbers)")
	case c.VisitRatio < 0 || c.VisitRatio > 1:
		return fmt.Errorf("visit ratio: 0 to 1")
	case c.OwnerID == "":
		return fmt.Errorf("owner: required")
	case len(c.PIIKey) == 0:
		return fmt.Errorf("PII key: required")
	}
	return nil
}

// Progress is called after every batch with the participants written so far.
type Progress func(written int)

// Run writes the campaigns and their participants and returns the campaign ids.
func Run(ctx context.Context, store *eventstore.Store, cfg Config, progress Progress) ([]uuid.UUID, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed))
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	if progress == nil {
		progress = func(int) {}
	}
	keys, err := privacy.NewKeys(cfg.PIIKey)
	if err != nil {
		return nil, err
	}
	var ids []uuid.UUID
	written := 0
	for c := range cfg.Campaigns {
		campaign, idKey, err := openCampaign(ctx, store, keys, cfg, c)
		if err != nil {
			return ids, err
		}
		ids = append(ids, campaign.ID)
		gen := newGenerator(cfg, campaign, keys, idKey)
		for start := 0; start < cfg.Participants; start += cfg.BatchSize {
			n := min(cfg.BatchSize, cfg.Participants-start)
			reqs, err := gen.batch(start, n)
			if err != nil {
				return ids, err
			}
			_, errs, err := store.AppendBatch(ctx, reqs)
			if err != nil {
				return ids, fmt.Errorf("seed batch: %w", err)
			}
			for i, e := range errs {
				if e != nil {
					return ids, fmt.Errorf("seed participant %d: %w", start+i, e)
				}
			}
			written += n
			progress(written)
		}
	}
	return ids, nil
}

// openCampaign opens a campaign as the service does, with its own
// participant-id key, and returns the campaign and that key.
func openCampaign(ctx context.Context, store *eventstore.Store, keys *privacy.Keys, cfg Config, n int) (domain.Campaign, []byte, error) {
	startsAt := cfg.Now.Add(-14 * 24 * time.Hour).Truncate(time.Hour)
	endsAt, announceAt := startsAt.Add(28*24*time.Hour), startsAt.Add(29*24*time.Hour)
	if cfg.Announced {
		endsAt, announceAt = cfg.Now, cfg.Now
	}
	opened, err := domain.OpenCampaign(uuid.New(), cfg.OwnerID, fmt.Sprintf("%s %d", titles[n%len(titles)], n+1),
		startsAt, endsAt, announceAt)
	if err != nil {
		return domain.Campaign{}, nil, err
	}
	data, err := json.Marshal(opened)
	if err != nil {
		return domain.Campaign{}, nil, err
	}
	idKey, wrapped, err := keys.NewCampaignKey(crand.Reader, opened.EventID)
	if err != nil {
		return domain.Campaign{}, nil, err
	}
	if _, err := store.AppendWith(ctx, eventstore.AppendRequest{
		Stream: opened.StreamID(), Expected: eventstore.NoStream,
		Events: []eventstore.EventData{{
			PartitionKey: opened.EventID.String(), Type: opened.EventType(), SchemaVersion: domain.SchemaVersion, Data: data,
			Metadata: eventstore.Metadata{Actor: "seed"},
		}},
		CampaignKey: &eventstore.CampaignKey{Campaign: opened.EventID, Wrapped: wrapped},
	}); err != nil {
		return domain.Campaign{}, nil, fmt.Errorf("open campaign: %w", err)
	}
	return domain.CampaignFromOpened(opened), idKey, nil
}

// generator makes one campaign's participants. Phone numbers are a
// permutation of the 10^8 numbers, so they never repeat in a campaign.
type generator struct {
	cfg       Config
	keys      *privacy.Keys
	idKey     []byte // the campaign's participant-id key
	campaign  domain.Campaign
	phoneMul  uint64
	phoneAdd  uint64
	entryUsed map[string]bool
	span      time.Duration
}

func newGenerator(cfg Config, c domain.Campaign, keys *privacy.Keys, idKey []byte) *generator {
	// n ↦ (a·n + b) mod 10^8 is a bijection when a is coprime with 10^8.
	a := uint64(cfg.Rand.IntN(1_000_000))*10 + 3 // ends in 3: coprime with 2 and 5
	return &generator{cfg: cfg, keys: keys, idKey: idKey, campaign: c, phoneMul: a, phoneAdd: cfg.Rand.Uint64N(100_000_000),
		entryUsed: map[string]bool{}, span: cfg.Now.Sub(c.StartsAt)}
}

func (g *generator) batch(start, n int) ([]eventstore.AppendRequest, error) {
	reqs := make([]eventstore.AppendRequest, 0, n)
	eventID := g.campaign.ID
	for i := start; i < start+n; i++ {
		at := g.campaign.StartsAt.Add(time.Duration(float64(g.span) * float64(i) / float64(max(g.cfg.Participants, 1))))
		phoneN := (g.phoneMul*uint64(i) + g.phoneAdd) % 100_000_000
		in := domain.RegistrationInput{
			Name:           g.name(),
			Phone:          fmt.Sprintf("010-%04d-%04d", phoneN/10_000, phoneN%10_000),
			EntryPath:      string(g.channel()),
			PrivacyConsent: true,
		}
		entry, err := g.entryNumber()
		if err != nil {
			return nil, err
		}
		registered, err := g.campaign.Register(in, at, g.idKey, entry)
		if err != nil {
			return nil, fmt.Errorf("participant %d: %w", i, err)
		}
		// Sealed like a real registration, its data key beside it.
		sealed, wrapped, err := g.keys.Seal(crand.Reader, registered.ParticipantID, registered.Personal())
		if err != nil {
			return nil, fmt.Errorf("participant %d: %w", i, err)
		}
		registered = registered.Sealed(sealed)
		events := []domain.Event{registered}
		if g.cfg.Rand.Float64() < g.cfg.VisitRatio {
			events = append(events, domain.StoreVisitRecorded{ParticipantID: registered.ParticipantID, EventID: eventID,
				VisitedAt: at.Add(time.Duration(g.cfg.Rand.IntN(72)) * time.Hour).UTC()})
		}
		data := make([]eventstore.EventData, len(events))
		for j, e := range events {
			raw, err := json.Marshal(e)
			if err != nil {
				return nil, err
			}
			data[j] = eventstore.EventData{ID: uuid.New(), PartitionKey: eventID.String(), Type: e.EventType(),
				SchemaVersion: domain.SchemaVersionOf(e.EventType()), Data: raw, Metadata: eventstore.Metadata{Actor: "seed"}}
		}
		reqs = append(reqs, eventstore.AppendRequest{
			Stream: registered.StreamID(), Expected: eventstore.NoStream, Events: data,
			Entry:      &eventstore.EntryClaim{Campaign: eventID, Number: entry},
			SubjectKey: &eventstore.SubjectKey{Subject: registered.ParticipantID, Wrapped: wrapped},
		})
	}
	return reqs, nil
}

func (g *generator) entryNumber() (string, error) {
	for {
		e, err := domain.NewEntryNumber(randReader{g.cfg.Rand})
		if err != nil {
			return "", err
		}
		if !g.entryUsed[e] {
			g.entryUsed[e] = true
			return e, nil
		}
	}
}

func (g *generator) name() string {
	r := g.cfg.Rand
	name := surnames[r.IntN(len(surnames))] + givenSyllables[r.IntN(len(givenSyllables))]
	if r.IntN(10) > 0 { // most Korean names have two given syllables
		name += givenSyllables[r.IntN(len(givenSyllables))]
	}
	return name
}

// channel follows a plausible mix: local TV and Instagram lead.
func (g *generator) channel() domain.EntryPath {
	x := g.cfg.Rand.IntN(100)
	for _, c := range channelMix {
		if x < c.upTo {
			return c.path
		}
	}
	return domain.EntryPath("OTHER")
}

var channelMix = []struct {
	path domain.EntryPath
	upTo int
}{
	{"WOORIDONGNE_TV", 30}, {"INSTAGRAM", 55}, {"KAKAO", 68}, {"NAVER_BLOG", 78},
	{"RINGO_BIZ", 86}, {"STORE_QR", 94}, {"SNS_OTHER", 98}, {"OTHER", 100},
}

var (
	surnames       = []string{"김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권", "황", "안", "송", "류", "홍"}
	givenSyllables = []string{"민", "서", "지", "현", "준", "우", "하", "윤", "도", "예", "수", "은", "연", "진", "영", "호", "성", "재", "유", "아", "희", "태", "경", "미"}
	titles         = []string{"오픈 기념 이벤트", "가을 맞이 경품 추첨", "단골 감사 이벤트", "신메뉴 출시 이벤트"}
)

// randReader adapts math/rand for NewEntryNumber: seed data need not be
// unpredictable, only well spread (and reproducible with a fixed seed).
type randReader struct{ r *rand.Rand }

func (rr randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(rr.r.Uint32())
	}
	return len(p), nil
}
