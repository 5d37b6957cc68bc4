package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

const sqlInsertCampaignKey = `INSERT INTO campaign_keys (event_id, wrapped) VALUES ($1, $2)`

// CampaignKey returns a campaign's wrapped participant-id key; found is
// false when the campaign has none: opened before per-campaign keys, or its
// key destroyed by retention.
func (s *Store) CampaignKey(ctx context.Context, eventID uuid.UUID) (wrapped []byte, found bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT wrapped FROM campaign_keys WHERE event_id = $1`,
		pgtype.UUID{Bytes: eventID, Valid: true}).Scan(&wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("campaign key: %w", err)
	}
	return wrapped, true, nil
}

// DestroyCampaignKey deletes a campaign's participant-id key for good; it
// reports whether there was one, so a second call is a no-op.
func (s *Store) DestroyCampaignKey(ctx context.Context, eventID uuid.UUID) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM campaign_keys WHERE event_id = $1`, pgtype.UUID{Bytes: eventID, Valid: true})
	if err != nil {
		return false, fmt.Errorf("destroy campaign key: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}
