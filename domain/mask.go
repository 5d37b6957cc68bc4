package domain

import (
	"strings"
	"unicode/utf8"
)

// MaskName keeps the first character and masks every other one, spaces
// included, so that neither the given name nor its length in words shows:
// "김철수" → "김**", "John Smith" → "J*********".
func MaskName(name string) string {
	first, size := utf8.DecodeRuneInString(name)
	if size == 0 {
		return ""
	}
	rest := utf8.RuneCountInString(name[size:])
	var b strings.Builder
	b.Grow(size + rest)
	b.WriteRune(first)
	b.WriteString(strings.Repeat("*", rest))
	return b.String()
}

// MaskPhone keeps a normalized phone's prefix and last four digits:
// "010-1234-5678" → "010-****-5678". Anything else is masked but for its
// last four characters. Masking a masked phone changes nothing.
func MaskPhone(phone string) string {
	if p, err := NormalizePhone(phone); err == nil {
		return p[:4] + "****" + p[8:]
	}
	if isMaskedPhone(phone) {
		return phone
	}
	n := utf8.RuneCountInString(phone)
	if n <= 4 {
		return strings.Repeat("*", n)
	}
	runes := []rune(phone)
	return strings.Repeat("*", n-4) + string(runes[n-4:])
}

func isMaskedPhone(s string) bool {
	if len(s) != 13 || s[:9] != "010-****-" {
		return false
	}
	for _, c := range s[9:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
