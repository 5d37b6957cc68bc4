package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/shopevents/participation/domain"
)

func TestValidationError(t *testing.T) {
	t.Parallel()
	var err error = &domain.ValidationError{Fields: []domain.FieldError{
		{Field: "name", Reason: "Too short."},
		{Field: "phone", Reason: "Not a mobile number."},
	}}
	wrapped := fmt.Errorf("register: %w", err)

	if !errors.Is(wrapped, domain.ErrInvalid) {
		t.Error("errors.Is(wrapped validation error, ErrInvalid) = false, want true")
	}
	if errors.Is(wrapped, domain.ErrEventNotOpen) {
		t.Error("errors.Is(validation error, ErrEventNotOpen) = true, want false")
	}
	var ve *domain.ValidationError
	if !errors.As(wrapped, &ve) {
		t.Fatal("errors.As(*ValidationError) = false, want true")
	}
	if got, want := len(ve.Fields), 2; got != want {
		t.Errorf("fields = %d, want %d", got, want)
	}
	if got, want := err.Error(), "invalid input: name: Too short.; phone: Not a mobile number."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
