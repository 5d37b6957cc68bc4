package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// replaceFixture is a campaign drawn with two winners and three alternates.
type replaceFixture struct {
	campaign domain.Campaign
	drawn    domain.WinnersDrawn
	w1, w2   domain.Winner
	a        []domain.Winner
}

func newReplaceFixture(t *testing.T) replaceFixture {
	t.Helper()
	announce := time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)
	c := domain.Campaign{ID: uuid.New(), OwnerID: "owner-1", AnnounceAt: announce, ClaimDeadline: announce.Add(7 * 24 * time.Hour)}
	f := replaceFixture{campaign: c,
		w1: domain.Winner{ParticipantID: uuid.New(), EntryNumber: "AAAA-1111", Rank: 1},
		w2: domain.Winner{ParticipantID: uuid.New(), EntryNumber: "BBBB-2222", Rank: 2}}
	for i, n := range []string{"CCCC-3333", "DDDD-4444", "EEEE-5555"} {
		f.a = append(f.a, domain.Winner{ParticipantID: uuid.New(), EntryNumber: n, Rank: i + 1})
	}
	f.drawn = domain.WinnersDrawn{DrawID: uuid.New(), EventID: c.ID, Winners: []domain.Winner{f.w1, f.w2}, Alternates: f.a}
	return f
}

