package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopevents/participation/domain"
)

// Titles and names refuse Unicode format characters (Cf) with a field
// error that says so, wherever they sit, after NFC as before.
func TestFormatCharactersAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string // a title and, with its letters, a name
		ok   bool
	}{
		{"plain_text_is_accepted", "김민수", true},
		{"right_to_left_override", "김\u202E민수", false},
		{"left_to_right_embedding", "\u202A김민수", false},
		{"pop_directional_isolate_at_the_end", "김민수\u2069", false},
		{"arabic_letter_mark", "김\u061C민수", false},
		{"zero_width_space", "김\u200B민수", false},
		{"zero_width_non_joiner", "김\u200C민수", false},
		{"zero_width_joiner", "김\u200D민수", false},
		{"word_joiner", "김\u2060민수", false},
		{"byte_order_mark_at_the_start", "\uFEFF김민수", false},
		{"soft_hyphen", "김\u00AD민수", false},
		{"language_tag_beyond_the_bmp", "김민수\U000E0001", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.OpenCampaign(testEventID, "owner-1", tt.text, t0, t0.Add(time.Hour), t0.Add(2*time.Hour))
			checkFormatVerdict(t, "title", err, tt.ok)
			_, err = domain.NormalizeName(tt.text)
			checkFormatVerdict(t, "name", err, tt.ok)
		})
	}
}

func checkFormatVerdict(t *testing.T, field string, err error, ok bool) {
	t.Helper()
	if ok {
		if err != nil {
			t.Errorf("%s: %v, want accepted", field, err)
		}
		return
	}
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != field ||
		!strings.Contains(ve.Fields[0].Reason, "format characters") {
		t.Errorf("%s: %v, want one %s error about format characters", field, err, field)
	}
}
