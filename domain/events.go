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
	TypeDrawCommitted         = "DrawCommitted"
	TypeWinnersDrawn          = "WinnersDrawn"
	TypeParticipantErased     = "ParticipantErased"
	TypeWinnerContactRevealed = "WinnerContactRevealed"
	TypePrizeClaimed          = "PrizeClaimed"
	TypeDeliveryRevealed      = "DeliveryRevealed"
)

// SchemaVersion is the schema version of the events this package writes,
// except ParticipantRegistered (see SchemaVersionOf).
const SchemaVersion = 1

// RegistrationSchemaVersion is ParticipantRegistered's current schema: 2
// keeps name and phone only sealed in pii; 1 held them in clear (upcast on
// read, rewritten once by migrate).
const RegistrationSchemaVersion = 2

// SchemaVersionOf is the schema version this package writes for eventType.
func SchemaVersionOf(eventType string) int {
	if eventType == TypeParticipantRegistered {
		return RegistrationSchemaVersion
	}
	return SchemaVersion
}

// ParticipantIDScheme says which key derives a campaign's participant ids.
// Campaigns opened before PII_KEY was split by HKDF (scheme 0, the field
// absent) keep the HMAC under PII_KEY itself, so their streams, and with
// them the one-registration-per-phone rule, stay as they were; campaigns
// opened before per-campaign keys keep the key derived from PII_KEY
// (scheme 1). Since then (scheme 2) each campaign has a random key of its
// own, destroyed after its last retention: then no phone can be linked to
// an id of the log, even with PII_KEY.
const (
	ParticipantIDLegacy      = 0
	ParticipantIDDerived     = 1
	ParticipantIDCampaignKey = 2
)

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
	// ParticipantIDScheme is ParticipantIDCampaignKey for campaigns opened
	// since per-campaign keys, ParticipantIDDerived for those opened since
	// the key split; absent (legacy) before.
	ParticipantIDScheme int `json:"participantIdScheme,omitempty"`
	// ClaimDeadline ends the winners' claims. Campaigns opened before it
	// existed have none stored and decode with the default (ClaimWindow).
	ClaimDeadline time.Time `json:"claimDeadline,omitzero"`
}

// ParticipantRegistered opens stream participant-{participantId}.
//
// In the store (schema 2) name and phone exist only sealed in PII. Name and
// Phone hold them in clear only in memory between the domain's decision and
// sealing, in an upcast schema-1 event before migrate rewrites it, and, on
// the topic, as the masked values. Phone is normalized (010-1234-5678); Name
// is trimmed with inner spaces collapsed.
type ParticipantRegistered struct {
	ParticipantID  uuid.UUID `json:"participantId"`
	EventID        uuid.UUID `json:"eventId"`
	EntryNumber    string    `json:"entryNumber"`
	PII            string    `json:"pii,omitempty"`
	Name           string    `json:"name,omitempty"`
	Phone          string    `json:"phone,omitempty"`
	EntryPath      EntryPath `json:"entryPath"`
	PrivacyConsent bool      `json:"privacyConsent"`
	Timestamp      time.Time `json:"timestamp"`
	// ListedName is only on the public form: the name as a published
	// winners list shows it (MaskListedName), which needs the raw name's
	// last letter, so the privacy boundary computes it. Never stored.
	ListedName string `json:"listedName,omitempty"`
}

// PersonalData is what ParticipantRegistered.PII seals.
type PersonalData struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// Personal returns the event's clear personal data (see ParticipantRegistered).
func (e ParticipantRegistered) Personal() PersonalData {
	return PersonalData{Name: e.Name, Phone: e.Phone}
}

// Sealed is the event as stored: pii set, no name or phone in clear.
func (e ParticipantRegistered) Sealed(pii string) ParticipantRegistered {
	e.PII, e.Name, e.Phone, e.ListedName = pii, "", "", ""
	return e
}

// Erasure reasons.
const (
	ErasedOnRequest   = "REQUEST"
	ErasedByRetention = "RETENTION"
)

// ParticipantErased records that a participant's personal data was
// destroyed (its data key deleted), never what it was. ErasedBy is the
// owner id, "customer" or "retention".
type ParticipantErased struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EventID       uuid.UUID `json:"eventId"`
	Reason        string    `json:"reason"`
	ErasedAt      time.Time `json:"erasedAt"`
	ErasedBy      string    `json:"erasedBy"`
}

// WinnerContactRevealed records that the owner saw a winner's unmasked
// name and phone, for delivering the prize.
type WinnerContactRevealed struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EventID       uuid.UUID `json:"eventId"`
	RevealedBy    string    `json:"revealedBy"`
	RevealedAt    time.Time `json:"revealedAt"`
}

// PrizeClaimed records a winner's claim: Delivery is the delivery details
// sealed under the participant's own data key (privacy.Keys.SealDelivery),
// so the participant's erasure shreds them with the name and phone.
type PrizeClaimed struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EventID       uuid.UUID `json:"eventId"`
	Delivery      string    `json:"delivery"`
	ClaimedAt     time.Time `json:"claimedAt"`
}

