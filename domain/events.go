package domain

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Event type names as stored. Stored names are never renamed.
const (
	TypeCampaignOpened        = "CampaignOpened"
	TypeParticipantRegistered = "ParticipantRegistered"
	TypeStoreVisitRecorded    = "StoreVisitRecorded"
	TypeWinnersDrawn          = "WinnersDrawn"
)

// SchemaVersion is the schema version of every event this package writes.
const SchemaVersion = 1

// Event is a domain event: it knows its stored type name and its stream.
type Event interface {
	EventType() string
	StreamID() string
}

// CampaignOpened is the only event of stream campaign-{eventId}.
type CampaignOpened struct {
	EventID    uuid.UUID `json:"eventId"`
	OwnerID    string    `json:"ownerId"`
	Title      string    `json:"title"`
	StartsAt   time.Time `json:"startsAt"`
	EndsAt     time.Time `json:"endsAt"`
	AnnounceAt time.Time `json:"announceAt"`
}

// ParticipantRegistered opens stream participant-{participantId}. Phone is
// normalized (010-1234-5678); Name is trimmed with inner spaces collapsed.
type ParticipantRegistered struct {
	ParticipantID  uuid.UUID `json:"participantId"`
	EventID        uuid.UUID `json:"eventId"`
	EntryNumber    string    `json:"entryNumber"`
	Name           string    `json:"name"`
	Phone          string    `json:"phone"`
	EntryPath      EntryPath `json:"entryPath"`
	PrivacyConsent bool      `json:"privacyConsent"`
	Timestamp      time.Time `json:"timestamp"`
}

// StoreVisitRecorded follows ParticipantRegistered in the participant's stream.
type StoreVisitRecorded struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EventID       uuid.UUID `json:"eventId"`
	VisitedAt     time.Time `json:"visitedAt"`
}

// WinnersDrawn is the only event of stream draw-{eventId}: a draw is final.
// It carries everything needed to recompute the draw (see VerifyDraw).
type WinnersDrawn struct {
	DrawID           uuid.UUID `json:"drawId"`
	EventID          uuid.UUID `json:"eventId"`
	WinnerCount      int       `json:"winnerCount"`
	VisitBonus       bool      `json:"visitBonus"`
	VisitBonusWeight int       `json:"visitBonusWeight"`
	Algorithm        string    `json:"algorithm"`
	Seed             string    `json:"seed"` // 32 bytes, lower-case hex
	CandidateCount   int       `json:"candidateCount"`
	CandidatesDigest string    `json:"candidatesDigest"` // SHA-256, lower-case hex
	CutoffPosition   int64     `json:"cutoffPosition"`
	Winners          []Winner  `json:"winners"`
	DrawnAt          time.Time `json:"drawnAt"`
	DrawnBy          string    `json:"drawnBy"`
}

// Winner is one drawn participant; Rank is 1-based, in draw order.
type Winner struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	Rank          int       `json:"rank"`
}

func (CampaignOpened) EventType() string        { return TypeCampaignOpened }
func (ParticipantRegistered) EventType() string { return TypeParticipantRegistered }
func (StoreVisitRecorded) EventType() string    { return TypeStoreVisitRecorded }
func (WinnersDrawn) EventType() string          { return TypeWinnersDrawn }

func (e CampaignOpened) StreamID() string        { return CampaignStream(e.EventID) }
func (e ParticipantRegistered) StreamID() string { return ParticipantStream(e.ParticipantID) }
func (e StoreVisitRecorded) StreamID() string    { return ParticipantStream(e.ParticipantID) }
func (e WinnersDrawn) StreamID() string          { return DrawStream(e.EventID) }

// ErrUnknownEventType is returned by DecodeEvent for a type it does not know.
var ErrUnknownEventType = errors.New("unknown event type")

// DecodeEvent turns stored JSON into the event struct (a value, not a pointer)
// named by eventType. Unknown JSON fields are ignored, so that older code
// reads events written by newer code.
func DecodeEvent(eventType string, data []byte) (Event, error) {
	switch eventType {
	case TypeCampaignOpened:
		return decode[CampaignOpened](data)
	case TypeParticipantRegistered:
		return decode[ParticipantRegistered](data)
	case TypeStoreVisitRecorded:
		return decode[StoreVisitRecorded](data)
	case TypeWinnersDrawn:
		return decode[WinnersDrawn](data)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, eventType)
}

func decode[E Event](data []byte) (Event, error) {
	var e E
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", e.EventType(), err)
	}
	return e, nil
}

// CampaignStream is the stream of a campaign's CampaignOpened.
func CampaignStream(eventID uuid.UUID) string { return "campaign-" + eventID.String() }

// DrawStream is the stream of a campaign's WinnersDrawn. Appending to it with
// "no stream" expected is what makes a second draw fail.
func DrawStream(eventID uuid.UUID) string { return "draw-" + eventID.String() }

// ParticipantStream is the stream of one participant of one campaign.
func ParticipantStream(participantID uuid.UUID) string {
	return "participant-" + participantID.String()
}

// ParticipantID derives a participant's id from the campaign and the
// normalized phone with HMAC-SHA256 under key (PII_KEY): the same (campaign,
// phone) always gives the same stream, so a duplicate registration collides
// in the event store, while the id does not reveal the phone to anyone
// without the key. The first 16 bytes of the MAC become a UUID version 8
// (RFC 9562, custom) with the RFC variant bits.
func ParticipantID(key []byte, eventID uuid.UUID, normalizedPhone string) uuid.UUID {
	mac := hmac.New(sha256.New, key)
	mac.Write(eventID[:]) // fixed 16 bytes, so the concatenation is unambiguous
	mac.Write([]byte(normalizedPhone))
	var id uuid.UUID
	copy(id[:], mac.Sum(nil))
	id[6] = id[6]&0x0f | 0x80 // version 8
	id[8] = id[8]&0x3f | 0x80 // variant 10xx
	return id
}
