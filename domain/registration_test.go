package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/unicode/norm"

	"github.com/shopevents/participation/domain"
)

func TestNormalizeName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string // "" means rejected
	}{
		{"hangul_name_is_accepted", "김철수", "김철수"},
		{"latin_name_with_space_is_accepted", "John Smith", "John Smith"},
		{"mixed_scripts_are_accepted", "김 John", "김 John"},
		{"accented_latin_is_accepted", "Zoë Müller", "Zoë Müller"},
		{"combining_accent_after_letter_is_composed", "Jose\u0301 Lee", "Jos\u00e9 Lee"},
		{"decomposed_hangul_is_stored_composed", norm.NFD.String("김철수"), "김철수"},
		{"decomposed_hangul_counts_syllables_not_jamo", "\u1100\u1175\u11B7", ""}, // 김 as 3 jamo: 1 character
		{"fifty_decomposed_syllables_are_fifty_characters", norm.NFD.String(strings.Repeat("김", 50)), strings.Repeat("김", 50)},
		{"fifty_one_decomposed_syllables_are_rejected", norm.NFD.String(strings.Repeat("김", 51)), ""},
		{"two_characters_are_enough", "김철", "김철"},
		{"leading_and_trailing_spaces_are_trimmed", "  김철수 \t", "김철수"},
		{"inner_space_runs_collapse_to_one", "John    Smith", "John Smith"},
		{"inner_tab_becomes_a_space", "John\tSmith", "John Smith"},
		{"full_width_space_becomes_a_space", "김\u3000철수", "김 철수"},
		{"fifty_characters_are_accepted", strings.Repeat("가", 50), strings.Repeat("가", 50)},
		{"length_counts_after_collapsing_spaces", strings.Repeat("가", 25) + "   " + strings.Repeat("가", 24), strings.Repeat("가", 25) + " " + strings.Repeat("가", 24)},
		{"one_character_is_rejected", "김", ""},
		{"one_character_after_trimming_is_rejected", "  김  ", ""},
		{"fifty_one_characters_are_rejected", strings.Repeat("가", 51), ""},
		{"fifty_one_latin_characters_are_rejected", strings.Repeat("a", 51), ""},
		{"empty_is_rejected", "", ""},
		{"spaces_only_are_rejected", "    ", ""},
		{"digits_only_are_rejected", "12345", ""},
		{"letters_with_a_digit_are_rejected", "김철수2", ""},
		{"punctuation_only_is_rejected", "!!!", ""},
		{"trailing_punctuation_is_rejected", "김철수!", ""},
		{"hyphen_is_rejected", "Jean-Luc", ""},
		{"emoji_is_rejected", "김철수😀", ""},
		{"control_character_is_rejected", "김\x00철수", ""},
		{"zero_width_joiner_is_rejected", "김\u200d철수", ""},
		{"hangul_filler_is_rejected", "\u3164\u3164", ""},
		{"combining_mark_without_letter_is_rejected", "\u0301ab", ""},
		{"invalid_utf8_is_rejected", "김\xff철수", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.NormalizeName(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("NormalizeName(%q) = %q, want an error", tt.in, got)
				}
				if diff := cmp.Diff([]string{"name"}, fields(t, err)); diff != "" {
					t.Errorf("failed fields (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizeName(%q) error = %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string // "" means rejected
	}{
		{"phone_with_dashes_is_accepted", "010-1234-5678", "010-1234-5678"},
		{"phone_without_dashes_is_normalized", "01012345678", "010-1234-5678"},
		{"phone_with_spaces_is_normalized", "010 1234 5678", "010-1234-5678"},
		{"surrounding_whitespace_is_ignored", " \t010-1234-5678\n", "010-1234-5678"},
		// the contract names three spellings; a mix of separators is none of them
		{"mixed_separators_are_rejected", "010-1234 5678", ""},
		{"dash_in_one_place_only_is_rejected", "010-12345678", ""},
		{"double_space_is_rejected", "010  1234 5678", ""},
		{"dots_are_rejected", "010.1234.5678", ""},
		{"prefix_011_is_rejected", "011-1234-5678", ""},
		{"prefix_011_without_dashes_is_rejected", "01112345678", ""},
		{"landline_is_rejected", "02-1234-5678", ""},
		{"ten_digits_are_rejected", "0101234567", ""},
		{"three_digit_middle_is_rejected", "010-123-4567", ""},
		{"twelve_digits_are_rejected", "010123456789", ""},
		{"letters_are_rejected", "010-abcd-5678", ""},
		{"full_width_digits_are_rejected", "０１０１２３４５６７８", ""},
		{"international_form_is_rejected", "+82-10-1234-5678", ""},
		{"parentheses_are_rejected", "(010)1234-5678", ""},
		{"empty_is_rejected", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.NormalizePhone(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("NormalizePhone(%q) = %q, want an error", tt.in, got)
				}
				if diff := cmp.Diff([]string{"phone"}, fields(t, err)); diff != "" {
					t.Errorf("failed fields (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizePhone(%q) error = %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormalizePhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseEntryPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want domain.EntryPath // "" means rejected
	}{
		{"upper_case_is_accepted", "INSTAGRAM", domain.EntryPathInstagram},
		{"lower_case_is_accepted", "wooridongne_tv", domain.EntryPathWooridongneTV},
		{"mixed_case_is_accepted", "Naver_Blog", domain.EntryPathNaverBlog},
		{"surrounding_spaces_are_ignored", " store_qr ", domain.EntryPathStoreQR},
		{"unknown_path_is_rejected", "FACEBOOK", ""},
		{"empty_is_rejected", "", ""},
		{"dotless_i_is_not_upper_cased_into_a_path", "ınstagram", ""},
		{"space_instead_of_underscore_is_rejected", "SNS OTHER", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.ParseEntryPath(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParseEntryPath(%q) = %q, want an error", tt.in, got)
				}
				if diff := cmp.Diff([]string{"entryPath"}, fields(t, err)); diff != "" {
					t.Errorf("failed fields (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseEntryPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEveryEntryPathParsesAndHasALabel(t *testing.T) {
	t.Parallel()
	if got, want := len(domain.EntryPaths), 8; got != want {
		t.Fatalf("len(EntryPaths) = %d, want %d", got, want)
	}
	for _, p := range domain.EntryPaths {
		if got, err := domain.ParseEntryPath(strings.ToLower(string(p))); err != nil || got != p {
			t.Errorf("ParseEntryPath(lower %s) = %q, %v", p, got, err)
		}
		if p.Label() == "" {
			t.Errorf("%s has no label", p)
		}
	}
	if got, want := domain.EntryPathWooridongneTV.Label(), "우리동네TV"; got != want {
		t.Errorf("label = %q, want %q", got, want)
	}
}

func validInput() domain.RegistrationInput {
	return domain.RegistrationInput{Name: " 김철수 ", Phone: "01012345678", EntryPath: "instagram", PrivacyConsent: true}
}

func TestNewRegistration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		edit       func(*domain.RegistrationInput)
		wantFields []string
	}{
		{"valid_input_is_accepted", func(*domain.RegistrationInput) {}, nil},
		{"consent_false_is_rejected", func(in *domain.RegistrationInput) { in.PrivacyConsent = false }, []string{"privacyConsent"}},
		{"every_failed_field_is_reported", func(in *domain.RegistrationInput) {
			*in = domain.RegistrationInput{Name: "1", Phone: "011", EntryPath: "tv"}
		}, []string{"name", "phone", "entryPath", "privacyConsent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := validInput()
			tt.edit(&in)
			reg, err := domain.NewRegistration(in)
			if diff := cmp.Diff(tt.wantFields, fields(t, err)); diff != "" {
				t.Fatalf("failed fields (-want +got):\n%s", diff)
			}
			if tt.wantFields != nil {
				if !errors.Is(err, domain.ErrInvalid) {
					t.Errorf("error = %v, want ErrInvalid", err)
				}
				return
			}
			want := domain.Registration{Name: "김철수", Phone: "010-1234-5678", EntryPath: domain.EntryPathInstagram}
			if diff := cmp.Diff(want, reg); diff != "" {
				t.Errorf("registration (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	c := openCampaign(t) // [t0, t0+24h)
	now := t0.Add(time.Hour)

	e, err := c.Register(validInput(), now, testKey, "ABCD-2345")
	if err != nil {
		t.Fatal(err)
	}
	want := domain.ParticipantRegistered{
		ParticipantID:  domain.ParticipantID(testKey, c.ID, "010-1234-5678"),
		EventID:        c.ID,
		EntryNumber:    "ABCD-2345",
		Name:           "김철수",
		Phone:          "010-1234-5678",
		EntryPath:      domain.EntryPathInstagram,
		PrivacyConsent: true,
		Timestamp:      now,
	}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}

	t.Run("other_phone_spelling_maps_to_the_same_participant", func(t *testing.T) {
		t.Parallel()
		in := validInput()
		in.Phone = "010 1234 5678"
		again, err := c.Register(in, now, testKey, "WXYZ-2345")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := again.ParticipantID, e.ParticipantID; got != want {
			t.Errorf("participant id = %s, want %s", got, want)
		}
	})
	t.Run("invalid_input_is_reported_before_a_closed_campaign", func(t *testing.T) {
		t.Parallel()
		in := validInput()
		in.Phone = "nope"
		_, err := c.Register(in, t0.Add(-time.Hour), testKey, "ABCD-2345")
		if diff := cmp.Diff([]string{"phone"}, fields(t, err)); diff != "" {
			t.Errorf("failed fields (-want +got):\n%s", diff)
		}
	})
	t.Run("valid_input_to_a_closed_campaign_is_not_open", func(t *testing.T) {
		t.Parallel()
		if _, err := c.Register(validInput(), c.EndsAt, testKey, "ABCD-2345"); !errors.Is(err, domain.ErrEventNotOpen) {
			t.Errorf("error = %v, want ErrEventNotOpen", err)
		}
	})
	t.Run("registration_after_the_draw_is_not_open", func(t *testing.T) {
		t.Parallel()
		drawn, err := c.Apply(domain.WinnersDrawn{EventID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := drawn.Register(validInput(), now, testKey, "ABCD-2345"); !errors.Is(err, domain.ErrEventNotOpen) {
			t.Errorf("error = %v, want ErrEventNotOpen", err)
		}
	})
	t.Run("missing_key_is_an_internal_error", func(t *testing.T) {
		t.Parallel()
		_, err := c.Register(validInput(), now, nil, "ABCD-2345")
		if err == nil || errors.Is(err, domain.ErrInvalid) {
			t.Errorf("error = %v, want a non-validation error", err)
		}
	})
	t.Run("malformed_entry_number_is_an_internal_error", func(t *testing.T) {
		t.Parallel()
		_, err := c.Register(validInput(), now, testKey, "abcd-2345")
		if err == nil || errors.Is(err, domain.ErrInvalid) {
			t.Errorf("error = %v, want a non-validation error", err)
		}
	})
}

func TestParticipantRecordVisitIsIdempotent(t *testing.T) {
	t.Parallel()
	c := openCampaign(t)
	reg, err := c.Register(validInput(), t0, testKey, "ABCD-2345")
	if err != nil {
		t.Fatal(err)
	}
	p, err := domain.Participant{}.Apply(reg)
	if err != nil {
		t.Fatal(err)
	}
	visit, ok, err := p.RecordVisit(t0.Add(time.Hour))
	if err != nil || !ok {
		t.Fatal("first visit recorded nothing")
	}
	want := domain.StoreVisitRecorded{ParticipantID: reg.ParticipantID, EventID: c.ID, VisitedAt: t0.Add(time.Hour)}
	if diff := cmp.Diff(want, visit); diff != "" {
		t.Errorf("visit (-want +got):\n%s", diff)
	}
	if p, err = p.Apply(&visit); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Version, int64(2); got != want {
		t.Errorf("version = %d, want %d", got, want)
	}
	if _, ok, err := p.RecordVisit(t0.Add(2 * time.Hour)); ok || err != nil {
		t.Errorf("second visit: ok %t, err %v; want no event, no error", ok, err)
	}
}
