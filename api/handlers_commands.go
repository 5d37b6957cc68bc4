package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// customerActor is the actor recorded for the public registration.
const customerActor = "customer"

// RegistrationMessage thanks a customer for joining.
const RegistrationMessage = "참여해주셔서 감사합니다"

type registrationRequest struct {
	EventID        *string `json:"eventId"`
	Name           *string `json:"name"`
	Phone          *string `json:"phone"`
	EntryPath      *string `json:"entryPath"`
	PrivacyConsent *bool   `json:"privacyConsent"`
	// VerificationCode is the code sent to the phone (PHONE_VERIFICATION=otp).
	VerificationCode *string `json:"verificationCode"`
}

type registrationResponse struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	AnnounceAt    time.Time `json:"announceAt"`
	Message       string    `json:"message"`
}

func (s *server) registerParticipant(c *gin.Context) {
	if s.public.Register == nil {
		s.writeError(c, errUnavailable)
		return
	}
	var req registrationRequest
	if err := decodeJSON(c, s.cfg.MaxBodyBytes, &req); err != nil {
		s.writeError(c, err)
		return
	}
	var fe fieldErrors
	cmd := commands.RegisterParticipant{
		EventID:   fe.uuid("eventId", req.EventID, true),
		Name:      fe.requiredString("name", req.Name),
		Phone:     fe.requiredString("phone", req.Phone),
		EntryPath: fe.requiredString("entryPath", req.EntryPath),
		Meta:      s.meta(c, customerActor),

		VerificationCode: fe.verificationCode(req.VerificationCode),
	}
	if req.PrivacyConsent == nil {
		fe.add("privacyConsent", reasonRequired)
	} else {
		cmd.PrivacyConsent = *req.PrivacyConsent
	}
	if err := fe.err(); err != nil {
		s.writeError(c, err)
		return
	}
	cmd.Idempotency = s.registrationIdempotency(c)
	reg, err := throughMisses(s.misses, cmd.EventID, func() (commands.Registration, error) {
		return s.public.Register.Handle(c.Request.Context(), cmd)
	})
	if errors.Is(err, commands.ErrIdempotencyKeyTaken) && cmd.Idempotency != nil {
		s.answerHeld(c)
		return
	}
	var body []byte
	if err == nil {
		body, err = registrationBody(reg)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	setIdempotencySubject(c, reg.ParticipantID)
	c.Data(http.StatusCreated, "application/json; charset=utf-8", body)
}

// registrationBody is a registration's 201 body, byte for byte the one its
// Idempotency-Key keeps.
func registrationBody(reg commands.Registration) ([]byte, error) {
	return json.Marshal(registrationResponse{
		ParticipantID: reg.ParticipantID,
		EntryNumber:   reg.EntryNumber,
		AnnounceAt:    reg.AnnounceAt,
		Message:       RegistrationMessage,
	})
}

type openCampaignRequest struct {
	EventID    *string `json:"eventId"`
	Title      *string `json:"title"`
	StartsAt   *string `json:"startsAt"`
	EndsAt     *string `json:"endsAt"`
	AnnounceAt *string `json:"announceAt"`
	// ClaimDeadline is optional: announceAt + 7 days when absent.
	ClaimDeadline *string `json:"claimDeadline"`
}

type campaignResponse struct {
	EventID       uuid.UUID `json:"eventId"`
	OwnerID       string    `json:"ownerId"`
	Title         string    `json:"title"`
	StartsAt      time.Time `json:"startsAt"`
	EndsAt        time.Time `json:"endsAt"`
	AnnounceAt    time.Time `json:"announceAt"`
	ClaimDeadline time.Time `json:"claimDeadline"`
}

func (s *server) openCampaign(c *gin.Context) {
	if s.owner.OpenCampaign == nil {
		s.writeError(c, errUnavailable)
		return
	}
	var req openCampaignRequest
	if err := decodeJSON(c, s.cfg.MaxBodyBytes, &req); err != nil {
		s.writeError(c, err)
		return
	}
	var fe fieldErrors
	cmd := commands.OpenCampaign{
		EventID:    fe.uuid("eventId", req.EventID, false),
		OwnerID:    ownerOf(c),
		Title:      fe.requiredString("title", req.Title),
		StartsAt:   fe.time("startsAt", req.StartsAt),
		EndsAt:     fe.time("endsAt", req.EndsAt),
		AnnounceAt: fe.time("announceAt", req.AnnounceAt),
		Meta:       s.meta(c, ownerOf(c)),
	}
	if req.ClaimDeadline != nil {
		cmd.ClaimDeadline = fe.time("claimDeadline", req.ClaimDeadline)
		// A zero deadline means "the default" below; 0001-01-01T00:00:00Z is just too early.
		if cmd.ClaimDeadline.IsZero() && rfc3339.MatchString(*req.ClaimDeadline) {
			fe.add("claimDeadline", "The claim deadline must not be before the announcement.")
		}
	}
	if err := fe.err(); err != nil {
		s.writeError(c, err)
		return
	}
	opened, err := s.owner.OpenCampaign.Handle(c.Request.Context(), cmd)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.misses.forget(opened.EventID)
	c.JSON(http.StatusCreated, campaignResponse{
		EventID:    opened.EventID,
		OwnerID:    opened.OwnerID,
		Title:      opened.Title,
		StartsAt:   opened.StartsAt,
		EndsAt:     opened.EndsAt,
		AnnounceAt: opened.AnnounceAt,

		ClaimDeadline: opened.ClaimDeadline,
	})
}

type storeVisitResponse struct {
	EventID      uuid.UUID `json:"eventId"`
	EntryNumber  string    `json:"entryNumber"`
	StoreVisited bool      `json:"storeVisited"`
}

func (s *server) recordStoreVisit(c *gin.Context) {
	eventID, ok := s.eventParam(c)
	if !ok || !s.authorizeCampaign(c, eventID) {
		return
	}
	entryNumber, valid := domain.ParseEntryNumber(c.Param("entryNumber"))
	if !valid {
		s.writeError(c, invalidField("entryNumber", "Must be an entry number like ABCD-2345."))
		return
	}
	err := s.owner.RecordStoreVisit.Handle(c.Request.Context(), commands.RecordStoreVisit{
		EventID:     eventID,
		EntryNumber: entryNumber,
		OwnerID:     ownerOf(c),
		Meta:        s.meta(c, ownerOf(c)),
	})
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, storeVisitResponse{EventID: eventID, EntryNumber: entryNumber, StoreVisited: true})
}

