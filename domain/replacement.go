package domain

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// TypeWinnerReplaced is the stored name of WinnerReplaced.
const TypeWinnerReplaced = "WinnerReplaced"

// Why a winner was replaced (WinnerReplaced.reason).
const (
	ReplaceUnclaimed  = "UNCLAIMED"  // no claim by the winner's deadline
	ReplaceDeclined   = "DECLINED"   // the winner gave the prize up
	ReplaceIneligible = "INELIGIBLE" // the winner may not have it (the event's rules)
	ReplaceErased     = "ERASED"     // the winner's personal data was erased
)

// OutcomeReplaced is 당첨 확인 of a winner whose place an alternate took.
const OutcomeReplaced = "REPLACED"

// Replacement refusals (409), besides ErrAlreadyClaimed for UNCLAIMED.
var (
	ErrClaimStillOpen  = errors.New("the winner's claim is still open")        // 409 CLAIM_STILL_OPEN
	ErrNoAlternate     = errors.New("no alternate left")                       // 409 NO_ALTERNATE
	ErrAlreadyReplaced = errors.New("winner already replaced")                 // 409 ALREADY_REPLACED
	ErrNotErased       = errors.New("the winner's data is not erased")         // 409 NOT_ERASED
	ErrResultNotDrawn  = errors.New("no result drawn: nothing to replace yet") // 404 NOT_DRAWN
)

// WinnerReplaced records that the first unused alternate took a winner's
// rank, in the draw's stream: public on the result page and the
// certificate, and checked by verify (the alternates' order).
type WinnerReplaced struct {
	DrawID        uuid.UUID      `json:"drawId"`
	EventID       uuid.UUID      `json:"eventId"`
	Rank          int            `json:"rank"`
	Replaced      ReplacedWinner `json:"replaced"`
	By            PromotedEntry  `json:"by"`
	Reason        string         `json:"reason"`
	ClaimDeadline time.Time      `json:"claimDeadline"` // the promoted alternate's own
	ReplacedAt    time.Time      `json:"replacedAt"`
	ReplacedBy    string         `json:"replacedBy"` // the owner id
}

// ReplacedWinner is the entry that lost its rank.
type ReplacedWinner struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
}

// PromotedEntry is the alternate that took the rank.
type PromotedEntry struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	AlternateRank int       `json:"alternateRank"`
}

func (WinnerReplaced) EventType() string    { return TypeWinnerReplaced }
func (e WinnerReplaced) StreamID() string   { return DrawStream(e.EventID) }
func validReplaceReason(reason string) bool { return reasonSet[reason] }

var reasonSet = map[string]bool{ReplaceUnclaimed: true, ReplaceDeclined: true, ReplaceIneligible: true, ReplaceErased: true}

// RankHolder is who holds a winner's rank now.
type RankHolder struct {
	Winner
	// AlternateRank is the promoted alternate's rank; 0 for the drawn winner.
	AlternateRank int
	// ClaimDeadline is the holder's own deadline; zero for the campaign's.
	ClaimDeadline time.Time
}

// DrawState is a campaign's draw stream folded: the commit, the result and
// who holds each rank after the replacements.
type DrawState struct {
	Commit       *DrawCommitted
	Drawn        *WinnersDrawn
	Holders      []RankHolder // by rank: Holders[r-1]
	Replacements []WinnerReplaced
	used         map[int]bool // alternate ranks promoted
	// Version is the draw stream's version, the replacement's expected one.
	Version int64
}

// Apply folds the draw stream's events (values): DrawCommitted,
// WinnersDrawn, WinnerReplaced. A replacement is taken as recorded; verify
// checks it followed the rule (CheckReplacements).
func (s DrawState) Apply(events ...any) (DrawState, error) {
	for _, e := range events {
		s.Version++
		switch e := e.(type) {
		case DrawCommitted:
			s.Commit = &e
		case WinnersDrawn:
			s.Drawn = &e
			s.Holders = make([]RankHolder, len(e.Winners))
			for i, w := range e.Winners {
				s.Holders[i] = RankHolder{Winner: w}
			}
			s.used = map[int]bool{}
		case WinnerReplaced:
			if s.Drawn == nil || e.Rank < 1 || e.Rank > len(s.Holders) {
				return s, fmt.Errorf("draw %s: a replacement of rank %d without its result", e.DrawID, e.Rank)
			}
			s.Holders[e.Rank-1] = RankHolder{Winner: Winner{ParticipantID: e.By.ParticipantID, EntryNumber: e.By.EntryNumber, Rank: e.Rank},
				AlternateRank: e.By.AlternateRank, ClaimDeadline: e.ClaimDeadline}
			s.used[e.By.AlternateRank] = true
			s.Replacements = append(s.Replacements, e)
		default:
			return s, fmt.Errorf("draw stream: cannot apply %T", e)
		}
	}
	return s, nil
}

