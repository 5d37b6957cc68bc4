package domain_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	mrand "math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/shopevents/participation/domain"
)

var entryNumberRE = regexp.MustCompile(`^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$`)

func TestNewEntryNumberFormat(t *testing.T) {
	t.Parallel()
	for range 1000 {
		n, err := domain.NewEntryNumber(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if !entryNumberRE.MatchString(n) {
			t.Fatalf("entry number %q does not match %s", n, entryNumberRE)
		}
		if !domain.ValidEntryNumber(n) {
			t.Fatalf("ValidEntryNumber(%q) = false", n)
		}
	}
	if strings.ContainsAny(domain.EntryNumberAlphabet, "0O1IL") {
		t.Errorf("alphabet %q has a confusable character", domain.EntryNumberAlphabet)
	}
}

func TestNewEntryNumberIsUniqueEnough(t *testing.T) {
	t.Parallel()
	// 100,000 numbers among 31⁸ ≈ 8.5·10¹¹: one collision happens in about
	// 0.6% of runs, two in about 0.002%, so one is tolerated.
	const n = 100_000
	seen := make(map[string]struct{}, n)
	dups := 0
	for range n {
		e, err := domain.NewEntryNumber(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := seen[e]; ok {
			dups++
		}
		seen[e] = struct{}{}
	}
	if dups > 1 {
		t.Errorf("%d duplicates among %d entry numbers, want at most 1", dups, n)
	}
}

func TestNewEntryNumberIsNotSequential(t *testing.T) {
	t.Parallel()
	prev, err := domain.NewEntryNumber(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	near := 0
	for range 1000 {
		next, err := domain.NewEntryNumber(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if next[:7] == prev[:7] { // differ only in the last character, as a counter would
			near++
		}
		prev = next
	}
	if near > 0 {
		t.Errorf("%d of 1000 consecutive entry numbers differ only in their last character", near)
	}
}

func TestNewEntryNumberRejectsBiasedBytes(t *testing.T) {
	t.Parallel()
	// 248..255 would favour the first 8 characters (256 = 8·31 + 8): skipped.
	r := bytes.NewReader([]byte{
		248, 249, 250, 251, 252, 253, 254, 255,
		0, 1, 30, 31, 32, 247, 61, 62,
	})
	got, err := domain.NewEntryNumber(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := "23Z2-3ZZ2"; got != want {
		t.Errorf("NewEntryNumber() = %q, want %q", got, want)
	}
}

func TestNewEntryNumberCharactersAreUniform(t *testing.T) {
	t.Parallel()
	// a fixed seed makes the test deterministic; 99.9% critical value, 30 dof
	const draws, critical = 20_000, 59.70
	src := mrand.NewChaCha8([32]byte{'e', 'n', 't', 'r', 'y'})
	var counts [256]int
	for range draws {
		n, err := domain.NewEntryNumber(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []byte(strings.Replace(n, "-", "", 1)) {
			counts[c]++
		}
	}
	expected := float64(draws*8) / float64(len(domain.EntryNumberAlphabet))
	var chi2 float64
	for _, c := range []byte(domain.EntryNumberAlphabet) {
		d := float64(counts[c]) - expected
		chi2 += d * d / expected
	}
	if chi2 > critical {
		t.Errorf("chi-square = %.2f, want below %.2f", chi2, critical)
	}
}

func TestNewEntryNumberReportsReaderFailure(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	if _, err := domain.NewEntryNumber(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("error = %v, want %v", err, boom)
	}
	if _, err := domain.NewEntryNumber(bytes.NewReader(bytes.Repeat([]byte{255}, 64))); err == nil {
		t.Error("a reader of only rejected bytes gave an entry number, want an error")
	}
}

func TestParseEntryNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string // want "" means rejected
	}{
		{"canonical_is_accepted", "ABCD-2345", "ABCD-2345"},
		{"lower_case_is_upper_cased", "abcd-2345", "ABCD-2345"},
		{"missing_dash_is_added", "abcd2345", "ABCD-2345"},
		{"surrounding_spaces_are_ignored", " ABCD-2345 ", "ABCD-2345"},
		{"zero_is_rejected", "ABC0-2345", ""},
		{"letter_o_is_rejected", "ABCO-2345", ""},
		{"one_is_rejected", "ABC1-2345", ""},
		{"letter_i_is_rejected", "ABCI-2345", ""},
		{"letter_l_is_rejected", "ABCL-2345", ""},
		{"dash_elsewhere_is_rejected", "ABC-D2345", ""},
		{"too_short_is_rejected", "ABCD-234", ""},
		{"too_long_is_rejected", "ABCD-23456", ""},
		{"url_trickery_is_rejected", "../../etc", ""},
		{"empty_is_rejected", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := domain.ParseEntryNumber(tt.in)
			if got, want := ok, tt.want != ""; got != want {
				t.Fatalf("ParseEntryNumber(%q) ok = %t, want %t", tt.in, got, want)
			}
			if got != tt.want {
				t.Errorf("ParseEntryNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got, want := domain.ValidEntryNumber(tt.in), tt.want != ""; got != want {
				t.Errorf("ValidEntryNumber(%q) = %t, want %t", tt.in, got, want)
			}
		})
	}
}
