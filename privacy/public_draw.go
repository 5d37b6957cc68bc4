package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// withMaskedWinners is events (a copy) with each WinnersDrawn at draws
// carrying its winners' and alternates' masked values, so that the read
// models show them without opening a registration. A participant erased
// before the publishing (or the rebuild's read) gets empty values, as the
// erasure that follows would leave them anyway. A lookup that fails fails
// the batch (the relay retries it); a registration that does not open is
// logged, without its data, and its winner published with empty values.
func (p *Publicizer) withMaskedWinners(ctx context.Context, events []eventstore.RecordedEvent, draws []int) ([]eventstore.RecordedEvent, error) {
	out := make([]eventstore.RecordedEvent, len(events))
	copy(out, events)
	for _, i := range draws {
		var d domain.WinnersDrawn
		if err := json.Unmarshal(out[i].Data, &d); err != nil {
			continue // poison: the read models skip it as they would the stored one
		}
		ws := slices.Concat(d.Winners, d.Alternates)
		ids := make([]uuid.UUID, len(ws))
		for j, w := range ws {
			ids[j] = w.ParticipantID
		}
		masked, unopened, err := MaskParticipants(ctx, p.keys, p.source, ids)
		if err != nil {
			return nil, fmt.Errorf("publicize the draw at %d: %w", out[i].Position, err)
		}
		for _, u := range unopened {
			p.logger.Error("privacy: a winner's registration does not open; publishing the winner without personal data",
				"position", u.Position, "participant_id", u.ParticipantID, "err", u.Err)
		}
		for _, list := range [][]domain.Winner{d.Winners, d.Alternates} {
			for j := range list {
				m := masked[list[j].ParticipantID]
				list[j].Name, list[j].Phone, list[j].ListedName = m.Name, m.Phone, m.Listed
			}
		}
		data, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("publicize the draw at %d: %w", out[i].Position, err)
		}
		out[i].Data = data
	}
	return out, nil
}