// Holder returns the rank the participant holds now, if any.
func (s DrawState) Holder(participant uuid.UUID) (RankHolder, bool) {
	for _, h := range s.Holders {
		if h.ParticipantID == participant {
			return h, true
		}
	}
	return RankHolder{}, false
}

// Deadline is the holder's claim deadline, the campaign's unless its own.
func (h RankHolder) Deadline(campaignDeadline time.Time) time.Time {
	if h.ClaimDeadline.IsZero() {
		return campaignDeadline.UTC()
	}
	return h.ClaimDeadline.UTC()
}

// replacedAs is the replacement that took the participant's rank, if any.
func (s DrawState) replacedAs(participant uuid.UUID) (WinnerReplaced, bool) {
	for _, r := range s.Replacements {
		if r.Replaced.ParticipantID == participant {
			return r, true
		}
	}
	return WinnerReplaced{}, false
}

// Check is 당첨 확인 of a participant at now: WON (the rank held now, with
// the holder's own claim window), REPLACED (the rank lost, with the
// reason), ALTERNATE for an alternate not promoted, else NOT_WON.
func (s DrawState) Check(participant uuid.UUID, campaignDeadline, now time.Time) ResultCheck {
	if h, ok := s.Holder(participant); ok {
		deadline := h.Deadline(campaignDeadline)
		state := ClaimOpen
		if !now.Before(deadline) {
			state = ClaimClosed
		}
		return ResultCheck{Outcome: OutcomeWon, Rank: h.Rank, Claim: &ClaimView{State: state, Deadline: deadline}}
	}
	if r, ok := s.replacedAs(participant); ok {
		return ResultCheck{Outcome: OutcomeReplaced, Rank: r.Rank, Reason: r.Reason}
	}
	if s.Drawn != nil {
		for _, a := range s.Drawn.Alternates {
			if a.ParticipantID == participant && !s.used[a.Rank] {
				return ResultCheck{Outcome: OutcomeAlternate, Rank: a.Rank}
			}
		}
	}
	return ResultCheck{Outcome: OutcomeNotWon}
}

// ReplaceRequest is the owner's replacement of the winner holding
// entryNumber's rank, with what the decision needs of the participants.
type ReplaceRequest struct {
	EntryNumber string
	Reason      string
	// Claimed and Erased are the holder's claim and erasure.
	Claimed, Erased bool
	// AlternateErased tells whether an alternate's data was erased: erased
	// alternates are passed over (nobody could claim or be told).
	AlternateErased func(uuid.UUID) bool
	At              time.Time
	By              string // the owner id
}

