package beacon

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
)

// Round is a verified drand round: what a draw records in its result.
type Round struct {
	Number            uint64
	Signature         []byte
	PreviousSignature []byte // chained schemes only; it is part of what is signed
	Randomness        []byte // SHA-256(Signature), 32 bytes
}

// roundJSON is a relay's round: v1 carries randomness, v2 leaves it out.
type roundJSON struct {
	Round             uint64   `json:"round"`
	Randomness        hexBytes `json:"randomness,omitempty"`
	Signature         hexBytes `json:"signature"`
	PreviousSignature hexBytes `json:"previous_signature,omitempty"`
}

// signed is a round as drand's crypto.SignedBeacon.
type signed struct{ roundJSON }

func (s signed) GetRound() uint64             { return s.Round }
func (s signed) GetSignature() []byte         { return s.Signature }
func (s signed) GetPreviousSignature() []byte { return s.PreviousSignature }

// VerifyRound checks a relay's answer for round want: the round number, the
// BLS signature against the chain's key under its scheme (drand's own
// VerifyBeacon), and a stated randomness against SHA-256 of the signature.
// Every failure wraps ErrBadSignature, a refusal.
func VerifyRound(info ChainInfo, want uint64, data []byte) (Round, error) {
	var j roundJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return Round{}, fmt.Errorf("%w: round %d: %w", ErrBadSignature, want, err)
	}
	if j.Round != want {
		return Round{}, fmt.Errorf("%w: asked round %d, got round %d", ErrBadSignature, want, j.Round)
	}
	r, err := info.Verify(Round{Number: j.Round, Signature: j.Signature, PreviousSignature: j.PreviousSignature})
	if err != nil {
		return Round{}, err
	}
	if len(j.Randomness) > 0 && !bytes.Equal(j.Randomness, r.Randomness) {
		return Round{}, fmt.Errorf("%w: round %d: randomness is not SHA-256 of the signature", ErrBadSignature, want)
	}
	return r, nil
}

// Verify checks a recorded round (number, signature and, for a chained
// scheme, the previous signature) against the chain, and returns it with
// its randomness computed: what verify recomputes from a stored draw
// without trusting the stored randomness. Failures wrap ErrBadSignature.
func (i ChainInfo) Verify(r Round) (Round, error) {
	if i.scheme == nil {
		return Round{}, fmt.Errorf("%w: chain info was not read by ParseChainInfo", ErrRefused)
	}
	if r.Number == 0 {
		return Round{}, fmt.Errorf("%w: round 0 is not a round", ErrBadSignature)
	}
	j := roundJSON{Round: r.Number, Signature: r.Signature, PreviousSignature: r.PreviousSignature}
	if !i.Chained() {
		// Unchained schemes sign the round alone; a previous signature is
		// not evidence of anything and is not kept.
		j.PreviousSignature = nil
	}
	if err := i.scheme.VerifyBeacon(signed{j}, i.key); err != nil {
		return Round{}, fmt.Errorf("%w: round %d under %s: %w", ErrBadSignature, r.Number, i.Scheme, err)
	}
	randomness := sha256.Sum256(j.Signature)
	return Round{
		Number:            j.Round,
		Signature:         j.Signature,
		PreviousSignature: j.PreviousSignature,
		Randomness:        randomness[:],
	}, nil
}
