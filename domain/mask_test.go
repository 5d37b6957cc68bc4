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

func TestMaskListedName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"three_hangul_keep_first_and_last", "김철수", "김*수"},
		{"four_hangul_mask_the_middle", "남궁민수", "남**수"},
		{"two_hangul_keep_the_first", "김철", "김*"},
		{"one_rune_is_masked_whole", "김", "*"},
		{"latin_keeps_first_and_last_rune", "John Smith", "J********h"},
		{"empty_stays_empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := domain.MaskListedName(tt.in); got != tt.want {
				t.Errorf("MaskListedName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskListedEntryNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"entry_number_keeps_its_first_four", "BGJM-7K2Q", "BGJM-****"},
		{"short_value_keeps_what_it_has", "AB", "AB-****"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := domain.MaskListedEntryNumber(tt.in); got != tt.want {
				t.Errorf("MaskListedEntryNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
