package domain_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

func TestNewVerificationCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		random  []byte
		want    string
		wantErr bool
	}{
		{name: "small_value_is_zero_padded", random: []byte{0, 0, 0, 5}, want: "000005"},
		{name: "value_is_taken_modulo_a_million", random: []byte{0, 0x0f, 0x42, 0x41}, want: "000001"}, // 1_000_001
		{name: "top_partial_block_is_drawn_again", random: []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0x30, 0x39}, want: "012345"},
		{name: "short_randomness_is_an_error", random: []byte{1, 2}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.NewVerificationCode(bytes.NewReader(tc.random))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("NewVerificationCode = %q, %v; want %q, error %v", got, err, tc.want, tc.wantErr)
			}
			if err == nil && !domain.ValidVerificationCode(got) {
				t.Fatalf("code %q is not a valid code", got)
			}
		})
	}
}

func TestValidVerificationCode(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{"123456": true, "000000": true, "12345": false, "1234567": false, "12345a": false,
		"": false, "١٢٣٤٥٦": false, " 12345": false}
	for code, want := range cases {
		if got := domain.ValidVerificationCode(code); got != want {
			t.Errorf("ValidVerificationCode(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestPhoneE164(t *testing.T) {
	t.Parallel()
	cases := []struct{ phone, want string }{
		{"010-1234-5678", "+821012345678"},
		{"010-0000-0001", "+821000000001"},
	}
	for _, tc := range cases {
		if got := domain.PhoneE164(tc.phone); got != tc.want {
			t.Errorf("PhoneE164(%q) = %q, want %q", tc.phone, got, tc.want)
		}
	}
}

func TestVerificationRetryAfter(t *testing.T) {
	t.Parallel()
	sent := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		now  time.Time
		want time.Duration
	}{
		{"at_once_is_the_whole_minute", sent, time.Minute},
		{"after_20s_is_40s", sent.Add(20 * time.Second), 40 * time.Second},
		{"the_last_fraction_is_a_second", sent.Add(59*time.Second + 900*time.Millisecond), time.Second},
		{"at_the_minute_is_free", sent.Add(time.Minute), 0},
		{"later_is_free", sent.Add(time.Hour), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := domain.VerificationRetryAfter(sent, tc.now); got != tc.want {
				t.Fatalf("VerificationRetryAfter = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestVerificationCodeRequestable(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	c := domain.Campaign{StartsAt: start, EndsAt: start.Add(24 * time.Hour), AnnounceAt: start.Add(48 * time.Hour), Drawn: true}
	cases := []struct {
		name string
		now  time.Time
		want error
	}{
		{"before_the_start_is_not_open", start.Add(-time.Second), domain.ErrEventNotOpen},
		{"at_the_start_is_allowed", start, nil},
		{"after_the_end_and_the_draw_is_allowed_for_erase_and_claim", start.Add(72 * time.Hour), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.VerificationCodeRequestable(tc.now); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// A subject is per campaign and phone; a code's MAC is bound to its subject.
func TestVerificationMACsAreBound(t *testing.T) {
	t.Parallel()
	key := []byte("verification-key-0123456789abcdef")
	e1, e2 := uuid.New(), uuid.New()
	s := domain.VerificationSubject(key, e1, "010-1234-5678")
	distinct := [][]byte{
		domain.VerificationSubject(key, e2, "010-1234-5678"),
		domain.VerificationSubject(key, e1, "010-1234-5679"),
		domain.VerificationSubject([]byte("another-key-0123456789abcdef"), e1, "010-1234-5678"),
	}
	for i, o := range distinct {
		if bytes.Equal(s, o) {
			t.Errorf("subject %d equals the first", i)
		}
	}
	if !bytes.Equal(s, domain.VerificationSubject(key, e1, "010-1234-5678")) {
		t.Error("a subject is not stable")
	}
	m := domain.VerificationCodeMAC(key, s, "123456")
	if bytes.Equal(m, domain.VerificationCodeMAC(key, distinct[0], "123456")) || bytes.Equal(m, domain.VerificationCodeMAC(key, s, "123457")) {
		t.Error("a code's MAC does not depend on its subject and code")
	}
	if bytes.Contains(s, []byte("1234")) || bytes.Contains(m, []byte("123456")) {
		t.Error("the phone or code shows in its MAC")
	}
}
