package projections

import (
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// A rebuild decodes a million registrations; encoding/json spends about
// 5 µs on each. The store keeps data as jsonb, whose text is canonical
// (no duplicate keys, no insignificant surprises), so the common shape is
// scanned here directly. Anything unusual — an unknown or differently
// cased key, an escape, a null, a value of another type — falls back to
// domain.DecodeEvent, so both give the same event or the same failure
// (rebuild_decode_test.go checks that).

// registration is a ParticipantRegistered as the participants read model
// needs it; the byte slices point into the event's data.
type registration struct {
	participantID, eventID  uuid.UUID
	entryNumber, name, path []byte
	phone                   []byte
	timestamp               time.Time
}

// visit is a StoreVisitRecorded.
type visit struct {
	participantID, eventID uuid.UUID
}

func decodeRegistration(data []byte) (registration, error) {
	if r, ok := fastRegistration(data); ok {
		return r, nil
	}
	ev, err := domain.DecodeEvent(domain.TypeParticipantRegistered, data)
	if err != nil {
		return registration{}, err
	}
	reg := ev.(domain.ParticipantRegistered)
	return registration{
		participantID: reg.ParticipantID, eventID: reg.EventID, entryNumber: []byte(reg.EntryNumber),
		name: []byte(reg.Name), phone: []byte(reg.Phone), path: []byte(reg.EntryPath), timestamp: reg.Timestamp,
	}, nil
}

func decodeVisit(data []byte) (visit, error) {
	if v, ok := fastVisit(data); ok {
		return v, nil
	}
	ev, err := domain.DecodeEvent(domain.TypeStoreVisitRecorded, data)
	if err != nil {
		return visit{}, err
	}
	v := ev.(domain.StoreVisitRecorded)
	return visit{participantID: v.ParticipantID, eventID: v.EventID}, nil
}

func fastRegistration(data []byte) (r registration, ok bool) {
	ok = scanObject(data, func(key, val, quoted []byte, str bool) bool {
		switch string(key) {
		case "participantId":
			return str && parseUUID(val, &r.participantID)
		case "eventId":
			return str && parseUUID(val, &r.eventID)
		case "entryNumber":
			r.entryNumber = val
		case "name":
			r.name = val
		case "phone":
			r.phone = val
		case "entryPath":
			r.path = val
		case "privacyConsent":
			return !str && (string(val) == "true" || string(val) == "false")
		case "timestamp":
			return str && parseTime(quoted, &r.timestamp)
		default:
			return false
		}
		// encoding/json would replace invalid UTF-8; jsonb never holds any
		return str && utf8.Valid(val)
	})
	return r, ok
}

func fastVisit(data []byte) (v visit, ok bool) {
	ok = scanObject(data, func(key, val, quoted []byte, str bool) bool {
		switch string(key) {
		case "participantId":
			return str && parseUUID(val, &v.participantID)
		case "eventId":
			return str && parseUUID(val, &v.eventID)
		case "visitedAt":
			var t time.Time
			return str && parseTime(quoted, &t)
		}
		return false
	})
	return v, ok
}

func parseUUID(b []byte, dst *uuid.UUID) bool {
	id, err := uuid.ParseBytes(b)
	*dst = id
	return err == nil
}

// parseTime is what encoding/json does with a time.Time: UnmarshalJSON on
// the quoted value.
func parseTime(quoted []byte, dst *time.Time) bool { return dst.UnmarshalJSON(quoted) == nil }

// scanObject walks a flat JSON object, calling fn with each key and value:
// a string's value is its content without the quotes (quoted: with them),
// another value its literal. It fails (and fn may fail it) on anything but a flat object of
// strings and literals without escapes.
func scanObject(d []byte, fn func(key, val, quoted []byte, str bool) bool) bool {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return false
	}
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return skipSpace(d, i+1) == len(d)
	}
	for {
		key, next, ok := scanString(d, i)
		if !ok {
			return false
		}
		i = skipSpace(d, next)
		if i >= len(d) || d[i] != ':' {
			return false
		}
		i = skipSpace(d, i+1)
		var (
			val, quoted []byte
			str         bool
		)
		if i < len(d) && d[i] == '"' {
			if val, next, ok = scanString(d, i); !ok {
				return false
			}
			str, quoted, i = true, d[i:next], next
		} else {
			start := i
			for i < len(d) && (d[i] >= 'a' && d[i] <= 'z' || d[i] >= '0' && d[i] <= '9' || d[i] == '-' || d[i] == '.' || d[i] == '+' || d[i] == 'E') {
				i++
			}
			if val = d[start:i]; len(val) == 0 || string(val) == "null" {
				return false
			}
		}
		if !fn(key, val, quoted, str) {
			return false
		}
		i = skipSpace(d, i)
		if i >= len(d) {
			return false
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case '}':
			return skipSpace(d, i+1) == len(d)
		default:
			return false
		}
	}
}

// scanString returns the content of the string starting at d[i] and the
// index after its closing quote; it fails on escapes and control bytes.
func scanString(d []byte, i int) ([]byte, int, bool) {
	if i >= len(d) || d[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(d); j++ {
		switch c := d[j]; {
		case c == '"':
			return d[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// appendMaskedName is domain.MaskName without the allocations.
func appendMaskedName(dst, name []byte) []byte {
	first, size := utf8.DecodeRune(name)
	if size == 0 {
		return dst
	}
	dst = utf8.AppendRune(dst, first)
	for range utf8.RuneCount(name[size:]) {
		dst = append(dst, '*')
	}
	return dst
}

// appendMaskedPhone is domain.MaskPhone, fast for a normalized phone.
func appendMaskedPhone(dst, phone []byte) []byte {
	if len(phone) == 13 && string(phone[:4]) == "010-" && phone[8] == '-' && digits(phone[4:8]) && digits(phone[9:]) {
		return append(append(dst, "010-****-"...), phone[9:]...)
	}
	return append(dst, domain.MaskPhone(string(phone))...)
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
