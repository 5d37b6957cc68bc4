package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

type claimRequest struct {
	Phone           *string `json:"phone"`
	EntryNumber     *string `json:"entryNumber"`
	RecipientName   *string `json:"recipientName"`
	Postcode        *string `json:"postcode"`
	Address1        *string `json:"address1"`
	Address2        *string `json:"address2"`
	DeliveryConsent *bool   `json:"deliveryConsent"`
	// VerificationCode is the code sent to the phone (PHONE_VERIFICATION=otp).
	VerificationCode *string `json:"verificationCode"`
}

// claimJSON answers a claim: when, never what (the delivery is not echoed).
type claimJSON struct {
	State     string    `json:"state"`
	ClaimedAt time.Time `json:"claimedAt"`
}

// claimPrize is a winner's claim with the delivery details; a mismatch, a
// non-winner or an alternate is the erase's 404, behind its lockout.
func (s *server) claimPrize(c *gin.Context) {
	eventID, ok := s.eventParam(c)
	if !ok {
		return
	}
	if s.public.ClaimPrize == nil {
		s.writeError(c, errUnavailable)
		return
	}
	var req claimRequest
	if err := decodeJSON(c, s.cfg.MaxBodyBytes, &req); err != nil {
		s.writeError(c, err)
		return
	}
	var fe fieldErrors
	cmd := commands.ClaimPrize{
		EventID:     eventID,
		Phone:       fe.requiredString("phone", req.Phone),
		EntryNumber: fe.requiredString("entryNumber", req.EntryNumber),
		Delivery: domain.Delivery{
			RecipientName: fe.requiredString("recipientName", req.RecipientName),
			Postcode:      fe.requiredString("postcode", req.Postcode),
			Address1:      fe.requiredString("address1", req.Address1),
		},
		Meta: s.meta(c, customerActor),

		VerificationCode: fe.verificationCode(req.VerificationCode),
	}
	if req.Address2 != nil {
		cmd.Delivery.Address2 = *req.Address2
	}
	if req.DeliveryConsent == nil {
		fe.add("deliveryConsent", reasonRequired)
	} else {
		cmd.DeliveryConsent = *req.DeliveryConsent
	}
	if err := fe.err(); err != nil {
		s.writeError(c, err)
		return
	}
	out, err := throughMisses(s.misses, eventID, func() (domain.PrizeClaimed, error) {
		return s.public.ClaimPrize.Handle(c.Request.Context(), cmd)
	})
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, claimJSON{State: domain.ClaimClaimed, ClaimedAt: out.ClaimedAt})
}
