package commands

import "github.com/shopevents/participation/eventstore"

// The idempotency keys live in the event store's database
// (eventstore.IdempotencyKeys); the api names their types from here, so it
// never imports the store.
type (
	IdempotencyClaim = eventstore.IdempotencyClaim
	IdempotentAnswer = eventstore.IdempotentAnswer
)
