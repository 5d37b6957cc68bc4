package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

type verificationRequest struct {
	EventID *string `json:"eventId"`
	Phone   *string `json:"phone"`
}

// codeSentJSON says how long the code sent lives and when the next may
// be asked for; the code itself goes only to the phone.
type codeSentJSON struct {
	ExpiresAt time.Time `json:"expiresAt"`
	ResendAt  time.Time `json:"resendAt"`
}

// requestVerification sends a code to the phone (PHONE_VERIFICATION=otp):
// 202, as the message is on its way, not read.
func (s *server) requestVerification(c *gin.Context) {
	if s.public.RequestVerification == nil {
		s.writeError(c, errUnavailable)
		return
	}
	var req verificationRequest
	if err := decodeJSON(c, s.cfg.MaxBodyBytes, &req); err != nil {
		s.writeError(c, err)
		return
	}
	var fe fieldErrors
	cmd := commands.RequestVerification{
		EventID: fe.uuid("eventId", req.EventID, true),
		Phone:   fe.requiredString("phone", req.Phone),
		Meta:    s.meta(c, customerActor),
	}
	if err := fe.err(); err != nil {
		s.writeError(c, err)
		return
	}
	sent, err := throughMisses(s.misses, cmd.EventID, func() (commands.VerificationSent, error) {
		return s.public.RequestVerification.Handle(c.Request.Context(), cmd)
	})
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, codeSentJSON{ExpiresAt: sent.ExpiresAt.UTC(), ResendAt: sent.ResendAt.UTC()})
}

// verificationCode reads the optional verificationCode of a registration,
// an erase or a claim: six digits when given, whether verification is on or not.
func (f *fieldErrors) verificationCode(v *string) string {
	if v == nil {
		return ""
	}
	if !domain.ValidVerificationCode(*v) {
		f.add("verificationCode", "Must be the 6-digit code sent to the phone.")
	}
	return *v
}
