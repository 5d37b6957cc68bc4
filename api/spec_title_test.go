package api_test

import (
	"net/http"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/shopevents/participation/api/apitest"
	"github.com/shopevents/participation/domain"
)

// The title's pattern refuses exactly the characters the domain refuses:
// every format (Cf) and control (Cc) character, including the ones beyond
// U+FFFF that the pattern names as characters, and no others.
func TestTitlePatternAgreesWithTheDomain(t *testing.T) {
	h := newHTTPHarness(t)
	schema := h.spec.RequestSchema(t, http.MethodPost, "/api/v1/events")
	re, err := apitest.ECMARegex(schema.Properties["title"].Value.Pattern)
	if err != nil {
		t.Fatal(err)
	}
	var runes []rune
	for _, table := range []*unicode.RangeTable{unicode.Cf, unicode.Cc, unicode.White_Space} {
		for _, r16 := range table.R16 {
			for r := rune(r16.Lo); r <= rune(r16.Hi); r += rune(r16.Stride) {
				runes = append(runes, r)
			}
		}
		for _, r32 := range table.R32 {
			for r := rune(r32.Lo); r <= rune(r32.Hi); r += rune(r32.Stride) {
				runes = append(runes, r)
			}
		}
	}
	for r := rune(0); r <= unicode.MaxRune; r += 101 { // and a sample of everything else
		if r < 0xD800 || r > 0xDFFF {
			runes = append(runes, r)
		}
	}
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range runes {
		for _, title := range []string{string(r), "a" + string(r) + "b", "가" + string(r)} {
			_, err := domain.OpenCampaign(uuid.New(), ownerA, title, at, at.Add(time.Hour), at.Add(time.Hour))
			if spec := re.MatchString(title); spec != (err == nil) {
				t.Errorf("title %+q (U+%04X): pattern matches %v, domain error %v", title, r, spec, err)
			}
		}
	}
}
