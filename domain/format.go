package domain

import (
	"strings"
	"unicode"
)

// formatReason is the field error of a title or name holding a Unicode
// format character (category Cf): bidi controls (U+202E turns "gnp.exe"
// into what reads as "exe.png") and zero-width characters make a text
// display as something other than what it is, or two texts look alike.
const formatReason = "must not contain invisible format characters (bidi controls, zero-width characters)."

// hasFormatChar reports a Unicode Cf character in s.
func hasFormatChar(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Cf, r) }) >= 0
}