// Replace decides a replacement in campaign c, checking in this order: the
// owner (ErrNotOwner), the reason (*ValidationError), a drawn result
// (ErrResultNotDrawn), the entry (ErrNotWinner; ErrAlreadyReplaced for one
// replaced before), the reason's rule (UNCLAIMED: ErrAlreadyClaimed for a
// claimed winner, ErrClaimStillOpen before the holder's deadline; ERASED:
// ErrNotErased unless erased; DECLINED and INELIGIBLE hold for a claimed
// winner too), and an alternate to promote (ErrNoAlternate). The first
// alternate in order neither promoted nor erased takes the rank, with a
// claim window as long as the campaign's from the replacement (from
// announceAt when replaced before it).
func (s DrawState) Replace(c Campaign, req ReplaceRequest) (WinnerReplaced, error) {
	if err := c.CheckOwner(req.By); err != nil {
		return WinnerReplaced{}, err
	}
	if !validReplaceReason(req.Reason) {
		return WinnerReplaced{}, invalid("reason", "The reason must be one of UNCLAIMED, DECLINED, INELIGIBLE, ERASED.")
	}
	if s.Drawn == nil {
		return WinnerReplaced{}, ErrResultNotDrawn
	}
	var holder RankHolder
	found := false
	for _, h := range s.Holders {
		if h.EntryNumber == req.EntryNumber {
			holder, found = h, true
		}
	}
	if !found {
		for _, r := range s.Replacements {
			if r.Replaced.EntryNumber == req.EntryNumber {
				return WinnerReplaced{}, ErrAlreadyReplaced
			}
		}
		return WinnerReplaced{}, ErrNotWinner
	}
	switch req.Reason {
	case ReplaceUnclaimed:
		if req.Claimed {
			return WinnerReplaced{}, ErrAlreadyClaimed
		}
		if req.At.Before(holder.Deadline(c.ClaimDeadline)) {
			return WinnerReplaced{}, ErrClaimStillOpen
		}
	case ReplaceErased:
		if !req.Erased {
			return WinnerReplaced{}, ErrNotErased
		}
	}
	var next *Winner
	for i, a := range s.Drawn.Alternates {
		if s.used[a.Rank] || (req.AlternateErased != nil && req.AlternateErased(a.ParticipantID)) {
			continue
		}
		next = &s.Drawn.Alternates[i]
		break
	}
	if next == nil {
		return WinnerReplaced{}, ErrNoAlternate
	}
	return WinnerReplaced{
		DrawID:        s.Drawn.DrawID,
		EventID:       s.Drawn.EventID,
		Rank:          holder.Rank,
		Replaced:      ReplacedWinner{ParticipantID: holder.ParticipantID, EntryNumber: holder.EntryNumber},
		By:            PromotedEntry{ParticipantID: next.ParticipantID, EntryNumber: next.EntryNumber, AlternateRank: next.Rank},
		Reason:        req.Reason,
		ClaimDeadline: PromotedDeadline(c, req.At),
		ReplacedAt:    req.At.UTC(),
		ReplacedBy:    req.By,
	}, nil
}

// PromotedDeadline is a promoted alternate's claim deadline: the campaign's
// window (claimDeadline − announceAt) from the replacement, or from
// announceAt when the replacement came before it.
func PromotedDeadline(c Campaign, at time.Time) time.Time {
	from := at
	if from.Before(c.AnnounceAt) {
		from = c.AnnounceAt
	}
	return from.Add(c.ClaimDeadline.Sub(c.AnnounceAt)).UTC()
}

// CheckReplacements checks a result's replacements, in order, against the
// rule: each takes a rank from the entry holding it, by the first
// alternate neither promoted before nor erased before it (erasedBefore(i,
// id): alternate id was erased before replacement i was recorded). It
// returns the first broken one's description, or "".
func CheckReplacements(drawn WinnersDrawn, repl []WinnerReplaced, erasedBefore func(i int, id uuid.UUID) bool) string {
	s, err := DrawState{}.Apply(drawn)
	if err != nil {
		return err.Error()
	}
	for i, r := range repl {
		if r.Rank < 1 || r.Rank > len(s.Holders) {
			return fmt.Sprintf("replacement %d: rank %d is not a winner's", i+1, r.Rank)
		}
		if h := s.Holders[r.Rank-1]; h.ParticipantID != r.Replaced.ParticipantID || h.EntryNumber != r.Replaced.EntryNumber {
			return fmt.Sprintf("replacement %d: rank %d is held by %s, not %s", i+1, r.Rank, h.EntryNumber, r.Replaced.EntryNumber)
		}
		var want *Winner
		for j, a := range drawn.Alternates {
			if !s.used[a.Rank] && !erasedBefore(i, a.ParticipantID) {
				want = &drawn.Alternates[j]
				break
			}
		}
		if want == nil || want.ParticipantID != r.By.ParticipantID || want.EntryNumber != r.By.EntryNumber || want.Rank != r.By.AlternateRank {
			return fmt.Sprintf("replacement %d: alternate %d (%s) is not the first alternate neither promoted nor erased", i+1, r.By.AlternateRank, r.By.EntryNumber)
		}
		if s, err = s.Apply(r); err != nil {
			return err.Error()
		}
	}
	return ""
}
