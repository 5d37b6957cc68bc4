package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// EntryLockedError refuses a self-service attempt on an entry that had too
// many wrong phones: the entry is locked until Until, whether the phone is
// right or not, and whether the entry exists or not.
type EntryLockedError struct {
	Until      time.Time
	RetryAfter time.Duration // Until less now in whole seconds, at least one
}

func (e *EntryLockedError) Error() string {
	return fmt.Sprintf("entry locked for %s after too many wrong attempts", e.RetryAfter)
}

// selfService runs one self-service attempt (erase, 당첨 확인, claim) on
// (eventID, entryNumber) behind the lockout: an attempt answered
// domain.ErrParticipantNotFound — a wrong phone or an unknown entry, which
// answer alike — counts as wrong, and five within an hour lock the entry
// for an hour. The lock is keyed by the entry number as given, known or
// not, so that a 429 never tells that an entry exists. entryNumber must be
// canonical (domain.ParseEntryNumber). try must answer ErrParticipantNotFound
// only for a wrong phone or an unknown entry: a right phone refused for
// another reason (not a winner, say) answers another error, or the holder
// would lock their own entry.
func selfService[T any](ctx context.Context, h *core, eventID uuid.UUID, entryNumber string, try func() (T, error)) (T, error) {
	var zero T
	now := h.clock()
	attempt, retryAt, err := h.lockout.Begin(ctx, eventID, entryNumber, now)
	if err != nil {
		return zero, err
	}
	if !retryAt.IsZero() {
		// From the clock after Begin, which may have queued behind the attempt
		// that locked; rounded, as the store keeps microseconds.
		left := retryAt.Sub(h.clock()).Round(time.Second)
		return zero, &EntryLockedError{Until: retryAt, RetryAfter: max(left, time.Second)}
	}
	out, err := try()
	// The attempt settles even when the caller has gone: a wrong phone
	// must count however soon its client hangs up.
	settle := context.WithoutCancel(ctx)
	if errors.Is(err, domain.ErrParticipantNotFound) {
		if ferr := h.lockout.Fail(settle, attempt, h.clock()); ferr != nil {
			return zero, errors.Join(err, ferr)
		}
		return zero, err
	}
	// A right phone resets nothing (see the README): only its place is given back.
	if derr := h.lockout.Done(settle, attempt); derr != nil && err == nil {
		return out, derr
	}
	return out, err
}
