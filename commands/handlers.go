package commands

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/notify"
	"github.com/shopevents/participation/privacy"
)

// core is what the handlers share over one event store: its dependencies,
// and the caches that must be one per process (a campaign read once, the
// open campaigns' keys), so each handler type holds the same *core.
type core struct {
	store  *eventstore.Store
	clock  func() time.Time
	random io.Reader
	keys   *privacy.Keys
	// lockout counts wrong phones of the self-service commands (selfService).
	lockout *eventstore.Lockout
	// beacon, when set, completes and verifies drand draws; with
	// drandDraws (DRAW_RANDOMNESS=drand) new draws commit to a round.
	beacon     *beacon.Client
	drandDraws bool
	// refused is told of a drand round that failed verification.
	refused func(domain.DrawCommitted, error)
	// chainInfo gives the certificate a drand chain's info (nil: left out).
	chainInfo ChainInfoSource
	// appendRegistration writes registrations: through a group-committing
	// Batcher when one is configured, else one transaction each.
	appendRegistration func(context.Context, eventstore.AppendRequest) (eventstore.AppendResult, error)
	// verification is phone verification (PHONE_VERIFICATION=otp).
	verification verification

	// CampaignOpened never changes, so a campaign read once is kept. Whether
	// it was drawn is not cached as open: the store checks that under a fence.
	campaigns sync.Map // uuid.UUID → domain.Campaign
	// campaignKeys holds unwrapped per-campaign participant-id keys, only
	// while their campaign takes registrations (participantKey).
	campaignKeys sync.Map // uuid.UUID → []byte
}

// Config holds what the handlers need besides the store.
type Config struct {
	// PIIKey keys the hash that turns (eventId, phone) into a participant id.
	PIIKey []byte
	// Clock and Random default to the wall clock and crypto/rand.
	Clock  func() time.Time
	Random io.Reader
	// Batcher, when set, group-commits registrations.
	Batcher *eventstore.Batcher
	// Lockout tunes the self-service lockout (zero: 5 wrong phones in an
	// hour lock an entry for an hour).
	Lockout eventstore.LockoutConfig
	// Beacon, when set, reads drand rounds: to complete and verify drand
	// draws, and with DrandDraws (DRAW_RANDOMNESS=drand) new draws take a
	// round instead of crypto/rand.
	Beacon     *beacon.Client
	DrandDraws bool
	// OnRefused, when set, is told of a drand round refused by verification
	// (the draw stays pending), to log and count it.
	OnRefused func(domain.DrawCommitted, error)
	// ChainInfo, when set, puts a drand chain's info in draw certificates.
	ChainInfo ChainInfoSource
	// PhoneVerification (PHONE_VERIFICATION=otp) sends codes through
	// Notifier and asks registration, erase and claim for one.
	PhoneVerification bool
	Notifier          notify.Notifier
}

// verification is what phone verification needs; on is false when off.
type verification struct {
	on       bool
	key      []byte
	store    *eventstore.Verifications
	notifier notify.Notifier
}

// Validate reports what is missing.
func (c Config) Validate() error {
	if len(c.PIIKey) < 16 {
		return errors.New("PII_KEY: at least 16 bytes")
	}
	if c.DrandDraws && c.Beacon == nil {
		return errors.New("drand draws need a beacon client")
	}
	if c.PhoneVerification && c.Notifier == nil {
		return errors.New("phone verification needs a notifier to send its codes")
	}
	return nil
}

