package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// ErrNotDrawn is a campaign whose draw has not been committed.
var ErrNotDrawn = errors.New("not drawn")

// ErrNotAnnounced is a public part of a draw asked before announceAt.
var ErrNotAnnounced = errors.New("not announced")

// ErrNoPublicLeaves is a v1 draw's leaves: it committed to a digest, not a tree.
var ErrNoPublicLeaves = errors.New("draw has no public leaves")

// ChainInfoSource returns a drand chain's info (its JSON, which checks
// against its hash) for the certificate, so that its round is checked
// offline; nil or an error leaves the chain info out.
type ChainInfoSource func(ctx context.Context, chainHash string) ([]byte, error)

// publicDraw is a campaign's draw as its stream holds it.
type publicDraw struct {
	campaign domain.Campaign
	commit   *domain.DrawCommitted
	drawn    *domain.WinnersDrawn
	replaced []domain.WinnerReplaced
}

func (h *core) loadPublicDraw(ctx context.Context, eventID uuid.UUID) (publicDraw, error) {
	campaign, err := h.loadCampaign(ctx, eventID)
	if err != nil {
		return publicDraw{}, err
	}
	stored, err := h.store.ReadStream(ctx, domain.DrawStream(eventID))
	if err != nil {
		return publicDraw{}, fmt.Errorf("load draw: %w", err)
	}
	d := publicDraw{campaign: campaign}
	for _, rec := range stored {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return publicDraw{}, err
		}
		switch e := e.(type) {
		case domain.DrawCommitted:
			d.commit = &e
		case domain.WinnersDrawn:
			d.drawn = &e
		case domain.WinnerReplaced:
			d.replaced = append(d.replaced, e)
		}
	}
	if d.commit == nil && d.drawn == nil {
		return publicDraw{}, ErrNotDrawn
	}
	return d, nil
}

// announced says whether the draw's result is public by now.
func (h *core) announced(d publicDraw) bool { return !h.clock().Before(d.campaign.AnnounceAt) }

// Certificates answers the public draw certificate and its leaves.
type Certificates struct{ *core }

// DrawCertificate is the campaign's public draw certificate: the commitment
// from the commit on, the seed and the picks by leaf index from announceAt
// on. A v1 draw shows its digest, state DRAWN, and from announceAt its seed
// with no picks: it committed to no public tree, so there is no leaf index
// to name and nothing an outsider could recompute.
func (h Certificates) DrawCertificate(ctx context.Context, eventID uuid.UUID) (domain.DrawCertificate, error) {
	d, err := h.loadPublicDraw(ctx, eventID)
	if err != nil {
		return domain.DrawCertificate{}, err
	}
	if d.commit == nil { // v1: the result alone
		w := d.drawn
		cert := domain.DrawCertificate{DrawID: w.DrawID, Algorithm: w.Algorithm, State: domain.DrawStateDrawn,
			CommittedAt: w.DrawnAt, CutoffPosition: w.CutoffPosition, CandidateCount: w.CandidateCount,
			Digest: w.CandidatesDigest, Randomness: domain.DrawRandomness{Source: domain.RandomnessLocal},
			WinnerCount: w.WinnerCount}
		if h.announced(d) {
			cert.DrawCertificateResult = &domain.DrawCertificateResult{Seed: w.Seed,
				Winners: []domain.DrawPick{}, Alternates: []domain.DrawPick{}, Replacements: []domain.DrawReplacement{}}
		}
		return cert, nil
	}
	c := d.commit
	cert := domain.DrawCertificate{DrawID: c.DrawID, Algorithm: c.Algorithm, State: domain.DrawStateCommitted,
		CommittedAt: c.CommittedAt, CutoffPosition: c.CutoffPosition, CandidateCount: c.CandidateCount,
		CandidatesRoot: c.CandidatesRoot, Randomness: c.Randomness, WinnerCount: c.WinnerCount, AlternateCount: c.AlternateCount}
	if d.drawn == nil {
		return cert, nil
	}
	cert.State = domain.DrawStateDrawn
	if !h.announced(d) {
		return cert, nil
	}
	w := d.drawn
	wl, al := w.WinnerLeaves, w.AlternateLeaves
	if wl == nil && len(w.Winners) > 0 {
		// a result recorded before it named its leaf indices: recomputed
		// from the leaves' weights and the seed, as anyone would
		if wl, al, err = h.recomputeLeaves(ctx, *c, w.Seed); err != nil {
			return domain.DrawCertificate{}, err
		}
	}
	r := &domain.DrawCertificateResult{Seed: w.Seed, Winners: picks(wl), Alternates: picks(al), Replacements: make([]domain.DrawReplacement, 0, len(d.replaced))}
	for _, x := range d.replaced { // who is not public: the ranks, why and when
		r.Replacements = append(r.Replacements, domain.DrawReplacement{WinnerRank: x.Rank, AlternateRank: x.By.AlternateRank,
			Reason: x.Reason, ReplacedAt: x.ReplacedAt})
	}
	if w.Beacon != nil {
		r.Beacon = &domain.CertificateBeacon{Round: w.Beacon.Round, Signature: w.Beacon.Signature, Randomness: w.Beacon.Randomness,
			PreviousSignature: w.Beacon.PreviousSignature}
		if h.chainInfo != nil {
			if info, err := h.chainInfo(ctx, c.Randomness.ChainHash); err == nil {
				r.Beacon.ChainInfo = info
			}
		}
	}
	cert.DrawCertificateResult = r
	return cert, nil
}