// maxWinnerCount bounds winnerCount in the spec: a larger count is a typo.
const maxWinnerCount = 10_000_000

type drawRequest struct {
	WinnerCount      *int  `json:"winnerCount"`
	AlternateCount   *int  `json:"alternateCount"`
	VisitBonus       *bool `json:"visitBonus"`
	VisitBonusWeight *int  `json:"visitBonusWeight"`
}

type winnerJSON struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	Name          string    `json:"name"`
	Phone         string    `json:"phone"`
	Rank          int       `json:"rank"`
	// The owner's winners list only (교체): a winner's state and reason,
	// a promoted alternate's own rank, an alternate's winner rank taken.
	State         string `json:"state,omitempty"`
	Reason        string `json:"reason,omitempty"`
	AlternateRank int    `json:"alternateRank,omitempty"`
	PromotedRank  int    `json:"promotedRank,omitempty"`
}

type drawResponse struct {
	Winners    []winnerJSON `json:"winners"`
	Alternates []winnerJSON `json:"alternates"`
	DrawLogID  uuid.UUID    `json:"drawLogId"`
}

// drawPendingResponse is a drand draw committed whose round is not in
// within DRAW_WAIT: the relay's leader completes it.
type drawPendingResponse struct {
	DrawLogID  uuid.UUID `json:"drawLogId"`
	State      string    `json:"state"`
	Round      uint64    `json:"round"`
	ExpectedAt time.Time `json:"expectedAt"`
}

func (s *server) drawWinners(c *gin.Context) {
	eventID, ok := s.eventParam(c)
	if !ok || !s.authorizeCampaign(c, eventID) {
		return
	}
	var req drawRequest
	if err := decodeJSON(c, s.cfg.MaxBodyBytes, &req); err != nil {
		s.writeError(c, err)
		return
	}
	// The count's range is the command's to judge: ALREADY_DRAWN comes first.
	// Only its shape is checked here, with the spec's bounds.
	var fe fieldErrors
	if req.WinnerCount == nil {
		fe.add("winnerCount", reasonRequired)
	} else if *req.WinnerCount > maxWinnerCount {
		fe.add("winnerCount", fmt.Sprintf("Must be at most %d.", maxWinnerCount))
	}
	if a := req.AlternateCount; a != nil && (*a < 0 || *a > domain.MaxAlternateCount) {
		fe.add("alternateCount", fmt.Sprintf("Must be 0 to %d.", domain.MaxAlternateCount))
	}
	if w := req.VisitBonusWeight; w != nil && (*w < 1 || *w > domain.MaxVisitBonusWeight) {
		fe.add("visitBonusWeight", fmt.Sprintf("Must be 1 to %d.", domain.MaxVisitBonusWeight))
	}
	if err := fe.err(); err != nil {
		s.writeError(c, err)
		return
	}
	cmd := commands.DrawWinners{
		EventID:     eventID,
		OwnerID:     ownerOf(c),
		WinnerCount: *req.WinnerCount,
		Meta:        s.meta(c, ownerOf(c)),
	}
	if req.AlternateCount != nil {
		cmd.AlternateCount = *req.AlternateCount
	}
	if req.VisitBonus != nil {
		cmd.VisitBonus = *req.VisitBonus
	}
	if req.VisitBonusWeight != nil {
		cmd.VisitBonusWeight = *req.VisitBonusWeight
	}
	out, err := s.owner.DrawWinners.Handle(c.Request.Context(), cmd)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if p := out.Pending; p != nil {
		c.JSON(http.StatusAccepted, drawPendingResponse{DrawLogID: out.DrawID, State: "PENDING", Round: p.Round, ExpectedAt: p.ExpectedAt.UTC()})
		return
	}
	c.JSON(http.StatusOK, drawResponse{DrawLogID: out.DrawID, Winners: maskedWinners(out.Winners), Alternates: maskedWinners(out.Alternates)})
}

// maskedWinners is the draw's answer, winners and alternates alike: the
// command masked them (privacy.Mask, as the read models show them).
func maskedWinners(ws []commands.DrawnWinner) []winnerJSON {
	out := make([]winnerJSON, 0, len(ws))
	for _, w := range ws {
		out = append(out, winnerJSON{ParticipantID: w.ParticipantID, EntryNumber: w.EntryNumber, Name: w.Name, Phone: w.Phone, Rank: w.Rank})
	}
	return out
}

// meta is the request context every command records with its events.
func (s *server) meta(c *gin.Context, actor string) commands.Meta {
	return commands.Meta{CorrelationID: correlationID(c), Actor: actor}
}

// eventParam parses the :eventId path parameter, answering 400 when it is
// not a UUID.
func (s *server) eventParam(c *gin.Context) (uuid.UUID, bool) {
	id, err := parseUUID(c.Param("eventId"))
	if err != nil {
		s.writeError(c, invalidField("eventId", "Must be a UUID."))
		return uuid.Nil, false
	}
	return id, true
}
