package domain

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Phone verification (PHONE_VERIFICATION=otp): a 6-digit code sent to the
// phone, asked for by registration, erase and claim.
const (
	// VerificationTTL is how long a code is accepted after it was sent.
	VerificationTTL = 3 * time.Minute
	// VerificationTries is how many wrong codes a code survives: the fifth
	// wrong one uses it up, and the right one is refused afterwards too.
	VerificationTries = 5
	// VerificationResendAfter is the least time between two codes for one
	// phone of one campaign.
	VerificationResendAfter = 60 * time.Second
	// VerificationCodeDigits is the length of a code.
	VerificationCodeDigits = 6
)

var (
	// ErrVerificationRequired: phone verification is on and the request
	// carries no code (400 VERIFICATION_REQUIRED).
	ErrVerificationRequired = errors.New("verification code required")
	// ErrVerificationFailed: the code is wrong, expired, used up or was
	// never sent (400 VERIFICATION_FAILED); the answer does not say which.
	ErrVerificationFailed = errors.New("verification failed")
	// ErrVerificationOff: a code was asked for while phone verification is
	// off (409 VERIFICATION_OFF).
	ErrVerificationOff = errors.New("phone verification is off")
)

// VerificationTooSoonError refuses a second code for the same phone within
// VerificationResendAfter (429 with Retry-After).
type VerificationTooSoonError struct {
	RetryAfter time.Duration // whole seconds, at least one
}

func (e *VerificationTooSoonError) Error() string {
	return fmt.Sprintf("a code was sent less than %s ago: retry after %s", VerificationResendAfter, e.RetryAfter)
}

// VerificationRetryAfter is how long to wait for the next code when the
// last one went out at sentAt; zero when one may be sent now.
func VerificationRetryAfter(sentAt, now time.Time) time.Duration {
	left := sentAt.Add(VerificationResendAfter).Sub(now)
	if left <= 0 {
		return 0
	}
	return max(left.Round(time.Second), time.Second)
}

// VerificationCodeRequestable reports whether a code may be asked for at
// now: from the campaign's start on, after the draw too (erase and claim
// need one), while the campaign exists.
func (c Campaign) VerificationCodeRequestable(now time.Time) error {
	if now.Before(c.StartsAt) {
		return ErrEventNotOpen
	}
	return nil
}

// NewVerificationCode draws a uniform 6-digit code from random.
func NewVerificationCode(random io.Reader) (string, error) {
	const space = 1_000_000
	// Rejection sampling: 2^32 is not a multiple of a million, so values in
	// the last partial block would favour small codes.
	const limit = (1 << 32) / space * space
	var b [4]byte
	for {
		if _, err := io.ReadFull(random, b[:]); err != nil {
			return "", fmt.Errorf("verification code: %w", err)
		}
		if v := binary.BigEndian.Uint32(b[:]); v < limit {
			return fmt.Sprintf("%06d", v%space), nil
		}
	}
}

// ValidVerificationCode reports whether s is spelled as a code: six ASCII digits.
func ValidVerificationCode(s string) bool {
	return len(s) == VerificationCodeDigits && asciiDigits(s)
}

// VerificationSubject is the key of a phone's codes for one campaign: an
// HMAC of (eventId, normalized phone), so that the table never holds a phone.
func VerificationSubject(key []byte, eventID uuid.UUID, normalizedPhone string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("subject:"))
	mac.Write(eventID[:]) // fixed 16 bytes: the concatenation is unambiguous
	mac.Write([]byte(normalizedPhone))
	return mac.Sum(nil)
}

// VerificationCodeMAC is what is kept of a code: an HMAC bound to its
// subject, so a code's MAC is worth nothing for another phone.
func VerificationCodeMAC(key, subject []byte, code string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("code:"))
	mac.Write(subject) // fixed 32 bytes
	mac.Write([]byte(code))
	return mac.Sum(nil)
}

// PhoneE164 writes a normalized phone (010-1234-5678) in E.164
// (+821012345678), as a message provider takes it.
func PhoneE164(normalizedPhone string) string {
	return "+82" + strings.TrimPrefix(strings.ReplaceAll(normalizedPhone, "-", ""), "0")
}
