package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

func TestRevealDelivery(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.FixedZone("KST", 9*60*60))
	claimed := domain.Participant{ID: uuid.New(), EventID: uuid.New(), ClaimedAt: now.Add(-time.Hour), Version: 2}
	unclaimed := claimed
	unclaimed.ClaimedAt = time.Time{}
	erased := claimed
	erased.Erased = true
	erasedUnclaimed := unclaimed
	erasedUnclaimed.Erased = true
	tests := []struct {
		name string
		p    domain.Participant
		won  bool
		want error
	}{
		{"claimed_winner_is_revealed", claimed, true, nil},
		// a claim was a winner's when made: a winner replaced since keeps it
		{"claimed_no_longer_listed_is_revealed", claimed, false, nil},
		{"unclaimed_winner_is_not_claimed", unclaimed, true, domain.ErrNotClaimed},
		{"non_winner_is_not_a_winner", unclaimed, false, domain.ErrNotWinner},
		{"erased_claimed_winner_is_erased", erased, true, domain.ErrParticipantErased},
		{"erased_unclaimed_winner_is_erased", erasedUnclaimed, true, domain.ErrParticipantErased},
		{"erased_non_winner_is_not_a_winner", erasedUnclaimed, false, domain.ErrNotWinner},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.p.RevealDelivery(tt.won, "owner-1", now)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil {
				return
			}
			want := domain.DeliveryRevealed{ParticipantID: tt.p.ID, EventID: tt.p.EventID, RevealedBy: "owner-1", RevealedAt: now.UTC()}
			if got != want {
				t.Fatalf("event = %+v, want %+v", got, want)
			}
		})
	}
}

func TestDeliveryRevealedFoldsIntoTheParticipant(t *testing.T) {
	t.Parallel()
	p := domain.Participant{ID: uuid.New(), Version: 2}
	got, err := p.Apply(domain.DeliveryRevealed{ParticipantID: p.ID})
	if err != nil || got.Version != 3 {
		t.Fatalf("apply = %+v, %v; want version 3", got, err)
	}
	e, err := domain.DecodeEvent(domain.TypeDeliveryRevealed, []byte(`{"participantId":"`+p.ID.String()+`","revealedBy":"o"}`))
	if err != nil || e.(domain.DeliveryRevealed).RevealedBy != "o" || e.StreamID() != domain.ParticipantStream(p.ID) {
		t.Fatalf("decode = %+v, %v", e, err)
	}
}

func TestClaimState(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2026, 5, 8, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name           string
		claimedAt, now time.Time
		want           string
	}{
		{"before_the_deadline_open", time.Time{}, deadline.Add(-time.Nanosecond), domain.ClaimOpen},
		{"at_the_deadline_closed", time.Time{}, deadline, domain.ClaimClosed},
		{"claimed_stays_claimed_after_the_deadline", deadline.Add(-time.Hour), deadline.Add(time.Hour), domain.ClaimClaimed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := domain.ClaimState(tt.claimedAt, deadline, tt.now); got != tt.want {
				t.Fatalf("state = %s, want %s", got, tt.want)
			}
		})
	}
}
