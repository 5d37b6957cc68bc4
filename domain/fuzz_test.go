package domain_test

import (
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/shopevents/participation/domain"
)

var normalizedPhoneRE = regexp.MustCompile(`^010-\d{4}-\d{4}$`)

// The seed corpora live in testdata/fuzz/<name>/, so plain go test runs them.
func FuzzNormalizePhone(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		out, err := domain.NormalizePhone(in)
		if err != nil {
			return
		}
		if !normalizedPhoneRE.MatchString(out) {
			t.Fatalf("NormalizePhone(%q) = %q, not of the form 010-1234-5678", in, out)
		}
		again, err := domain.NormalizePhone(out)
		if err != nil || again != out {
			t.Fatalf("NormalizePhone(%q) = %q, %v; want it unchanged", out, again, err)
		}
		if got, want := domain.MaskPhone(out), out[:4]+"****"+out[8:]; got != want {
			t.Fatalf("MaskPhone(%q) = %q, want %q", out, got, want)
		}
	})
}

func FuzzNormalizeName(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		out, err := domain.NormalizeName(in)
		if err != nil {
			return
		}
		if !utf8.ValidString(out) {
			t.Fatalf("NormalizeName(%q) = %q, not valid UTF-8", in, out)
		}
		if n := utf8.RuneCountInString(out); n < domain.NameMinLength || n > domain.NameMaxLength {
			t.Fatalf("NormalizeName(%q) = %q, %d characters", in, out, n)
		}
		again, err := domain.NormalizeName(out)
		if err != nil || again != out {
			t.Fatalf("NormalizeName(%q) = %q, %v; want it unchanged", out, again, err)
		}
		masked := domain.MaskName(out)
		if got, want := utf8.RuneCountInString(masked), utf8.RuneCountInString(out); got != want {
			t.Fatalf("MaskName(%q) = %q: %d characters, want %d", out, masked, got, want)
		}
	})
}
