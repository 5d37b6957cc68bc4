package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// SealLegacy rewrites once every registration stored before encryption
// existed (schema 1, name and phone in clear) into schema 2: sealed under a
// new data key, stored in pii_keys in the same transaction. It logs and
// returns the count; a second run finds nothing to do.
func SealLegacy(ctx context.Context, store *eventstore.Store, keys *Keys, random io.Reader, logger *slog.Logger) (int, error) {
	n, err := store.RewriteOlder(ctx, domain.TypeParticipantRegistered, domain.RegistrationSchemaVersion,
		func(e eventstore.RecordedEvent) (eventstore.Rewrite, error) {
			ev, err := domain.DecodeStored(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				return eventstore.Rewrite{}, err
			}
			reg := ev.(domain.ParticipantRegistered)
			sealed, wrapped, err := keys.Seal(random, reg.ParticipantID, reg.Personal())
			if err != nil {
				return eventstore.Rewrite{}, err
			}
			data, err := json.Marshal(reg.Sealed(sealed))
			if err != nil {
				return eventstore.Rewrite{}, fmt.Errorf("encode: %w", err)
			}
			return eventstore.Rewrite{Data: data, SchemaVersion: domain.RegistrationSchemaVersion,
				SubjectKey: &eventstore.SubjectKey{Subject: reg.ParticipantID, Wrapped: wrapped}}, nil
		})
	if n > 0 || err != nil {
		logger.Info("migrate: sealed the personal data of registrations stored in clear", "rewritten", n, "err", err)
	}
	return n, err
}
