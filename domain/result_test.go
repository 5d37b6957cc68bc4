package domain_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

func TestCheckResult(t *testing.T) {
	t.Parallel()
	won, alt, other := uuid.New(), uuid.New(), uuid.New()
	d := domain.WinnersDrawn{Winners: []domain.Winner{{ParticipantID: uuid.New(), Rank: 1}, {ParticipantID: won, Rank: 2}},
		Alternates: []domain.Winner{{ParticipantID: alt, Rank: 1}}}
	deadline := time.Date(2026, 12, 14, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		participant uuid.UUID
		now         time.Time
		want        domain.ResultCheck
	}{
		{"winner_before_the_deadline", won, deadline.Add(-time.Second),
			domain.ResultCheck{Outcome: domain.OutcomeWon, Rank: 2, Claim: &domain.ClaimView{State: domain.ClaimOpen, Deadline: deadline}}},
		{"winner_at_the_deadline", won, deadline,
			domain.ResultCheck{Outcome: domain.OutcomeWon, Rank: 2, Claim: &domain.ClaimView{State: domain.ClaimClosed, Deadline: deadline}}},
		{"alternate_has_its_rank_no_claim", alt, deadline, domain.ResultCheck{Outcome: domain.OutcomeAlternate, Rank: 1}},
		{"anyone_else_did_not_win", other, deadline, domain.ResultCheck{Outcome: domain.OutcomeNotWon}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, domain.CheckResult(d, tt.participant, deadline, tt.now)); diff != "" {
				t.Errorf("CheckResult (-want +got):\n%s", diff)
			}
		})
	}
}
