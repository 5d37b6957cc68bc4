package domain

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"
)

// decodeRegistered reads a ParticipantRegistered as the store and the topic
// hold it (flat, no escapes: what json.Marshal and jsonb write for it) with
// no reflection; the relay, the projectors and the rebuild decode one per
// registration, and encoding/json's reflection was most of the relay's
// decoding CPU. ok is false for anything else — an escape, an unknown or
// repeated key, a null, invalid UTF-8 — and DecodeEvent then hands the
// bytes to encoding/json, which stays the definition (a fuzz test holds
// the two to the same answers).
func decodeRegistered(data []byte) (e ParticipantRegistered, ok bool) {
	d := scanner{b: data}
	if !d.byte('{') {
		return e, false
	}
	var seen uint16
	if d.peek() == '}' {
		d.i++
		return e, d.end()
	}
	for {
		key, ok := d.str()
		if !ok || !d.byte(':') {
			return e, false
		}
		var bit uint16
		switch string(key) {
		case "participantId", "eventId":
			bit = 1
			if key[0] == 'e' {
				bit = 2
			}
			v, ok := d.str()
			if !ok {
				return e, false
			}
			id, err := uuid.ParseBytes(v)
			if err != nil {
				return e, false
			}
			if bit == 1 {
				e.ParticipantID = id
			} else {
				e.EventID = id
			}
		case "entryNumber", "pii", "name", "phone", "entryPath", "listedName":
			v, ok := d.str()
			if !ok {
				return e, false
			}
			switch string(key) {
			case "entryNumber":
				bit, e.EntryNumber = 4, string(v)
			case "pii":
				bit, e.PII = 8, string(v)
			case "name":
				bit, e.Name = 16, string(v)
			case "phone":
				bit, e.Phone = 32, string(v)
			case "listedName":
				bit, e.ListedName = 512, string(v)
			default:
				bit, e.EntryPath = 64, EntryPath(v)
			}
		case "privacyConsent":
			bit = 128
			switch {
			case d.literal("true"):
				e.PrivacyConsent = true
			case d.literal("false"):
			default:
				return e, false
			}
		case "timestamp":
			bit = 256
			start := d.skipSpace()
			if _, ok := d.str(); !ok {
				return e, false
			}
			if err := e.Timestamp.UnmarshalJSON(data[start:d.i]); err != nil {
				return e, false
			}
		default:
			return e, false
		}
		if seen&bit != 0 {
			return e, false
		}
		seen |= bit
		switch {
		case d.byte(','):
		case d.byte('}'):
			return e, d.end()
		default:
			return e, false
		}
	}
}

// scanner walks the few JSON shapes decodeRegistered accepts.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) skipSpace() int {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return s.i
		}
	}
	return s.i
}

func (s *scanner) peek() byte {
	if s.skipSpace() < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) byte(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	s.skipSpace()
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// str reads a string without escapes or control characters, valid UTF-8.
func (s *scanner) str() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, utf8.Valid(v)
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

func (s *scanner) end() bool { return s.skipSpace() == len(s.b) }

// DecodePersonalData reads sealed personal data (json.Marshal of
// PersonalData) as encoding/json would, through decodeRegistered's reader
// when it can: its name and phone fields are the same.
func DecodePersonalData(data []byte) (PersonalData, error) {
	if e, ok := decodeRegistered(data); ok {
		return e.Personal(), nil
	}
	var pd PersonalData
	if err := json.Unmarshal(data, &pd); err != nil {
		return PersonalData{}, fmt.Errorf("decode personal data: %w", err)
	}
	return pd, nil
}