// recomputeLeaves is the picks' leaf indices from the weights at the
// cut-off and the seed (4 bytes a candidate).
func (h *core) recomputeLeaves(ctx context.Context, c domain.DrawCommitted, seedHex string) ([]int, []int, error) {
	seed, err := domain.ParseSeed(seedHex)
	if err != nil {
		return nil, nil, err
	}
	weights := make([]uint32, 0, c.CandidateCount)
	err = h.store.EachLeafCandidate(ctx, c.EventID.String(), c.CutoffPosition, func(_ []byte, visited bool) error {
		weight := uint32(1)
		if visited {
			weight = uint32(c.VisitBonusWeight)
		}
		weights = append(weights, weight)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return domain.DrawOrder(weights, seed, c.WinnerCount, c.AlternateCount)
}

func picks(leaves []int) []domain.DrawPick {
	out := make([]domain.DrawPick, len(leaves))
	for r, i := range leaves {
		out[r] = domain.DrawPick{Rank: r + 1, LeafIndex: i}
	}
	return out
}

// EachDrawLeaf calls fn with each of the campaign's v2 draw leaves in tree
// order, from announceAt on, in constant memory (the candidates at the
// cut-off streamed from the store, each leaf hashed as the commit did).
// ErrNotAnnounced before; ErrNoPublicLeaves for a v1 draw.
func (h Certificates) EachDrawLeaf(ctx context.Context, eventID uuid.UUID, fn func(domain.DrawLeafLine) error) error {
	d, err := h.loadPublicDraw(ctx, eventID)
	if err != nil {
		return err
	}
	if d.commit == nil {
		return ErrNoPublicLeaves
	}
	if !h.announced(d) {
		return ErrNotAnnounced
	}
	return h.eachLeaf(ctx, *d.commit, func(i int, _, leaf []byte, weight uint32) error {
		return fn(domain.DrawLeafLineOf(i, leaf, weight))
	})
}

// eachLeaf is the one definition of a v2 draw's leaves: fn gets each
// candidate at the cut-off in tree order, with its entry number, leaf bytes
// and weight (entry and leaf only valid during the call).
func (h *core) eachLeaf(ctx context.Context, c domain.DrawCommitted, fn func(i int, entry, leaf []byte, weight uint32) error) error {
	var leaf []byte
	i := 0
	err := h.store.EachLeafCandidate(ctx, c.EventID.String(), c.CutoffPosition, func(entry []byte, visited bool) error {
		weight := uint32(1)
		if visited {
			weight = uint32(c.VisitBonusWeight)
		}
		leaf = domain.AppendDrawLeaf(leaf[:0], c.DrawID, entry, weight)
		err := fn(i, entry, leaf, weight)
		i++
		return err
	})
	if err != nil {
		return err
	}
	if i != c.CandidateCount {
		return fmt.Errorf("draw leaves: %d candidates at the cut-off, the commit says %d", i, c.CandidateCount)
	}
	return nil
}
