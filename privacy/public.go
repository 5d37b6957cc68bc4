package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

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
// phone (empty once erased); a WinnersDrawn gets each winner's and
// alternate's masked values (Mask), read from their registrations; a
// claim loses its delivery; other events carry no personal data and pass
// unchanged. The relay publishes its output; the rebuild folds it, so both
// see the same values. The projectors fold what the relay published and
// need no PII_KEY.
type Publicizer struct {
	keys   *Keys
	source RegistrationSource
	logger *slog.Logger
}

// NewPublicizer returns a Publicizer over the keys derived from PII_KEY.
func NewPublicizer(keys *Keys, source RegistrationSource, logger *slog.Logger) *Publicizer {
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
	var at, claims, draws []int // the registrations', the claims' and the draws' indexes in events
	for i, e := range events {
		switch e.Type {
		case domain.TypeParticipantRegistered:
			at = append(at, i)
		case domain.TypePrizeClaimed:
			claims = append(claims, i)
		case domain.TypeWinnersDrawn:
			draws = append(draws, i)
		}
	}
	if len(at) == 0 && len(claims) == 0 && len(draws) == 0 {
		return events, nil
	}
	if len(claims) > 0 {
		events = withoutDelivery(events, claims)
	}
	if len(draws) > 0 {
		var err error
		if events, err = p.withMaskedWinners(ctx, events, draws); err != nil {
			return nil, err
		}
	}
	if len(at) == 0 {
		return events, nil
	}
	regs := make([]domain.ParticipantRegistered, len(at))
	undecodable := make([]bool, len(at))
	inParallel(len(at), func(j int) {
		e := events[at[j]]
		ev, err := domain.DecodeEvent(e.Type, e.Data) // by shape: a rebuild page carries no schema version
		if err != nil {
			p.logger.Error("privacy: undecodable registration; publishing it without personal data", "position", e.Position, "err", err)
			undecodable[j] = true
			return
		}
		regs[j] = ev.(domain.ParticipantRegistered)
	})
	ids := make([]uuid.UUID, 0, len(regs))
	for _, reg := range regs {
		if !reg.Unsealed() && reg.PII != "" {
			ids = append(ids, reg.ParticipantID)
		}
	}
	keys, err := p.source.SubjectKeys(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("publicize: %w", err)
	}
	out := make([]eventstore.RecordedEvent, len(events))
	copy(out, events)
	inParallel(len(at), func(j int) {
		reg, i := regs[j], at[j]
		if undecodable[j] {
			// Poison stays poison for every reader (the live projectors and
			// the rebuild skip it alike), and carries nothing of the original.
			out[i].Data = []byte(undecodableRegistration)
			return
		}
		pd, err := p.keys.OpenRegistration(reg, keys[reg.ParticipantID])
		if err != nil {
			p.logger.Error("privacy: a registration does not open; publishing it without personal data",
				"position", out[i].Position, "participant_id", reg.ParticipantID, "err", err)
			pd = domain.PersonalData{}
		}
		// Marshalling plain strings, a UUID and a time cannot fail.
		out[i].Data, _ = domain.PublicRegistered(reg, pd)
	})
	return out, nil
}

// undecodableRegistration is what an undecodable registration is published
// as: no reader decodes it (the participant id is no UUID), as none decoded
// the stored one, rather than a registration of the nil participant.
const undecodableRegistration = `{"participantId":"undecodable"}`

// withoutDelivery is events (a copy) with each claim's sealed delivery left
// out: what leaves the store says that a winner claimed, never where to.
func withoutDelivery(events []eventstore.RecordedEvent, claims []int) []eventstore.RecordedEvent {
	out := make([]eventstore.RecordedEvent, len(events))
	copy(out, events)
	for _, i := range claims {
		var c domain.PrizeClaimed
		if err := json.Unmarshal(out[i].Data, &c); err != nil {
			out[i].Data = []byte("{}") // undecodable: publish nothing of it rather than the delivery
			continue
		}
		out[i].Data, _ = json.Marshal(publicClaim{c.ParticipantID, c.EventID, c.ClaimedAt})
	}
	return out
}

// publicClaim is PrizeClaimed as it may leave the store.
type publicClaim struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EventID       uuid.UUID `json:"eventId"`
	ClaimedAt     time.Time `json:"claimedAt"`
}

// inParallel runs fn(0..n-1) on every CPU when n is worth it: a rebuild
// page opens thousands of registrations.
func inParallel(n int, fn func(int)) {
	workers := min(runtime.GOMAXPROCS(0), n/256)
	if workers <= 1 {
		for j := range n {
			fn(j)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Go(func() {
			for j := lo; j < hi; j++ {
				fn(j)
			}
		})
	}
	wg.Wait()
}
