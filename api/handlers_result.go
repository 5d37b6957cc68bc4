package api

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// Result states of a listed winner: REPLACED when an alternate took the rank.
const (
	resultStateWinner   = "WINNER"
	resultStateReplaced = "REPLACED"
)

type resultWinnerJSON struct {
	Rank        int    `json:"rank"`
	Name        string `json:"name"`        // domain.MaskListedName, by the read model; empty once erased
	EntryNumber string `json:"entryNumber"` // domain.MaskListedEntryNumber
	State       string `json:"state"`
	Reason      string `json:"reason,omitempty"` // REPLACED
}

type resultPendingJSON struct {
	Announced  bool      `json:"announced"`
	AnnounceAt time.Time `json:"announceAt"`
}

type resultJSON struct {
	Announced     bool      `json:"announced"`
	AnnounceAt    time.Time `json:"announceAt"`
	ClaimDeadline time.Time `json:"claimDeadline"`
	// Drawn is false while the announcement date has come without a draw
	// (or with one waiting for its public randomness): no winners yet.
	Drawn   bool               `json:"drawn"`
	Winners []resultWinnerJSON `json:"winners"`
}

// result is the public announcement: nothing but the date before
// announceAt, then the winners masked as a published list is.
func (s *server) result(c *gin.Context) {
	eventID, ok := s.eventParam(c)
	if !ok {
		return
	}
	if s.public.Campaign == nil || s.queries == nil {
		s.writeError(c, errUnavailable)
		return
	}
	camp, err := s.knownCampaign(c.Request.Context(), eventID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	// The answer changes at announceAt: no cache may keep the one before.
	c.Header("Cache-Control", "no-store")
	if s.cfg.Now().Before(camp.AnnounceAt) {
		c.JSON(http.StatusOK, resultPendingJSON{AnnounceAt: camp.AnnounceAt})
		return
	}
	rows, err := s.queries.Winners(c.Request.Context(), eventID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	resp := resultJSON{Announced: true, AnnounceAt: camp.AnnounceAt, ClaimDeadline: camp.ClaimDeadline,
		Winners: []resultWinnerJSON{}}
	resp.Winners = publishedWinners(rows)
	resp.Drawn = len(resp.Winners) > 0
	c.JSON(http.StatusOK, resp)
}

// publishedWinners is the public list: each rank's holders in turn, the
// replaced ones (with the reason) before the one holding it now, a promoted
// alternate as the winner of its rank; alternates not promoted are not
// published (they learn it from 당첨 확인).
func publishedWinners(rows []WinnerRow) []resultWinnerJSON {
	type listed struct {
		resultWinnerJSON
		at time.Time // replaced at; zero for the holder, listed last
	}
	var out []listed
	for _, w := range rows {
		rank := w.Rank
		if w.Kind == AlternateKind {
			if w.PromotedRank == 0 {
				continue
			}
			rank = w.PromotedRank
		}
		l := listed{resultWinnerJSON{Rank: rank, Name: w.ListedName, EntryNumber: domain.MaskListedEntryNumber(w.EntryNumber),
			State: resultStateWinner}, w.ReplacedAt}
		if w.ReplacedReason != "" {
			l.State, l.Reason = resultStateReplaced, w.ReplacedReason
		}
		out = append(out, l)
	}
	slices.SortStableFunc(out, func(a, b listed) int {
		if a.Rank != b.Rank {
			return cmp.Compare(a.Rank, b.Rank)
		}
		if a.at.IsZero() != b.at.IsZero() {
			return map[bool]int{true: 1, false: -1}[a.at.IsZero()]
		}
		return a.at.Compare(b.at)
	})
	ws := make([]resultWinnerJSON, len(out))
	for i, l := range out {
		ws[i] = l.resultWinnerJSON
	}
	return ws
}

type checkRequest struct {
	Phone       *string `json:"phone"`
	EntryNumber *string `json:"entryNumber"`
}

type claimViewJSON struct {
	State    string    `json:"state"`
	Deadline time.Time `json:"deadline"`
}

type checkJSON struct {
	Outcome string         `json:"outcome"`
	Rank    int            `json:"rank,omitempty"`
	Reason  string         `json:"reason,omitempty"` // REPLACED
	Claim   *claimViewJSON `json:"claim,omitempty"`
	Proof   *proofJSON     `json:"proof,omitempty"`
}

// proofJSON is the entry's inclusion proof, with the drawId the page needs
// to rebuild the leaf "{drawId}|{entryNumber}|{weight}".
type proofJSON struct {
	DrawID uuid.UUID `json:"drawId"`
	domain.DrawProof
}

// checkResult is 당첨 확인: the participant's own outcome, with their phone
// and entry number (a mismatch is the erase's 404, behind its lockout).
func (s *server) checkResult(c *gin.Context) {
	eventID, ok := s.eventParam(c)
	if !ok {
		return
	}
	if s.public.CheckResult == nil {
		s.writeError(c, errUnavailable)
		return
	}
	var req checkRequest
	if err := decodeJSON(c, s.cfg.MaxBodyBytes, &req); err != nil {
		s.writeError(c, err)
		return
	}
	var fe fieldErrors
	cmd := commands.CheckResult{
		EventID:     eventID,
		Phone:       fe.requiredString("phone", req.Phone),
		EntryNumber: fe.requiredString("entryNumber", req.EntryNumber),
	}
	if err := fe.err(); err != nil {
		s.writeError(c, err)
		return
	}
	out, err := throughMisses(s.misses, eventID, func() (domain.ResultCheck, error) {
		return s.public.CheckResult.Handle(c.Request.Context(), cmd)
	})
	if err != nil {
		s.writeError(c, err)
		return
	}
	resp := checkJSON{Outcome: out.Outcome, Rank: out.Rank, Reason: out.Reason}
	if out.Claim != nil {
		resp.Claim = &claimViewJSON{State: out.Claim.State, Deadline: out.Claim.Deadline}
	}
	if out.Proof != nil {
		resp.Proof = &proofJSON{DrawID: out.DrawID, DrawProof: *out.Proof}
	}
	c.JSON(http.StatusOK, resp)
}
