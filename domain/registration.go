package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Name length bounds, in Unicode characters after normalization.
const (
	NameMinLength = 2
	NameMaxLength = 50
)

// RegistrationInput is a customer's registration as typed.
type RegistrationInput struct {
	Name           string
	Phone          string
	EntryPath      string
	PrivacyConsent bool
}

// Registration is a validated, normalized RegistrationInput.
type Registration struct {
	Name      string
	Phone     string // 010-1234-5678
	EntryPath EntryPath
}

// NewRegistration validates and normalizes every field of in and reports
// all failures together in one *ValidationError (wrapping ErrInvalid).
func NewRegistration(in RegistrationInput) (Registration, error) {
	var (
		v   validation
		reg Registration
		err error
	)
	if reg.Name, err = NormalizeName(in.Name); err != nil {
		v.addErr("name", err)
	}
	if reg.Phone, err = NormalizePhone(in.Phone); err != nil {
		v.addErr("phone", err)
	}
	if reg.EntryPath, err = ParseEntryPath(in.EntryPath); err != nil {
		v.addErr("entryPath", err)
	}
	if !in.PrivacyConsent {
		v.add("privacyConsent", "Consent to the collection of personal data is required.")
	}
	if err := v.err(); err != nil {
		return Registration{}, err
	}
	return reg, nil
}

// Register decides a registration to campaign c at now: first the input
// (a *ValidationError with every failed field), then ErrEventNotOpen when
// c is not open at now. The participant id is ParticipantID(participantKey,
// c.ID, phone), so a duplicate collides on its stream, which the caller
// appends with "no stream" expected and maps to ErrAlreadyParticipated.
// entryNumber comes from NewEntryNumber.
func (c Campaign) Register(in RegistrationInput, now time.Time, participantKey []byte, entryNumber string) (ParticipantRegistered, error) {
	if len(participantKey) == 0 {
		return ParticipantRegistered{}, errors.New("register: empty participant key")
	}
	if canonical, ok := ParseEntryNumber(entryNumber); !ok || canonical != entryNumber {
		return ParticipantRegistered{}, fmt.Errorf("register: malformed entry number %q", entryNumber)
	}
	reg, err := NewRegistration(in)
	if err != nil {
		return ParticipantRegistered{}, err
	}
	if err := c.CheckOpen(now); err != nil {
		return ParticipantRegistered{}, err
	}
	return ParticipantRegistered{
		ParticipantID:  ParticipantID(participantKey, c.ID, reg.Phone),
		EventID:        c.ID,
		EntryNumber:    entryNumber,
		Name:           reg.Name,
		Phone:          reg.Phone,
		EntryPath:      reg.EntryPath,
		PrivacyConsent: true,
		Timestamp:      now.UTC(),
	}, nil
}

// NormalizeName trims the name and collapses runs of inner white space to one
// space. It accepts letters of any script (Hangul, Latin, ...), combining
// marks after a letter, and inner spaces; the result is 2–50 characters.
// Digits, punctuation, symbols (emoji), control and invisible characters are
// rejected: the contract allows letters and inner spaces only, so "O'Brien"
// or "Jean-Luc" must be typed without the punctuation.
func NormalizeName(s string) (string, error) {
	const lettersOnly = "The name may contain only letters and spaces."
	if !utf8.ValidString(s) {
		return "", invalid("name", lettersOnly)
	}
	// NFC first: decomposed Hangul (김 as ᄀ+ᅵ+ᆷ) counts and is stored as the
	// syllables a person sees, and one name has one spelling.
	s = norm.NFC.String(strings.TrimFunc(s, unicode.IsSpace))
	if hasFormatChar(s) { // said apart from other non-letters: invisible in the form
		return "", invalid("name", "The name "+formatReason)
	}
	var (
		b     strings.Builder
		n     int
		space bool
		prev  rune
	)
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r): // Hangul fillers: invisible letters
			return "", invalid("name", lettersOnly)
		case unicode.IsLetter(r):
		case unicode.Is(unicode.M, r) && prev != 0 && !space: // a mark combines with the letter before it
		default:
			return "", invalid("name", lettersOnly)
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
		prev = r
		if n > NameMaxLength {
			break
		}
	}
	if n < NameMinLength || n > NameMaxLength {
		return "", invalid("name", fmt.Sprintf("The name must be %d to %d characters.", NameMinLength, NameMaxLength))
	}
	return b.String(), nil
}

// NormalizePhone accepts a Korean mobile number, 010 and 8 digits, written
// 010-1234-5678, 01012345678 or 010 1234 5678 (surrounding white space is
// ignored), and returns it as 010-1234-5678. Mixed separators
// ("010-1234 5678"), other prefixes, other lengths and non-ASCII digits are
// rejected: the contract names exactly these three spellings.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	var digits string
	switch len(s) {
	case 11:
		digits = s
	case 13:
		if sep := s[3]; (sep == '-' || sep == ' ') && s[8] == sep {
			digits = s[:3] + s[4:8] + s[9:]
		}
	}
	if len(digits) != 11 || !strings.HasPrefix(digits, "010") || !asciiDigits(digits) {
		return "", invalid("phone", "The phone must be a mobile number like 010-1234-5678.")
	}
	return digits[:3] + "-" + digits[3:7] + "-" + digits[7:], nil
}

func asciiDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// EntryPath is the channel a customer came from (참여경로), upper case.
type EntryPath string

const (
	EntryPathWooridongneTV EntryPath = "WOORIDONGNE_TV"
	EntryPathRingoBiz      EntryPath = "RINGO_BIZ"
	EntryPathInstagram     EntryPath = "INSTAGRAM"
	EntryPathNaverBlog     EntryPath = "NAVER_BLOG"
	EntryPathKakao         EntryPath = "KAKAO"
	EntryPathSNSOther      EntryPath = "SNS_OTHER"
	EntryPathStoreQR       EntryPath = "STORE_QR"
	EntryPathOther         EntryPath = "OTHER"
)

// EntryPaths lists every entry path in the contract's order. Do not modify.
var EntryPaths = []EntryPath{
	EntryPathWooridongneTV, EntryPathRingoBiz, EntryPathInstagram, EntryPathNaverBlog,
	EntryPathKakao, EntryPathSNSOther, EntryPathStoreQR, EntryPathOther,
}

var entryPathLabels = map[EntryPath]string{
	EntryPathWooridongneTV: "우리동네TV",
	EntryPathRingoBiz:      "링고비즈",
	EntryPathInstagram:     "Instagram",
	EntryPathNaverBlog:     "네이버 블로그",
	EntryPathKakao:         "카카오",
	EntryPathSNSOther:      "기타 SNS",
	EntryPathStoreQR:       "매장 QR",
	EntryPathOther:         "기타",
}

// Label is the entry path's display name, e.g. "우리동네TV"; "" when unknown.
func (p EntryPath) Label() string { return entryPathLabels[p] }

// ParseEntryPath accepts an entry path in any letter case, with surrounding
// white space, and returns it upper case.
func ParseEntryPath(s string) (EntryPath, error) {
	s = strings.TrimSpace(s)
	up := []byte(s)
	for i, c := range up {
		if 'a' <= c && c <= 'z' {
			up[i] = c - ('a' - 'A') // ASCII only: "ınstagram" must not become INSTAGRAM
		}
	}
	p := EntryPath(up)
	if _, ok := entryPathLabels[p]; !ok {
		return "", invalid("entryPath", "The entry path must be one of "+entryPathList()+".")
	}
	return p, nil
}

func entryPathList() string {
	names := make([]string, len(EntryPaths))
	for i, p := range EntryPaths {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}
