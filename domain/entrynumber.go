package domain

import (
	"fmt"
	"io"
	"strings"
)

// EntryNumberAlphabet has 31 characters that cannot be misread for one
// another: no 0/O, no 1/I/L.
const EntryNumberAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// entryNumberLimit is the largest multiple of 31 that fits a byte: bytes at
// or above it are rejected so that every character is equally likely.
const entryNumberLimit = 256 / len(EntryNumberAlphabet) * len(EntryNumberAlphabet) // 248

// NewEntryNumber draws an entry number such as "7KQ3-MX9A": 8 characters
// from EntryNumberAlphabet (31⁸ ≈ 8.5·10¹¹ values) read from r, normally
// crypto/rand.Reader, by rejection sampling so that there is no modulo bias.
// It is random, not sequential, so that it does not tell how many joined.
//
// Uniqueness per campaign is not guaranteed: two random numbers can collide
// (about 1 in 1.7 million for a campaign of 1,000 participants, but likely
// over 1,000,000), so the caller must detect a collision and draw again.
func NewEntryNumber(r io.Reader) (string, error) {
	var (
		out [9]byte
		buf [16]byte
		n   int
	)
	for n < 8 {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", fmt.Errorf("entry number: read random bytes: %w", err)
		}
		for _, c := range buf {
			if int(c) >= entryNumberLimit {
				continue
			}
			i := n
			if i >= 4 {
				i++ // after the dash
			}
			out[i] = EntryNumberAlphabet[int(c)%len(EntryNumberAlphabet)]
			if n++; n == 8 {
				break
			}
		}
	}
	out[4] = '-'
	return string(out[:]), nil
}

// ParseEntryNumber accepts an entry number in either letter case, with or
// without its dash, and returns its canonical form XXXX-XXXX.
func ParseEntryNumber(s string) (string, bool) {
	s = strings.TrimSpace(s)
	switch {
	case len(s) == 9 && s[4] == '-':
		s = s[:4] + s[5:]
	case len(s) != 8:
		return "", false
	}
	var out [9]byte
	for i := range 8 {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if strings.IndexByte(EntryNumberAlphabet, c) < 0 {
			return "", false
		}
		j := i
		if i >= 4 {
			j++
		}
		out[j] = c
	}
	out[4] = '-'
	return string(out[:]), true
}

// ValidEntryNumber says whether ParseEntryNumber accepts s.
func ValidEntryNumber(s string) bool {
	_, ok := ParseEntryNumber(s)
	return ok
}
