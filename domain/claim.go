package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Claim refusals (409).
var (
	ErrAlreadyClaimed = errors.New("prize already claimed")
	ErrClaimClosed    = errors.New("claim deadline passed")
)

// ClaimClaimed is the claim state of a winner who claimed.
const ClaimClaimed = "CLAIMED"

// Address limits of a delivery.
const (
	AddressMaxLength = 200
	postcodeLength   = 5
)

// Delivery is where a winner wants the prize sent: personal data, sealed
// under the participant's data key before it is stored.
type Delivery struct {
	RecipientName string `json:"recipientName"`
	Postcode      string `json:"postcode"`
	Address1      string `json:"address1"`
	Address2      string `json:"address2,omitempty"`
}

// NewDelivery validates and normalizes a claim's delivery details: the
// recipient's name follows the participant name rule, the postcode is 5
// ASCII digits, address1 1–200 characters, address2 at most 200, no
// invisible format characters anywhere, and consent must be given.
func NewDelivery(in Delivery, consent bool) (Delivery, error) {
	var v validation
	name, err := NormalizeName(in.RecipientName)
	if err != nil {
		v.addErr("recipientName", err)
	}
	postcode := in.Postcode
	if len(postcode) != postcodeLength || !asciiDigits(postcode) {
		v.add("postcode", "The postcode must be 5 digits.")
	}
	a1, reason := address(in.Address1, 1)
	if reason != "" {
		v.add("address1", reason)
	}
	a2, reason := address(in.Address2, 0)
	if reason != "" {
		v.add("address2", reason)
	}
	if !consent {
		v.add("deliveryConsent", "Consent to the use of the delivery details is required.")
	}
	if err := v.err(); err != nil {
		return Delivery{}, err
	}
	return Delivery{RecipientName: name, Postcode: postcode, Address1: a1, Address2: a2}, nil
}

// address checks one address line: minLen..200 characters once trimmed, none
// a control or format character (invisible in the owner's view), and, for
// a required line, one that is not white space. The line is kept trimmed.
// reason is the field error, empty when the line is valid.
func address(s string, minLen int) (line, reason string) {
	if !utf8.ValidString(s) {
		return "", "The address must be valid text."
	}
	if hasFormatChar(s) {
		return "", "The address " + formatReason
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", "The address must not contain control characters."
	}
	// Counted once trimmed, as the line is kept (and as the spec's pattern
	// can say it: white space around the line is not part of its length).
	s = strings.TrimSpace(s)
	if minLen > 0 && s == "" {
		return "", "The address must not be only white space."
	}
	if n := utf8.RuneCountInString(s); n > AddressMaxLength {
		return "", fmt.Sprintf("The address must be at most %d characters, white space around it aside.", AddressMaxLength)
	}
	return s, ""
}

// Claim decides a winner's claim at now with the sealed delivery: not a
// winner (alternates included) or erased is ErrParticipantNotFound, as a
// mismatch; a second claim ErrAlreadyClaimed; from deadline on
// ErrClaimClosed.
func (p Participant) Claim(won bool, deadline, now time.Time, sealed string) (PrizeClaimed, error) {
	if !won || p.Erased {
		return PrizeClaimed{}, ErrParticipantNotFound
	}
	if !p.ClaimedAt.IsZero() {
		return PrizeClaimed{}, ErrAlreadyClaimed
	}
	if !now.Before(deadline) {
		return PrizeClaimed{}, ErrClaimClosed
	}
	return PrizeClaimed{ParticipantID: p.ID, EventID: p.EventID, Delivery: sealed, ClaimedAt: now.UTC()}, nil
}
