package privacy

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// Masked is a person's data as it may leave privacy: the owner's forms of
// the name and phone (김**, 010-****-5678) and the name as a published
// winners list shows it (김*수). Every masked value the service shows is
// one of these, computed here from the opened data; empty once erased.
type Masked struct {
	Name, Phone, Listed string
}

// Mask is the one definition of the masked forms of pd.
func Mask(pd domain.PersonalData) Masked {
	return Masked{Name: domain.MaskName(pd.Name), Phone: domain.MaskPhone(pd.Phone), Listed: domain.MaskListedName(pd.Name)}
}

// RegistrationSource reads participants' registrations and their wrapped
// data keys: eventstore.Store, and eventstore.Tx inside a command.
type RegistrationSource interface {
	KeySource
	ReadStreamsOfType(ctx context.Context, streams []string, eventType string) ([]eventstore.RecordedEvent, error)
}

// Unopened is a registration that was read but does not open (a corrupt
// ciphertext, a key that is not this PII_KEY's): its participant gets empty
// values; the caller decides whether that is an error.
type Unopened struct {
	Position      int64
	ParticipantID uuid.UUID
	Err           error
}

// MaskParticipants opens the registrations of ids and masks them: what the
// draw's answer, a replacement's answer and the published WinnersDrawn
// show of the people they name. An erased participant (no data key) maps
// to empty values; so does one whose registration is missing.
func MaskParticipants(ctx context.Context, keys *Keys, src RegistrationSource, ids []uuid.UUID) (map[uuid.UUID]Masked, []Unopened, error) {
	out := make(map[uuid.UUID]Masked, len(ids))
	if len(ids) == 0 {
		return out, nil, nil
	}
	streams := make([]string, len(ids))
	for i, id := range ids {
		streams[i] = domain.ParticipantStream(id)
	}
	stored, err := src.ReadStreamsOfType(ctx, streams, domain.TypeParticipantRegistered)
	if err != nil {
		return nil, nil, fmt.Errorf("registrations: %w", err)
	}
	wrapped, err := src.SubjectKeys(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("data keys: %w", err)
	}
	regs := make([]domain.ParticipantRegistered, len(stored))
	masked := make([]Masked, len(stored))
	errs := make([]error, len(stored))
	inParallel(len(stored), func(i int) {
		e, err := domain.DecodeStored(stored[i].Type, stored[i].SchemaVersion, stored[i].Data)
		if err != nil {
			errs[i] = err
			return
		}
		reg, ok := e.(domain.ParticipantRegistered)
		if !ok {
			errs[i] = fmt.Errorf("a %T in a participant's registrations", e)
			return
		}
		regs[i] = reg
		pd, err := keys.OpenRegistration(regs[i], wrapped[regs[i].ParticipantID])
		if err != nil {
			errs[i] = err
			return
		}
		masked[i] = Mask(pd)
	})
	var unopened []Unopened
	for i := range stored {
		if errs[i] != nil {
			unopened = append(unopened, Unopened{Position: stored[i].Position, ParticipantID: regs[i].ParticipantID, Err: errs[i]})
			continue
		}
		out[regs[i].ParticipantID] = masked[i]
	}
	return out, unopened, nil
}
