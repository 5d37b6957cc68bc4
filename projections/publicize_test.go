package projections_test

import (
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/privacy"
	"github.com/shopevents/participation/projections"
)

// testPIIKey is these tests' PII_KEY. Their registrations are stored in
// clear (the form before encryption), which privacy opens without a key.
var testPIIKey = []byte("projections-test-pii-key-0123456789")

// testPublicize is the relay's privacy.Publicizer over pool's store: the
// projectors fold what it publishes and a rebuild what it gives of the
// store, so tests feed them its output, never the stored events.
func testPublicize(t testing.TB, pool *pgxpool.Pool) projections.Publicize {
	t.Helper()
	return publicizer(pool)
}

// publicizer is testPublicize where no test is at hand (a goroutine's).
func publicizer(pool *pgxpool.Pool) projections.Publicize {
	keys, err := privacy.NewKeys(testPIIKey)
	if err != nil {
		panic(err) // a constant key of the right length
	}
	return privacy.NewPublicizer(keys, eventstore.New(pool), slog.New(slog.DiscardHandler)).Public
}
