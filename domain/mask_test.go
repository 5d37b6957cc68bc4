package domain_test

import (
	"testing"

	"github.com/shopevents/participation/domain"
)

func TestMaskName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"three_hangul_keep_the_first", "김철수", "김**"},
		{"two_hangul_keep_the_first", "김철", "김*"},
		{"latin_masks_every_later_rune_spaces_too", "John Smith", "J*********"},
		{"one_rune_stays", "김", "김"},
		{"empty_stays_empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := domain.MaskName(tt.in); got != tt.want {
				t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"normalized_phone_keeps_prefix_and_last_four", "010-1234-5678", "010-****-5678"},
		{"unnormalized_phone_is_masked_the_same", "01012345678", "010-****-5678"},
		{"unknown_format_keeps_only_the_last_four", "+82 10 1234 5678", "************5678"},
		{"short_value_is_fully_masked", "123", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := domain.MaskPhone(tt.in); got != tt.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
