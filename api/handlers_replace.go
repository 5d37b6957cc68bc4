package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shopevents/participation/commands"
)

type replaceRequest struct {
	Reason *string `json:"reason"`
}

// promotedJSON is the rank's new holder, masked as the owner's lists are.
type promotedJSON struct {
	Rank          int       `json:"rank"`
	EntryNumber   string    `json:"entryNumber"`
	Name          string    `json:"name"`
	Phone         string    `json:"phone"`
	AlternateRank int       `json:"alternateRank"`
	ClaimDeadline time.Time `json:"claimDeadline"`
}

type replacedJSON struct {
	EntryNumber string `json:"entryNumber"`
	Reason      string `json:"reason"`
}

type replaceResponse struct {
	Rank       int          `json:"rank"`
	Winner     promotedJSON `json:"winner"`
	Replaced   replacedJSON `json:"replaced"`
	ReplacedAt time.Time    `json:"replacedAt"`
}

// replaceWinner is 교체: the first alternate not yet used takes the rank of
// the winner holding entryNumber's.
func (s *server) replaceWinner(c *gin.Context) {
	eventID, entryNumber, ok := s.participantParams(c)
	if !ok {
		return
	}
	var req replaceRequest
	if err := decodeJSON(c, s.cfg.MaxBodyBytes, &req); err != nil {
		s.writeError(c, err)
		return
	}
	var fe fieldErrors
	reason := fe.requiredString("reason", req.Reason)
	if err := fe.err(); err != nil {
		s.writeError(c, err)
		return
	}
	out, err := s.owner.ReplaceWinner.Handle(c.Request.Context(), commands.ReplaceWinner{
		EventID: eventID, EntryNumber: entryNumber, Reason: reason, OwnerID: ownerOf(c), Meta: s.meta(c, ownerOf(c)),
	})
	if err != nil {
		s.writeError(c, err)
		return
	}
	e := out.Event
	c.JSON(http.StatusOK, replaceResponse{
		Rank: e.Rank,
		Winner: promotedJSON{Rank: e.Rank, EntryNumber: e.By.EntryNumber, Name: out.Promoted.Name, // masked by the command
			Phone: out.Promoted.Phone, AlternateRank: e.By.AlternateRank, ClaimDeadline: e.ClaimDeadline},
		Replaced:   replacedJSON{EntryNumber: e.Replaced.EntryNumber, Reason: e.Reason},
		ReplacedAt: e.ReplacedAt,
	})
}
