package domain

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// publicRegistered is ParticipantRegistered as it may leave the event store
// (the Kafka topic): name and phone masked, always present, never pii. It
// defines the payload; PublicRegistered writes the same bytes by hand.
type publicRegistered struct {
	ParticipantID  string    `json:"participantId"`
	EventID        string    `json:"eventId"`
	EntryNumber    string    `json:"entryNumber"`
	Name           string    `json:"name"`
	Phone          string    `json:"phone"`
	EntryPath      EntryPath `json:"entryPath"`
	PrivacyConsent bool      `json:"privacyConsent"`
	Timestamp      time.Time `json:"timestamp"`
	ListedName     string    `json:"listedName"`
}

// PublicRegistered is the registration's public JSON: pd masked, as every
// reader downstream shows it, and the name masked once more as a published
// winners list shows it (listedName: MaskListedName keeps the last letter
// too, so only here, where the raw name is open, can it be computed). An erased participant's pd is empty, and so
// are its masked values.
//
// The relay writes one per registration it publishes: the bytes are
// appended by hand (what encoding/json gives for publicRegistered, which
// a test checks), as reflection was a fifth of the relay's CPU.
func PublicRegistered(e ParticipantRegistered, pd PersonalData) ([]byte, error) {
	b := make([]byte, 0, 320) // a registration's is about 270 bytes
	b = append(b, `{"participantId":`...)
	b = appendQuotedUUID(b, e.ParticipantID)
	b = append(b, `,"eventId":`...)
	b = appendQuotedUUID(b, e.EventID)
	b = append(b, `,"entryNumber":`...)
	b = appendString(b, e.EntryNumber)
	b = append(b, `,"name":`...)
	b = appendString(b, MaskName(pd.Name))
	b = append(b, `,"phone":`...)
	b = appendString(b, MaskPhone(pd.Phone))
	b = append(b, `,"entryPath":`...)
	b = appendString(b, string(e.EntryPath))
	b = append(b, `,"privacyConsent":`...)
	if e.PrivacyConsent {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	b = append(b, `,"timestamp":`...)
	ts, err := e.Timestamp.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("public payload: %w", err)
	}
	b = append(b, ts...)
	b = append(b, `,"listedName":`...)
	b = appendString(b, MaskListedName(pd.Name))
	return append(b, '}'), nil
}

// appendQuotedUUID is the canonical form in quotes (appendUUID: draw_sort.go).
func appendQuotedUUID(b []byte, id uuid.UUID) []byte {
	b = append(b, '"')
	return append(appendUUID(b, id), '"')
}

// appendString quotes s as encoding/json does: a string with nothing to
// escape is copied, any other goes through encoding/json itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendEscaped(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			return appendEscaped(b, s)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendEscaped(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