// New returns the application over the store: its command and query handlers.
func New(store *eventstore.Store, cfg Config) (Application, error) {
	if err := cfg.Validate(); err != nil {
		return Application{}, err
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	keys, err := privacy.NewKeys(cfg.PIIKey)
	if err != nil {
		return Application{}, err
	}
	h := &core{store: store, clock: cfg.Clock, random: cfg.Random, keys: keys, beacon: cfg.Beacon,
		drandDraws: cfg.DrandDraws && cfg.Beacon != nil, refused: cfg.OnRefused,
		appendRegistration: store.AppendWith, lockout: store.Lockout(cfg.Lockout), chainInfo: cfg.ChainInfo}
	if cfg.Batcher != nil {
		h.appendRegistration = cfg.Batcher.Append
	}
	if cfg.PhoneVerification {
		h.verification = verification{on: true, key: keys.VerificationKey(), store: store.Verifications(), notifier: cfg.Notifier}
	}
	return newApplication(h), nil
}

// loadCampaign returns the campaign as opened (Drawn is not loaded).
func (h *core) loadCampaign(ctx context.Context, eventID uuid.UUID) (domain.Campaign, error) {
	if c, ok := h.campaigns.Load(eventID); ok {
		return c.(domain.Campaign), nil
	}
	events, err := h.store.ReadStream(ctx, domain.CampaignStream(eventID))
	if err != nil {
		return domain.Campaign{}, fmt.Errorf("load campaign: %w", err)
	}
	if len(events) == 0 {
		return domain.Campaign{}, domain.ErrCampaignNotFound
	}
	var c domain.Campaign
	if c, err = applyStored(c, events); err != nil {
		return domain.Campaign{}, err
	}
	h.campaigns.Store(eventID, c)
	return c, nil
}

// drawn reports whether the campaign's draw has happened.
func (h *core) drawn(ctx context.Context, eventID uuid.UUID) (bool, error) {
	v, err := h.store.StreamVersion(ctx, domain.DrawStream(eventID))
	return v > 0, err
}

type applier[T any] interface {
	Apply(events ...any) (T, error)
}

// applyStored decodes stored events and folds them into state.
func applyStored[T applier[T]](state T, stored []eventstore.RecordedEvent) (T, error) {
	for _, rec := range stored {
		e, err := domain.DecodeStored(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			return state, fmt.Errorf("stream %s version %d: %w", rec.StreamID, rec.StreamVersion, err)
		}
		if state, err = state.Apply(e); err != nil {
			return state, err
		}
	}
	return state, nil
}

// toEventData serializes a domain event for the store. Every event of a
// campaign shares its partition key, so Kafka keeps them in order.
func toEventData(e domain.Event, eventID uuid.UUID, meta Meta) (eventstore.EventData, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return eventstore.EventData{}, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return eventstore.EventData{
		ID:            uuid.New(),
		PartitionKey:  eventID.String(),
		Type:          e.EventType(),
		SchemaVersion: domain.SchemaVersionOf(e.EventType()),
		Data:          data,
		Metadata: eventstore.Metadata{
			CorrelationID: meta.CorrelationID,
			CausationID:   meta.CorrelationID,
			Actor:         meta.Actor,
		},
	}, nil
}

// streamByEntry finds the stream of the participant with the entry number
// in the campaign ("" when none registered with it).
func (h *core) streamByEntry(ctx context.Context, eventID uuid.UUID, entryNumber string) (string, error) {
	id, err := h.store.ParticipantByEntry(ctx, eventID, entryNumber)
	if err != nil || id == uuid.Nil {
		return "", err
	}
	return domain.ParticipantStream(id), nil
}

// drawKey finds a draw's stream from its draw id.
func drawKey(drawID uuid.UUID) string { return "draw:" + drawID.String() }

// campaignFence serializes a campaign's registrations and visits against its draw.
func campaignFence(eventID uuid.UUID) string { return domain.CampaignStream(eventID) }

// errCampaignKeyGone: the campaign's participant-id key was destroyed by
// retention, so no phone can be linked to its participants any more.
var errCampaignKeyGone = errors.New("campaign key destroyed")

// participantKey is the HMAC key of the campaign's participant ids: its own
// key (ParticipantIDCampaignKey), or one from PII_KEY for campaigns opened
// before. An own key is kept in memory only while the campaign takes
// registrations, its hot path; afterwards each use reads campaign_keys, so
// that retention's destruction holds at once on every instance.
func (h *core) participantKey(ctx context.Context, c domain.Campaign) ([]byte, error) {
	if c.IDScheme != domain.ParticipantIDCampaignKey {
		return h.keys.ParticipantIDKey(c.IDScheme), nil
	}
	open := h.clock().Before(c.EndsAt)
	if !open {
		h.campaignKeys.Delete(c.ID)
	} else if k, ok := h.campaignKeys.Load(c.ID); ok {
		return k.([]byte), nil
	}
	wrapped, found, err := h.store.CampaignKey(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errCampaignKeyGone
	}
	key, err := h.keys.OpenCampaignKey(c.ID, wrapped)
	if err != nil {
		return nil, fmt.Errorf("campaign %s key: %w", c.ID, err)
	}
	if open {
		h.campaignKeys.Store(c.ID, key)
	}
	return key, nil
}
