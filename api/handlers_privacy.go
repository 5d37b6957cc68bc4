package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

type eraseRequest struct {
	EventID     *string `json:"eventId"`
	Phone       *string `json:"phone"`
	EntryNumber *string `json:"entryNumber"`
	// VerificationCode is the code sent to the phone (PHONE_VERIFICATION=otp).
	VerificationCode *string `json:"verificationCode"`
}

// eraseMyData is the customer's erasure. Any mismatch answers 404
// PARTICIPANT_NOT_FOUND, as an unknown participant does.
func (s *server) eraseMyData(c *gin.Context) {
	if s.public.EraseMyData == nil {
		s.writeError(c, errUnavailable)
		return
	}
	var req eraseRequest
	if err := decodeJSON(c, s.cfg.MaxBodyBytes, &req); err != nil {
		s.writeError(c, err)
		return
	}
	var fe fieldErrors
	cmd := commands.EraseMyData{
		EventID:     fe.uuid("eventId", req.EventID, true),
		Phone:       fe.requiredString("phone", req.Phone),
		EntryNumber: fe.requiredString("entryNumber", req.EntryNumber),
		Meta:        s.meta(c, customerActor),

		VerificationCode: fe.verificationCode(req.VerificationCode),
	}
	if err := fe.err(); err != nil {
		s.writeError(c, err)
		return
	}
	_, err := throughMisses(s.misses, cmd.EventID, func() (struct{}, error) {
		return struct{}{}, s.public.EraseMyData.Handle(c.Request.Context(), cmd)
	})
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) eraseParticipant(c *gin.Context) {
	eventID, entryNumber, ok := s.participantParams(c)
	if !ok {
		return
	}
	err := s.owner.EraseParticipant.Handle(c.Request.Context(), commands.EraseParticipant{
		EventID: eventID, EntryNumber: entryNumber, OwnerID: ownerOf(c), Meta: s.meta(c, ownerOf(c)),
	})
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type contactResponse struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// revealWinnerContact is the one answer that carries a raw name and phone.
func (s *server) revealWinnerContact(c *gin.Context) {
	eventID, entryNumber, ok := s.participantParams(c)
	if !ok {
		return
	}
	pd, err := s.owner.RevealWinnerContact.Handle(c.Request.Context(), commands.RevealWinnerContact{
		EventID: eventID, EntryNumber: entryNumber, OwnerID: ownerOf(c), Meta: s.meta(c, ownerOf(c)),
	})
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, contactResponse{Name: pd.Name, Phone: pd.Phone})
}

type deliveryResponse struct {
	RecipientName string    `json:"recipientName"`
	Postcode      string    `json:"postcode"`
	Address1      string    `json:"address1"`
	Address2      string    `json:"address2,omitempty"`
	ClaimedAt     time.Time `json:"claimedAt"`
}

// revealDelivery is the one answer that carries a winner's delivery details.
func (s *server) revealDelivery(c *gin.Context) {
	eventID, entryNumber, ok := s.participantParams(c)
	if !ok {
		return
	}
	out, err := s.owner.RevealDelivery.Handle(c.Request.Context(), commands.RevealDelivery{
		EventID: eventID, EntryNumber: entryNumber, OwnerID: ownerOf(c), Meta: s.meta(c, ownerOf(c)),
	})
	if err != nil {
		s.writeError(c, err)
		return
	}
	d := out.Delivery
	c.JSON(http.StatusOK, deliveryResponse{RecipientName: d.RecipientName, Postcode: d.Postcode, Address1: d.Address1,
		Address2: d.Address2, ClaimedAt: out.ClaimedAt.UTC()})
}

type contactRevealJSON struct {
	Kind          string    `json:"kind"` // CONTACT or DELIVERY
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	RevealedBy    string    `json:"revealedBy"`
	RevealedAt    time.Time `json:"revealedAt"`
}

type contactRevealsResponse struct {
	Reveals []contactRevealJSON `json:"reveals"`
}

func (s *server) listContactReveals(c *gin.Context) {
	eventID, ok := s.eventParam(c)
	if !ok || !s.authorizeCampaign(c, eventID) {
		return
	}
	reveals, err := s.owner.ContactReveals.Handle(c.Request.Context(), commands.ContactReveals{EventID: eventID, OwnerID: ownerOf(c)})
	if err != nil {
		s.writeError(c, err)
		return
	}
	resp := contactRevealsResponse{Reveals: make([]contactRevealJSON, 0, len(reveals))}
	for _, r := range reveals {
		resp.Reveals = append(resp.Reveals, contactRevealJSON{Kind: r.Kind, ParticipantID: r.ParticipantID, EntryNumber: r.EntryNumber,
			RevealedBy: r.RevealedBy, RevealedAt: r.RevealedAt})
	}
	c.JSON(http.StatusOK, resp)
}

// participantParams reads :eventId and :entryNumber after authorizing the
// campaign; it has answered when ok is false.
func (s *server) participantParams(c *gin.Context) (uuid.UUID, string, bool) {
	eventID, ok := s.eventParam(c)
	if !ok || !s.authorizeCampaign(c, eventID) {
		return uuid.Nil, "", false
	}
	entryNumber, valid := domain.ParseEntryNumber(c.Param("entryNumber"))
	if !valid {
		s.writeError(c, invalidField("entryNumber", "Must be an entry number like ABCD-2345."))
		return uuid.Nil, "", false
	}
	return eventID, entryNumber, true
}
