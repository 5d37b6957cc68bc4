package domain

import (
	"errors"
	"strings"
)

// Sentinel errors. The api package maps each to one HTTP status and code.
var (
	// ErrInvalid is the wrap target of every input validation failure (400).
	// A *ValidationError says which fields failed and why.
	ErrInvalid = errors.New("invalid input")

	ErrEventNotOpen        = errors.New("event not open")        // 409 EVENT_NOT_OPEN
	ErrAlreadyParticipated = errors.New("already participated")  // 409 ALREADY_PARTICIPATED
	ErrAlreadyDrawn        = errors.New("winners already drawn") // 409 ALREADY_DRAWN
	ErrCampaignExists      = errors.New("event already exists")  // 409 EVENT_EXISTS
	ErrCampaignNotFound    = errors.New("event not found")       // 404
	ErrParticipantNotFound = errors.New("participant not found") // 404
	ErrNotOwner            = errors.New("not the event's owner") // 403
	ErrInvalidWinnerCount  = errors.New("invalid winner count")  // 422
)

// FieldError is one failed field. Field is the JSON name of the request field.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// ValidationError collects every failed field of one input, not just the first.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	if e == nil || len(e.Fields) == 0 {
		return ErrInvalid.Error()
	}
	var b strings.Builder
	b.WriteString(ErrInvalid.Error())
	b.WriteString(": ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(": ")
		b.WriteString(f.Reason)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true for every validation error.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// validation accumulates field errors; err returns nil when there are none.
type validation struct{ fields []FieldError }

func (v *validation) add(field, reason string) {
	v.fields = append(v.fields, FieldError{Field: field, Reason: reason})
}

func (v *validation) addErr(field string, err error) {
	var ve *ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			v.add(field, f.Reason)
		}
		return
	}
	v.add(field, err.Error())
}

func (v *validation) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}

func invalid(field, reason string) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Reason: reason}}}
}
