package commands

import "github.com/shopevents/participation/eventstore"

// The idempotency keys live in the event store's database
// (eventstore.IdempotencyKeys); the api names their types from here, so it
// never imports the store.
type (
	IdempotencyClaim = eventstore.IdempotencyClaim
	IdempotentAnswer = eventstore.IdempotentAnswer
	IdempotentWrite  = eventstore.IdempotentWrite
)

// ErrIdempotencyKeyTaken: the command's Idempotency-Key is held by another
// request, finished or running; nothing was written, and that request's
// answer is the one to give.
var ErrIdempotencyKeyTaken = eventstore.ErrIdempotencyKeyTaken

// RegistrationIdempotency makes a registration's Idempotency-Key part of
// its append: the key is claimed, and the answer of the outcome stored, in
// the registration's own transaction.
type RegistrationIdempotency struct {
	// Write names the key; its Lost and Closed answers are those of
	// ALREADY_PARTICIPATED and EVENT_NOT_OPEN.
	Write *IdempotentWrite
	// Answer renders the 201 body of a registration, the one the caller
	// then sends.
	Answer func(Registration) ([]byte, error)
	// Settled is set by the command when the answer was stored with the
	// append: the caller has nothing left to store.
	Settled bool
}
