package domain_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

func TestDrawStateCheck(t *testing.T) {
	t.Parallel()
	f := newReplaceFixture(t)
	deadline := f.campaign.ClaimDeadline
	own := deadline.Add(7 * 24 * time.Hour)
	r := domain.WinnerReplaced{DrawID: f.drawn.DrawID, EventID: f.campaign.ID, Rank: 1,
		Replaced: domain.ReplacedWinner{ParticipantID: f.w1.ParticipantID, EntryNumber: f.w1.EntryNumber},
		By:       domain.PromotedEntry{ParticipantID: f.a[0].ParticipantID, EntryNumber: f.a[0].EntryNumber, AlternateRank: 1},
		Reason:   domain.ReplaceUnclaimed, ClaimDeadline: own, ReplacedAt: deadline}
	s := f.state(t, r)
	now := deadline.Add(time.Hour)
	tests := []struct {
		name        string
		participant uuid.UUID
		want        domain.ResultCheck
	}{
		{"replaced_winner_is_replaced_with_the_reason", f.w1.ParticipantID,
			domain.ResultCheck{Outcome: domain.OutcomeReplaced, Rank: 1, Reason: domain.ReplaceUnclaimed}},
		{"promoted_alternate_won_with_its_own_deadline", f.a[0].ParticipantID,
			domain.ResultCheck{Outcome: domain.OutcomeWon, Rank: 1, Claim: &domain.ClaimView{State: domain.ClaimOpen, Deadline: own}}},
		{"other_winner_keeps_the_campaign_deadline", f.w2.ParticipantID,
			domain.ResultCheck{Outcome: domain.OutcomeWon, Rank: 2, Claim: &domain.ClaimView{State: domain.ClaimClosed, Deadline: deadline}}},
		{"unused_alternate_stays_alternate", f.a[1].ParticipantID, domain.ResultCheck{Outcome: domain.OutcomeAlternate, Rank: 2}},
		{"anyone_else_did_not_win", uuid.New(), domain.ResultCheck{Outcome: domain.OutcomeNotWon}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, s.Check(tt.participant, deadline, now)); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckReplacements(t *testing.T) {
	t.Parallel()
	f := newReplaceFixture(t)
	repl := func(rank int, replaced domain.Winner, by domain.Winner) domain.WinnerReplaced {
		return domain.WinnerReplaced{Rank: rank, Replaced: domain.ReplacedWinner{ParticipantID: replaced.ParticipantID, EntryNumber: replaced.EntryNumber},
			By: domain.PromotedEntry{ParticipantID: by.ParticipantID, EntryNumber: by.EntryNumber, AlternateRank: by.Rank}}
	}
	never := func(int, uuid.UUID) bool { return false }
	a1ErasedBeforeFirst := func(_ int, id uuid.UUID) bool { return id == f.a[0].ParticipantID }
	a1ErasedAfterFirst := func(i int, id uuid.UUID) bool { return i > 0 && id == f.a[0].ParticipantID }
	promotedAsW1 := domain.Winner{ParticipantID: f.a[0].ParticipantID, EntryNumber: f.a[0].EntryNumber, Rank: 1}
	tests := []struct {
		name   string
		repl   []domain.WinnerReplaced
		erased func(int, uuid.UUID) bool
		ok     bool
	}{
		{"none_is_fine", nil, never, true},
		{"alternates_in_order", []domain.WinnerReplaced{repl(1, f.w1, f.a[0]), repl(2, f.w2, f.a[1])}, never, true},
		{"a_promoted_alternate_replaced_in_turn", []domain.WinnerReplaced{repl(1, f.w1, f.a[0]), repl(1, promotedAsW1, f.a[1])}, never, true},
		{"skipping_an_alternate_erased_before_is_fine", []domain.WinnerReplaced{repl(1, f.w1, f.a[1])}, a1ErasedBeforeFirst, true},
		{"skipping_an_alternate_not_erased_is_a_mismatch", []domain.WinnerReplaced{repl(1, f.w1, f.a[1])}, never, false},
		{"skipping_an_alternate_erased_only_later_is_a_mismatch", []domain.WinnerReplaced{repl(1, f.w1, f.a[1])}, a1ErasedAfterFirst, false},
		{"taking_a_promoted_alternate_again_is_a_mismatch", []domain.WinnerReplaced{repl(1, f.w1, f.a[0]), repl(2, f.w2, f.a[0])}, never, false},
		{"replacing_someone_not_holding_the_rank_is_a_mismatch", []domain.WinnerReplaced{repl(1, f.w2, f.a[0])}, never, false},
		{"a_rank_beyond_the_winners_is_a_mismatch", []domain.WinnerReplaced{repl(3, f.w2, f.a[0])}, never, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := domain.CheckReplacements(f.drawn, tt.repl, tt.erased)
			if (msg == "") != tt.ok {
				t.Errorf("CheckReplacements = %q, want ok %v", msg, tt.ok)
			}
		})
	}
}

func TestWinnerReplacedRoundTrips(t *testing.T) {
	t.Parallel()
	f := newReplaceFixture(t)
	e := domain.WinnerReplaced{DrawID: f.drawn.DrawID, EventID: f.campaign.ID, Rank: 2, Reason: domain.ReplaceDeclined,
		Replaced:      domain.ReplacedWinner{ParticipantID: f.w2.ParticipantID, EntryNumber: f.w2.EntryNumber},
		By:            domain.PromotedEntry{ParticipantID: f.a[0].ParticipantID, EntryNumber: f.a[0].EntryNumber, AlternateRank: 1},
		ClaimDeadline: f.campaign.ClaimDeadline, ReplacedAt: f.campaign.AnnounceAt, ReplacedBy: "owner-1"}
	data := mustJSON(t, e)
	got, err := domain.DecodeEvent(domain.TypeWinnerReplaced, data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(domain.Event(e), got); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	if got.StreamID() != domain.DrawStream(f.campaign.ID) {
		t.Errorf("stream = %s", got.StreamID())
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
