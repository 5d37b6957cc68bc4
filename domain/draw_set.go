package domain

import (
	"slices"

	"github.com/google/uuid"
)

// CandidateSet is a draw's candidates held compactly, for a caller that
// reads a million of them: while every entry number is canonical
// (XXXX-XXXX) a candidate costs 24 bytes and no pointer — no string per
// candidate, nothing for the garbage collector to scan — and it is already
// in the form the draw sorts. The first other entry number turns the set
// into plain Candidates. The order of Add does not matter to the draw.
type CandidateSet struct {
	packed    []packed
	generic   []Candidate
	isGeneric bool
}

// NewCandidateSet returns an empty set with room for capacity candidates.
func NewCandidateSet(capacity int) *CandidateSet {
	return &CandidateSet{packed: make([]packed, 0, max(capacity, 0))}
}

// candidateSetOf wraps candidates, packed when they all can be.
func candidateSetOf(candidates []Candidate) *CandidateSet {
	if recs, ok := packCandidates(candidates); ok {
		return &CandidateSet{packed: recs}
	}
	return &CandidateSet{generic: candidates, isGeneric: true}
}

// Add adds a candidate; entry is copied.
func (s *CandidateSet) Add(id uuid.UUID, entry []byte, visited bool) {
	if !s.isGeneric {
		if key, ok := packEntry(entry); ok && len(s.packed) < 1<<packedIndexBits {
			if len(s.packed) == cap(s.packed) {
				// double: append's gentler growth of large slices copies
				// a million records several times over
				s.packed = append(make([]packed, 0, max(2*cap(s.packed), 1024)), s.packed...)
			}
			s.packed = append(s.packed, packed{key: packedKey(key, len(s.packed), visited), id: id})
			return
		}
		s.generic, s.packed, s.isGeneric = s.Candidates(), nil, true
	}
	s.generic = append(s.generic, Candidate{ParticipantID: id, EntryNumber: string(entry), Visited: visited})
}

// AddEntry adds a candidate known by its entry number alone (a draw's
// read, which leaves the participant ids in the store: the leaves do not
// hold them, and naming only the picked few is cheaper than carrying a
// million); CompleteDraw names the picks from DrawCompletion.Participants.
func (s *CandidateSet) AddEntry(entry []byte, visited bool) { s.Add(uuid.Nil, entry, visited) }

// AddSet adds every candidate of o (a set read in parts).
func (s *CandidateSet) AddSet(o *CandidateSet) {
	if !s.isGeneric && !o.isGeneric && len(s.packed)+len(o.packed) <= 1<<packedIndexBits {
		const index = 1<<packedIndexBits - 1
		s.packed = slices.Grow(s.packed, len(o.packed))
		for _, r := range o.packed {
			r.key = r.key&^index | uint64(len(s.packed)) // the index is the record's place
			s.packed = append(s.packed, r)
		}
		return
	}
	if !s.isGeneric {
		s.generic, s.packed, s.isGeneric = s.Candidates(), nil, true
	}
	s.generic = append(s.generic, o.Candidates()...)
}

// Len is the number of candidates.
func (s *CandidateSet) Len() int {
	if s.isGeneric {
		return len(s.generic)
	}
	return len(s.packed)
}

// Candidates returns the candidates as plain values (in the order added,
// until a draw sorts the set).
func (s *CandidateSet) Candidates() []Candidate {
	if s.isGeneric {
		return append([]Candidate(nil), s.generic...)
	}
	out := make([]Candidate, len(s.packed))
	for i, r := range s.packed {
		out[i] = r.candidate()
	}
	return out
}

// sortedSet is a set in compareCandidates order: rows in that order, at
// returns the candidate of a row's index, entry appends its entry number.
type sortedSet struct {
	rows   []row
	keys   []uint64 // packed keys in order (v2 over packed candidates), else nil
	digest string   // v1's candidatesDigest; empty unless asked for
	at     func(int32) Candidate
	entry  func(dst []byte, i int32) []byte
}

// sorted puts the set in compareCandidates order, with v1's digest when
// withDigest (v2 commits with a Merkle root instead).
func (s *CandidateSet) sorted(withDigest bool) (sortedSet, error) {
	var d *digester
	if withDigest {
		d = newDigester()
	}
	if s.isGeneric {
		rows, err := sortGeneric(s.generic, d)
		return sortedSet{rows: rows, digest: d.sum(), at: func(i int32) Candidate { return s.generic[i] },
			entry: func(dst []byte, i int32) []byte { return append(dst, s.generic[i].EntryNumber...) }}, err
	}
	if d == nil {
		// v2 needs no id in order: only the 8-byte keys move
		keys, rows, err := sortPackedKeys(s.packed)
		return sortedSet{rows: rows, keys: keys, at: func(i int32) Candidate { return s.packed[i].candidate() },
			entry: func(dst []byte, i int32) []byte {
				var e [9]byte
				s.packed[i].entry(&e)
				return append(dst, e[:]...)
			}}, err
	}
	recs, rows, err := sortPacked(s.packed, d)
	return sortedSet{rows: rows, digest: d.sum(), at: func(i int32) Candidate { return recs[i].candidate() },
		entry: func(dst []byte, i int32) []byte {
			var e [9]byte
			recs[i].entry(&e)
			return append(dst, e[:]...)
		}}, err
}

// packEntry packs a canonical entry number in 40 bits, 5 per character;
// the alphabet is in ASCII order, so the packing keeps the order.
func packEntry[T string | []byte](s T) (uint64, bool) {
	if len(s) != 9 || s[4] != '-' {
		return 0, false
	}
	var key uint64
	for j := range 9 {
		if j == 4 {
			continue
		}
		d := entryNumberDigit[s[j]]
		if d == 0 {
			return 0, false
		}
		key = key<<5 | uint64(d-1)
	}
	return key, true
}

func packedKey(entry uint64, index int, visited bool) uint64 {
	key := entry<<packedEntryLow | uint64(index)
	if visited {
		key |= packedVisited
	}
	return key
}

// entry writes r's entry number into dst.
func (r packed) entry(dst *[9]byte) { keyEntry(r.key, dst) }

// keyEntry writes a packed key's entry number into dst.
func keyEntry(key uint64, dst *[9]byte) {
	e := key >> packedEntryLow
	dst[4] = '-'
	for p := 8; p >= 0; p-- {
		if p == 4 {
			continue
		}
		dst[p] = EntryNumberAlphabet[e&31]
		e >>= 5
	}
}

func (r packed) visited() bool { return r.key&packedVisited != 0 }

func (r packed) candidate() Candidate {
	var e [9]byte
	r.entry(&e)
	return Candidate{ParticipantID: r.id, EntryNumber: string(e[:]), Visited: r.visited()}
}