// DeliveryRevealed records that the owner saw a winner's delivery details
// (opened from PrizeClaimed), for sending the prize; never what they were.
type DeliveryRevealed struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EventID       uuid.UUID `json:"eventId"`
	RevealedBy    string    `json:"revealedBy"`
	RevealedAt    time.Time `json:"revealedAt"`
}

// StoreVisitRecorded follows ParticipantRegistered in the participant's stream.
type StoreVisitRecorded struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EventID       uuid.UUID `json:"eventId"`
	VisitedAt     time.Time `json:"visitedAt"`
}

// DrawCommitted opens a v2 draw's stream draw-{eventId}: the candidates
// fixed by their Merkle root and count at the cut-off, before any
// randomness is known. Registration is closed from here on.
type DrawCommitted struct {
	DrawID           uuid.UUID      `json:"drawId"`
	EventID          uuid.UUID      `json:"eventId"`
	Algorithm        string         `json:"algorithm"`
	WinnerCount      int            `json:"winnerCount"`
	AlternateCount   int            `json:"alternateCount"`
	VisitBonus       bool           `json:"visitBonus"`
	VisitBonusWeight int            `json:"visitBonusWeight"`
	CutoffPosition   int64          `json:"cutoffPosition"`
	CandidateCount   int            `json:"candidateCount"`
	CandidatesRoot   string         `json:"candidatesRoot"` // RFC 6962 root, lower-case hex
	Randomness       DrawRandomness `json:"randomness"`
	CommittedAt      time.Time      `json:"committedAt"`
	CommittedBy      string         `json:"committedBy"`
}

// DrawRandomness names where a committed draw's seed comes from: "local"
// (the operator's crypto/rand) or "drand" (a named round of a named chain).
type DrawRandomness struct {
	Source    string `json:"source"`
	ChainHash string `json:"chainHash,omitempty"`
	Round     uint64 `json:"round,omitempty"`
}

// DrawBeacon is the drand round a draw's seed was derived from.
type DrawBeacon struct {
	Round      uint64 `json:"round"`
	Signature  string `json:"signature"`  // hex
	Randomness string `json:"randomness"` // hex
	// PreviousSignature is kept for a chained scheme (drand's mainnet
	// default), whose signature covers it: verify needs it offline.
	PreviousSignature string `json:"previousSignature,omitempty"` // hex
}

// WinnersDrawn is a draw's result. A v1 draw (chacha8-fisher-yates-v1,
// chacha8-weighted-v1) is this event alone, with candidatesDigest; a v2
// draw follows its DrawCommitted, repeats the commit's options and counts
// for readers of this event alone, and adds the alternates and, for drand,
// the beacon. It carries everything needed to recompute the draw (see
// VerifyDraw, VerifyDrawV2).
type WinnersDrawn struct {
	DrawID           uuid.UUID   `json:"drawId"`
	EventID          uuid.UUID   `json:"eventId"`
	WinnerCount      int         `json:"winnerCount"`
	VisitBonus       bool        `json:"visitBonus"`
	VisitBonusWeight int         `json:"visitBonusWeight"`
	Algorithm        string      `json:"algorithm"`
	Seed             string      `json:"seed"` // 32 bytes, lower-case hex
	Beacon           *DrawBeacon `json:"beacon,omitempty"`
	CandidateCount   int         `json:"candidateCount"`
	CandidatesDigest string      `json:"candidatesDigest,omitempty"` // v1: SHA-256, lower-case hex
	CutoffPosition   int64       `json:"cutoffPosition"`
	Winners          []Winner    `json:"winners"`
	Alternates       []Winner    `json:"alternates,omitempty"` // v2; ranks 1..alternateCount
	// v2: the winners' and alternates' leaf indices by rank, what the public
	// certificate names them by (it holds no entry number).
	WinnerLeaves    []int     `json:"winnerLeaves,omitempty"`
	AlternateLeaves []int     `json:"alternateLeaves,omitempty"`
	DrawnAt         time.Time `json:"drawnAt"`
	DrawnBy         string    `json:"drawnBy"`
}

// Winner is one drawn participant; Rank is 1-based, in draw order.
type Winner struct {
	ParticipantID uuid.UUID `json:"participantId"`
	EntryNumber   string    `json:"entryNumber"`
	Rank          int       `json:"rank"`
	// Only on the public form (privacy.Publicizer adds them on publishing;
	// the stored event never has them): the registration's name and phone
	// masked (MaskName, MaskPhone) and the name as a published list shows
	// it (MaskListedName); empty once erased. The read models take them as
	// they come, so the projectors need no key to open a registration.
	Name       string `json:"name,omitempty"`
	Phone      string `json:"phone,omitempty"`
	ListedName string `json:"listedName,omitempty"`
}

