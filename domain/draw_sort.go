package domain

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// row is a candidate in draw order: its index in the caller's slice.
type row struct {
	i       int32
	visited bool
}

// The draw sorts either way (see CandidateSet.sorted): compact packed
// records when every entry number is canonical (XXXX-XXXX), the common
// case, or the plain candidates otherwise.
//
// At a million candidates, reaching each candidate's strings in sorted order
// costs a cache miss or two apiece, more than all the rest. So the packed
// records carry all the digest needs: the entry number packed in 40 bits
// (5 per character; the alphabet is in ASCII order, so the packing keeps
// the order), the visit flag, the index and the participant id.
//
// Both reject what would make the digested lines ambiguous: an empty entry
// number, one with a comma or a line break, or the same candidate twice.

func compareCandidates(a, b Candidate) int {
	if c := strings.Compare(a.EntryNumber, b.EntryNumber); c != 0 {
		return c
	}
	return bytes.Compare(a.ParticipantID[:], b.ParticipantID[:])
}

// packed is a candidate with a canonical entry number:
// key = entry number (40 bits) | visited (1 bit) | index (23 bits).
type packed struct {
	key uint64
	id  uuid.UUID
}

const (
	packedIndexBits = 23
	packedVisited   = 1 << packedIndexBits
	packedEntryLow  = packedIndexBits + 1
)

// entryNumberDigit maps a byte of EntryNumberAlphabet to its index + 1.
var entryNumberDigit = func() (t [256]uint8) {
	for i := range len(EntryNumberAlphabet) {
		t[EntryNumberAlphabet[i]] = uint8(i + 1)
	}
	return t
}()

func packCandidates(candidates []Candidate) ([]packed, bool) {
	if len(candidates) > 1<<packedIndexBits {
		return nil, false
	}
	recs := make([]packed, len(candidates))
	for i := range candidates {
		c := &candidates[i]
		key, ok := packEntry(c.EntryNumber)
		if !ok {
			return nil, false
		}
		recs[i] = packed{key: packedKey(key, i, c.Visited), id: c.ParticipantID}
	}
	return recs, true
}

// sortPacked returns recs sorted (maybe in another slice) and rows whose
// index is the position in the sorted records.
func sortPacked(recs []packed, d *digester) ([]packed, []row, error) {
	if len(recs) == 0 {
		return recs, nil, nil
	}
	recs = radixSortByEntry(recs)
	// equal entry numbers (a collision the caller missed) go by participant id
	for lo := 0; lo < len(recs); {
		hi := lo + 1
		for hi < len(recs) && recs[hi].key>>packedEntryLow == recs[lo].key>>packedEntryLow {
			hi++
		}
		if hi-lo > 1 {
			slices.SortStableFunc(recs[lo:hi], func(a, b packed) int { return bytes.Compare(a.id[:], b.id[:]) })
		}
		lo = hi
	}
	rows := make([]row, len(recs))
	var entry [9]byte
	for j, r := range recs {
		if j > 0 && recs[j-1].id == r.id && recs[j-1].key>>packedEntryLow == r.key>>packedEntryLow {
			return nil, nil, fmt.Errorf("draw: candidate %s appears twice", r.id)
		}
		if d != nil {
			r.entry(&entry)
			d.line(r.id, entry[:], r.visited())
		}
		rows[j] = row{i: int32(j), visited: r.visited()}
	}
	return recs, rows, nil
}

// sortPackedKeys is sortPacked for v2, which needs no digest: it sorts the
// records' keys alone, a third of the bytes to move, and rows index recs
// as they are (the key's low bits).
func sortPackedKeys(recs []packed) ([]uint64, []row, error) {
	keys := make([]uint64, len(recs))
	for i, r := range recs {
		keys[i] = r.key
	}
	keys = radixSortKeys(keys)
	rows := make([]row, len(keys))
	const index = 1<<packedIndexBits - 1
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi]>>packedEntryLow == keys[lo]>>packedEntryLow {
			hi++
		}
		if hi-lo > 1 { // equal entry numbers (a collision the caller missed) go by participant id
			run := keys[lo:hi]
			slices.SortStableFunc(run, func(a, b uint64) int { return bytes.Compare(recs[a&index].id[:], recs[b&index].id[:]) })
			for j := 1; j < len(run); j++ {
				if id := recs[run[j]&index].id; id == recs[run[j-1]&index].id {
					return nil, nil, fmt.Errorf("draw: candidate %s appears twice", id)
				}
			}
		}
		lo = hi
	}
	for j, k := range keys {
		rows[j] = row{i: int32(k & index), visited: k&packedVisited != 0}
	}
	return keys, rows, nil
}

