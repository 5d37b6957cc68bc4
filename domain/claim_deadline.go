package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// ClaimWindow is how long after announceAt the winners may claim when the
// campaign was opened without a claimDeadline, and for every campaign
// opened before the field existed.
const ClaimWindow = 7 * 24 * time.Hour

// decodeCampaignOpened decodes a stored CampaignOpened and gives one stored
// without claimDeadline (opened before it existed) the default, so every
// reader — commands, projections, a rebuild — sees the same deadline.
func decodeCampaignOpened(data []byte) (Event, error) {
	var e CampaignOpened
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", TypeCampaignOpened, err)
	}
	if e.ClaimDeadline.IsZero() {
		e.ClaimDeadline = e.AnnounceAt.Add(ClaimWindow)
	}
	return e, nil
}