func (CampaignOpened) EventType() string        { return TypeCampaignOpened }
func (ParticipantRegistered) EventType() string { return TypeParticipantRegistered }
func (StoreVisitRecorded) EventType() string    { return TypeStoreVisitRecorded }
func (WinnersDrawn) EventType() string          { return TypeWinnersDrawn }
func (DrawCommitted) EventType() string         { return TypeDrawCommitted }
func (ParticipantErased) EventType() string     { return TypeParticipantErased }
func (WinnerContactRevealed) EventType() string { return TypeWinnerContactRevealed }
func (PrizeClaimed) EventType() string          { return TypePrizeClaimed }
func (DeliveryRevealed) EventType() string      { return TypeDeliveryRevealed }

func (e CampaignOpened) StreamID() string        { return CampaignStream(e.EventID) }
func (e ParticipantRegistered) StreamID() string { return ParticipantStream(e.ParticipantID) }
func (e StoreVisitRecorded) StreamID() string    { return ParticipantStream(e.ParticipantID) }
func (e WinnersDrawn) StreamID() string          { return DrawStream(e.EventID) }
func (e DrawCommitted) StreamID() string         { return DrawStream(e.EventID) }
func (e ParticipantErased) StreamID() string     { return ParticipantStream(e.ParticipantID) }
func (e WinnerContactRevealed) StreamID() string { return ParticipantStream(e.ParticipantID) }
func (e PrizeClaimed) StreamID() string          { return ParticipantStream(e.ParticipantID) }
func (e DeliveryRevealed) StreamID() string      { return ParticipantStream(e.ParticipantID) }

// ErrUnknownEventType is returned by DecodeEvent for a type it does not know.
var ErrUnknownEventType = errors.New("unknown event type")

// DecodeEvent turns stored JSON into the event struct (a value, not a pointer)
// named by eventType. Unknown JSON fields are ignored, so that older code
// reads events written by newer code.
func DecodeEvent(eventType string, data []byte) (Event, error) {
	switch eventType {
	case TypeCampaignOpened:
		return decodeCampaignOpened(data)
	case TypeParticipantRegistered:
		if e, ok := decodeRegistered(data); ok {
			return e, nil
		}
		return decode[ParticipantRegistered](data)
	case TypeStoreVisitRecorded:
		return decode[StoreVisitRecorded](data)
	case TypeWinnersDrawn:
		return decode[WinnersDrawn](data)
	case TypeDrawCommitted:
		return decode[DrawCommitted](data)
	case TypeParticipantErased:
		return decode[ParticipantErased](data)
	case TypeWinnerContactRevealed:
		return decode[WinnerContactRevealed](data)
	case TypePrizeClaimed:
		return decode[PrizeClaimed](data)
	case TypeDeliveryRevealed:
		return decode[DeliveryRevealed](data)
	case TypeNotificationSent:
		return decode[NotificationSent](data)
	case TypeNotificationFailed:
		return decode[NotificationFailed](data)
	case TypeWinnerReplaced:
		return decode[WinnerReplaced](data)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, eventType)
}

// DecodeStored is DecodeEvent for a stored event of the given schema
// version: the upcaster. A schema-1 ParticipantRegistered comes up with its
// clear name and phone and no pii (Unsealed is true) until migrate rewrites
// it; a schema-2 one with pii only, whatever else its data holds.
func DecodeStored(eventType string, schemaVersion int, data []byte) (Event, error) {
	e, err := DecodeEvent(eventType, data)
	if err != nil {
		return nil, err
	}
	if reg, ok := e.(ParticipantRegistered); ok {
		if schemaVersion < RegistrationSchemaVersion {
			reg.PII = ""
		} else {
			reg.Name, reg.Phone = "", ""
		}
		return reg, nil
	}
	return e, nil
}

// Unsealed reports a registration whose personal data is still in clear (a
// schema-1 event not yet rewritten).
func (e ParticipantRegistered) Unsealed() bool { return e.PII == "" && (e.Name != "" || e.Phone != "") }

func decode[E Event](data []byte) (Event, error) {
	var e E
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", e.EventType(), err)
	}
	return e, nil
}

// CampaignStream is the stream of a campaign's CampaignOpened.
func CampaignStream(eventID uuid.UUID) string { return "campaign-" + eventID.String() }

// DrawStream is the stream of a campaign's draw (DrawCommitted, WinnersDrawn,
// then its WinnerReplaced). Appending to it with
// "no stream" expected is what makes a second draw fail.
func DrawStream(eventID uuid.UUID) string { return "draw-" + eventID.String() }

// ParticipantStream is the stream of one participant of one campaign.
func ParticipantStream(participantID uuid.UUID) string {
	return "participant-" + participantID.String()
}

// ParticipantID derives a participant's id from the campaign and the
// normalized phone with HMAC-SHA256 under key (the campaign's own key, or
// one from PII_KEY for campaigns opened before those): the same (campaign,
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