// radixSortKeys is radixSortByEntry over bare keys.
func radixSortKeys(keys []uint64) []uint64 {
	const passes = 5
	var counts [passes][256]int
	for _, k := range keys {
		e := k >> packedEntryLow
		for p := range passes {
			counts[p][byte(e>>(8*p))]++
		}
	}
	tmp := make([]uint64, len(keys))
	for p := range passes {
		c := &counts[p]
		shift := uint(packedEntryLow + 8*p)
		if len(keys) == 0 || c[byte(keys[0]>>shift)] == len(keys) {
			continue
		}
		sum := 0
		for b := range c {
			c[b], sum = sum, sum+c[b]
		}
		for _, k := range keys {
			b := byte(k >> shift)
			tmp[c[b]] = k
			c[b]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}

// radixSortByEntry sorts recs by entry number, stably, with an LSD radix
// sort over the 40 entry bits: five passes of sequential reads and writes,
// several times faster than a comparison sort at a million records. It may
// return the scratch slice rather than recs.
func radixSortByEntry(recs []packed) []packed {
	const passes = 5 // bytes of the 40-bit entry number
	var counts [passes][256]int
	for _, r := range recs {
		e := r.key >> packedEntryLow
		for p := range passes {
			counts[p][byte(e>>(8*p))]++
		}
	}
	tmp := make([]packed, len(recs))
	for p := range passes {
		c := &counts[p]
		if c[byte(recs[0].key>>(packedEntryLow+8*p))] == len(recs) {
			continue // every record has the same byte here
		}
		sum := 0
		for b := range c {
			c[b], sum = sum, sum+c[b]
		}
		shift := uint(packedEntryLow + 8*p)
		for _, r := range recs {
			b := byte(r.key >> shift)
			tmp[c[b]] = r
			c[b]++
		}
		recs, tmp = tmp, recs
	}
	return recs
}

// sortGeneric sorts (8-byte prefix, index) pairs, comparing the strings
// only when prefixes tie.
func sortGeneric(candidates []Candidate, d *digester) ([]row, error) {
	type keyed struct {
		prefix uint64
		i      int32
	}
	keys := make([]keyed, len(candidates))
	for i, c := range candidates {
		keys[i] = keyed{prefix: prefix8(c.EntryNumber), i: int32(i)}
	}
	slices.SortFunc(keys, func(a, b keyed) int {
		if a.prefix != b.prefix {
			return cmp.Compare(a.prefix, b.prefix)
		}
		return compareCandidates(candidates[a.i], candidates[b.i])
	})
	rows := make([]row, len(keys))
	var prev *Candidate
	for j, k := range keys {
		c := &candidates[k.i]
		if !plainEntryNumber(c.EntryNumber) {
			return nil, fmt.Errorf("draw: candidate %s has a malformed entry number %q", c.ParticipantID, c.EntryNumber)
		}
		if prev != nil && prev.ParticipantID == c.ParticipantID && prev.EntryNumber == c.EntryNumber {
			return nil, fmt.Errorf("draw: candidate %s appears twice", c.ParticipantID)
		}
		prev = c
		if d != nil {
			d.line(c.ParticipantID, []byte(c.EntryNumber), c.Visited)
		}
		rows[j] = row{i: k.i, visited: c.Visited}
	}
	return rows, nil
}

// prefix8 is s's first 8 bytes as a big-endian number, padded with zeros:
// prefix8(a) < prefix8(b) implies a < b.
func prefix8(s string) uint64 {
	var p uint64
	for i := range 8 {
		p <<= 8
		if i < len(s) {
			p |= uint64(s[i])
		}
	}
	return p
}

func plainEntryNumber[T string | []byte](s T) bool {
	for i := range len(s) {
		if s[i] == ',' || s[i] == '\r' || s[i] == '\n' {
			return false
		}
	}
	return len(s) > 0
}

// digester hashes the lines "participantId,entryNumber,visited\n".
type digester struct {
	h   hash.Hash
	buf []byte
}

func newDigester() *digester {
	return &digester{h: sha256.New(), buf: make([]byte, 0, 64<<10)}
}

func (d *digester) line(id uuid.UUID, entry []byte, visited bool) {
	if len(d.buf)+36+len(entry)+8 > cap(d.buf) {
		d.h.Write(d.buf)
		d.buf = d.buf[:0]
	}
	d.buf = appendUUID(d.buf, id)
	d.buf = append(d.buf, ',')
	d.buf = append(d.buf, entry...)
	if visited {
		d.buf = append(d.buf, ",true\n"...)
	} else {
		d.buf = append(d.buf, ",false\n"...)
	}
}

// sum is the digest; a nil digester (no digest asked for) sums to "".
func (d *digester) sum() string {
	if d == nil {
		return ""
	}
	d.h.Write(d.buf)
	return hex.EncodeToString(d.h.Sum(nil))
}

func appendUUID(dst []byte, id uuid.UUID) []byte {
	var s [36]byte
	hex.Encode(s[0:8], id[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], id[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], id[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], id[8:10])
	s[23] = '-'
	hex.Encode(s[24:], id[10:])
	return append(dst, s[:]...)
}
