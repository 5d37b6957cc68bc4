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

// MaskListedName is the name as a published winners list shows it (PIPC's
// usual form): the first and the last letter, every other one masked —
// "김철수" → "김*수", "남궁민수" → "남**수"; two letters keep the first,
// "김철" → "김*"; a single letter is masked whole.
func MaskListedName(name string) string {
	runes := []rune(name)
	switch n := len(runes); n {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(runes[0]) + "*"
	default:
		return string(runes[0]) + strings.Repeat("*", n-2) + string(runes[n-1])
	}
}

// MaskListedEntryNumber is an entry number as a published winners list
// shows it: its first four characters, the rest hidden — "BGJM-7K2Q" →
// "BGJM-****". The winner recognises it; nobody else can claim with it.
func MaskListedEntryNumber(entry string) string {
	runes := []rune(entry)
	return string(runes[:min(4, len(runes))]) + "-****"
}