func (f replaceFixture) state(t *testing.T, repl ...domain.WinnerReplaced) domain.DrawState {
	t.Helper()
	events := []any{f.drawn}
	for _, r := range repl {
		events = append(events, r)
	}
	s, err := domain.DrawState{}.Apply(events...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReplace(t *testing.T) {
	t.Parallel()
	f := newReplaceFixture(t)
	deadline := f.campaign.ClaimDeadline
	after := deadline.Add(time.Hour)
	window := deadline.Sub(f.campaign.AnnounceAt)
	first := domain.WinnerReplaced{DrawID: f.drawn.DrawID, EventID: f.campaign.ID, Rank: 1,
		Replaced: domain.ReplacedWinner{ParticipantID: f.w1.ParticipantID, EntryNumber: f.w1.EntryNumber},
		By:       domain.PromotedEntry{ParticipantID: f.a[0].ParticipantID, EntryNumber: f.a[0].EntryNumber, AlternateRank: 1},
		Reason:   domain.ReplaceUnclaimed, ClaimDeadline: after.Add(window), ReplacedAt: after, ReplacedBy: "owner-1"}
	erasedA := func(ids ...uuid.UUID) func(uuid.UUID) bool {
		return func(id uuid.UUID) bool {
			for _, e := range ids {
				if e == id {
					return true
				}
			}
			return false
		}
	}
	tests := []struct {
		name    string
		state   domain.DrawState
		req     domain.ReplaceRequest
		want    *domain.WinnerReplaced
		wantErr error
	}{
		{"unclaimed_after_the_deadline_promotes_alternate_1", f.state(t),
			domain.ReplaceRequest{EntryNumber: f.w1.EntryNumber, Reason: domain.ReplaceUnclaimed, At: after, By: "owner-1"}, &first, nil},
		{"unclaimed_at_the_deadline_is_allowed", f.state(t),
			domain.ReplaceRequest{EntryNumber: f.w1.EntryNumber, Reason: domain.ReplaceUnclaimed, At: deadline, By: "owner-1"}, nil, nil},
		{"unclaimed_before_the_deadline_is_claim_still_open", f.state(t),
			domain.ReplaceRequest{EntryNumber: f.w1.EntryNumber, Reason: domain.ReplaceUnclaimed, At: deadline.Add(-time.Second), By: "owner-1"}, nil, domain.ErrClaimStillOpen},
		{"unclaimed_of_a_claimed_winner_is_already_claimed", f.state(t),
			domain.ReplaceRequest{EntryNumber: f.w1.EntryNumber, Reason: domain.ReplaceUnclaimed, Claimed: true, At: after, By: "owner-1"}, nil, domain.ErrAlreadyClaimed},
		{"declined_of_a_claimed_winner_before_the_deadline_is_allowed", f.state(t),
			domain.ReplaceRequest{EntryNumber: f.w2.EntryNumber, Reason: domain.ReplaceDeclined, Claimed: true, At: f.campaign.AnnounceAt, By: "owner-1"}, nil, nil},
		{"erased_of_a_winner_not_erased_is_refused", f.state(t),
			domain.ReplaceRequest{EntryNumber: f.w2.EntryNumber, Reason: domain.ReplaceErased, At: after, By: "owner-1"}, nil, domain.ErrNotErased},
		{"erased_of_an_erased_winner_is_allowed", f.state(t),
			domain.ReplaceRequest{EntryNumber: f.w2.EntryNumber, Reason: domain.ReplaceErased, Erased: true, At: after, By: "owner-1"}, nil, nil},
		{"another_owner_is_refused", f.state(t),
			domain.ReplaceRequest{EntryNumber: f.w1.EntryNumber, Reason: domain.ReplaceDeclined, At: after, By: "owner-2"}, nil, domain.ErrNotOwner},
		{"unknown_reason_is_invalid", f.state(t),
			domain.ReplaceRequest{EntryNumber: f.w1.EntryNumber, Reason: "BORED", At: after, By: "owner-1"}, nil, domain.ErrInvalid},
		{"before_the_result_is_not_drawn", domain.DrawState{},
			domain.ReplaceRequest{EntryNumber: f.w1.EntryNumber, Reason: domain.ReplaceDeclined, At: after, By: "owner-1"}, nil, domain.ErrResultNotDrawn},
		{"an_alternate_is_not_a_winner", f.state(t),
			domain.ReplaceRequest{EntryNumber: f.a[1].EntryNumber, Reason: domain.ReplaceDeclined, At: after, By: "owner-1"}, nil, domain.ErrNotWinner},
		{"the_replaced_entry_is_already_replaced", f.state(t, first),
			domain.ReplaceRequest{EntryNumber: f.w1.EntryNumber, Reason: domain.ReplaceDeclined, At: after, By: "owner-1"}, nil, domain.ErrAlreadyReplaced},
		{"the_promoted_alternate_has_its_own_deadline", f.state(t, first),
			domain.ReplaceRequest{EntryNumber: f.a[0].EntryNumber, Reason: domain.ReplaceUnclaimed, At: after.Add(time.Hour), By: "owner-1"}, nil, domain.ErrClaimStillOpen},
		{"erased_alternates_are_passed_over", f.state(t),
			domain.ReplaceRequest{EntryNumber: f.w1.EntryNumber, Reason: domain.ReplaceDeclined, At: after, By: "owner-1",
				AlternateErased: erasedA(f.a[0].ParticipantID, f.a[1].ParticipantID)}, nil, nil},
		{"none_left_is_no_alternate", f.state(t, first),
			domain.ReplaceRequest{EntryNumber: f.w2.EntryNumber, Reason: domain.ReplaceDeclined, At: after, By: "owner-1",
				AlternateErased: erasedA(f.a[1].ParticipantID, f.a[2].ParticipantID)}, nil, domain.ErrNoAlternate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.state.Replace(f.campaign, tt.req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Replace error = %v, want %v", err, tt.wantErr)
			}
			if tt.want != nil {
				if diff := cmp.Diff(*tt.want, got); diff != "" {
					t.Errorf("Replace (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestReplacePromotesInOrder(t *testing.T) {
	t.Parallel()
	f := newReplaceFixture(t)
	at := f.campaign.AnnounceAt.Add(time.Hour)
	s := f.state(t)
	// alternate 1 erased: 2 takes rank 2, then 3 takes rank 1
	erased := func(id uuid.UUID) bool { return id == f.a[0].ParticipantID }
	var got []int
	for _, entry := range []string{f.w2.EntryNumber, f.w1.EntryNumber} {
		r, err := s.Replace(f.campaign, domain.ReplaceRequest{EntryNumber: entry, Reason: domain.ReplaceIneligible, At: at, By: "owner-1", AlternateErased: erased})
		if err != nil {
			t.Fatal(err)
		}
		if s, err = s.Apply(r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r.By.AlternateRank)
	}
	if diff := cmp.Diff([]int{2, 3}, got); diff != "" {
		t.Errorf("alternate ranks promoted (-want +got):\n%s", diff)
	}
	if want := at.Add(f.campaign.ClaimDeadline.Sub(f.campaign.AnnounceAt)); !s.Holders[0].ClaimDeadline.Equal(want) {
		t.Errorf("promoted deadline = %v, want %v", s.Holders[0].ClaimDeadline, want)
	}
	if msg := domain.CheckReplacements(f.drawn, s.Replacements, func(_ int, id uuid.UUID) bool { return erased(id) }); msg != "" {
		t.Errorf("CheckReplacements of a rightful sequence = %q", msg)
	}
}

func TestPromotedDeadline(t *testing.T) {
	t.Parallel()
	f := newReplaceFixture(t)
	window := f.campaign.ClaimDeadline.Sub(f.campaign.AnnounceAt)
	tests := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"after_announce_the_window_runs_from_the_replacement", f.campaign.AnnounceAt.Add(48 * time.Hour), f.campaign.AnnounceAt.Add(48*time.Hour + window)},
		{"before_announce_the_window_runs_from_announce", f.campaign.AnnounceAt.Add(-48 * time.Hour), f.campaign.ClaimDeadline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := domain.PromotedDeadline(f.campaign, tt.at); !got.Equal(tt.want) {
				t.Errorf("PromotedDeadline = %v, want %v", got, tt.want)
			}
		})
	}
}
