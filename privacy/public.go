package privacy

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// KeySource looks up subjects' wrapped data keys (eventstore.Store does).
type KeySource interface {
	SubjectKeys(ctx context.Context, subjects []uuid.UUID) (map[uuid.UUID][]byte, error)
}

// Publicizer turns stored events into what may leave the event store: a
// registration's sealed pii is opened and replaced by the masked name and
// phone (empty once erased); other events carry no personal data and pass
// unchanged. The relay publishes its output; the rebuild folds it, so both
// see the same values. Nothing else needs PII_KEY to read.
type Publicizer struct {
	keys   *Keys
	source KeySource
	logger *slog.Logger
}

// NewPublicizer returns a Publicizer over the keys derived from PII_KEY.
func NewPublicizer(keys *Keys, source KeySource, logger *slog.Logger) *Publicizer {
	if logger == nil {
		logger = slog.Default()
	}
	return &Publicizer{keys: keys, source: source, logger: logger}
}

// Public returns events with public data, in order, looking up the batch's
// data keys in one query. A key lookup that fails fails the batch (the relay
// retries it); a registration that does not open is logged, without its
// data, and published with empty values, so it cannot wedge the pipeline.
func (p *Publicizer) Public(ctx context.Context, events []eventstore.RecordedEvent) ([]eventstore.RecordedEvent, error) {
	var ids []uuid.UUID
	regs := make(map[int]domain.ParticipantRegistered)
	for i, e := range events {
		if e.Type != domain.TypeParticipantRegistered {
			continue
		}
		ev, err := domain.DecodeEvent(e.Type, e.Data) // by shape: a rebuild page carries no schema version
		if err != nil {
			p.logger.Error("privacy: undecodable registration; publishing it without personal data", "position", e.Position, "err", err)
			regs[i] = domain.ParticipantRegistered{}
			continue
		}
		reg := ev.(domain.ParticipantRegistered)
		regs[i] = reg
		if !reg.Unsealed() {
			ids = append(ids, reg.ParticipantID)
		}
	}
	if len(regs) == 0 {
		return events, nil
	}
	keys, err := p.source.SubjectKeys(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("publicize: %w", err)
	}
	out := make([]eventstore.RecordedEvent, len(events))
	copy(out, events)
	for i, reg := range regs {
		pd, err := p.keys.OpenRegistration(reg, keys[reg.ParticipantID])
		if err != nil {
			p.logger.Error("privacy: a registration does not open; publishing it without personal data",
				"position", out[i].Position, "participant_id", reg.ParticipantID, "err", err)
			pd = domain.PersonalData{}
		}
		data, err := domain.PublicRegistered(reg, pd)
		if err != nil {
			return nil, err
		}
		out[i].Data = data
	}
	return out, nil
}
