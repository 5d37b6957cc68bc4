package verifypublic_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/beacon/beacontest"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/internal/verifypublic"
)

// drandDraw is a real drand draw certificate, made as the service makes
// one: a commit over 40 candidates naming a round of the test chain due
// after it, the seed from that round's signed randomness, 3 winners and 2
// alternates.
func drandDraw(t *testing.T) (domain.DrawCertificate, []domain.DrawLeafLine) {
	t.Helper()
	genesis := time.Now().Truncate(time.Second).Add(-time.Hour)
	b := beacontest.New(t, beacontest.Options{Genesis: genesis})
	start := time.Now().Add(-time.Hour)
	opened, err := domain.OpenCampaign(uuid.New(), "owner-1", "이벤트", start, start.Add(time.Minute), start.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	campaign, err := domain.Campaign{}.Apply(opened)
	if err != nil {
		t.Fatal(err)
	}
	set := domain.NewCandidateSet(40)
	for i := range 40 {
		set.Add(uuid.New(), []byte(fmt.Sprintf("AB%02d-CD%02d", i, 40-i)), i%3 == 0)
	}
	committedAt := genesis.Add(30 * time.Second)
	round := uint64(12) // due 33 s after genesis: after the commit
	commit, leaves, err := campaign.CommitDraw(domain.DrawCommitRequest{
		DrawID: uuid.New(), Options: domain.DrawOptions{WinnerCount: 3, AlternateCount: 2, VisitBonus: true},
		CutoffPosition: 41, CommittedAt: committedAt, CommittedBy: "owner-1",
		Randomness: domain.DrawRandomness{Source: domain.RandomnessDrand, ChainHash: b.ChainHash(), Round: round},
	}, set)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := hex.DecodeString(commit.CandidatesRoot)
	seed := domain.BeaconSeed(b.Randomness(round), [32]byte(root), commit.DrawID)
	drawn, err := domain.CompleteDraw(commit, leaves, domain.DrawCompletion{Seed: seed, DrawnAt: committedAt.Add(time.Minute), DrawnBy: "relay",
		Beacon: &domain.DrawBeacon{Round: round, Signature: hex.EncodeToString(b.Signature(round)), Randomness: hex.EncodeToString(b.Randomness(round))}})
	if err != nil {
		t.Fatal(err)
	}
	cert := domain.DrawCertificate{DrawID: commit.DrawID, Algorithm: commit.Algorithm, State: domain.DrawStateDrawn,
		CommittedAt: commit.CommittedAt, CutoffPosition: commit.CutoffPosition, CandidateCount: commit.CandidateCount,
		CandidatesRoot: commit.CandidatesRoot, Randomness: commit.Randomness, WinnerCount: 3, AlternateCount: 2,
		DrawCertificateResult: &domain.DrawCertificateResult{Seed: drawn.Seed, Replacements: []domain.DrawReplacement{},
			Beacon: &domain.CertificateBeacon{Round: round, Signature: drawn.Beacon.Signature, Randomness: drawn.Beacon.Randomness, ChainInfo: b.InfoJSON()}}}
	for r, i := range drawn.WinnerLeaves {
		cert.Winners = append(cert.Winners, domain.DrawPick{Rank: r + 1, LeafIndex: i})
	}
	for r, i := range drawn.AlternateLeaves {
		cert.Alternates = append(cert.Alternates, domain.DrawPick{Rank: r + 1, LeafIndex: i})
	}
	lines := make([]domain.DrawLeafLine, leaves.Len())
	for i := range lines {
		leaf := domain.AppendDrawLeaf(nil, commit.DrawID, []byte(leaves.Candidate(i).EntryNumber), leaves.Weights[i])
		lines[i] = domain.DrawLeafLineOf(i, leaf, leaves.Weights[i])
	}
	return cert, lines
}

// write saves a certificate and its leaves as FILE and its leaves file.
func write(t *testing.T, cert domain.DrawCertificate, lines []domain.DrawLeafLine) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "certificate.json")
	data, err := json.Marshal(cert)
	if err != nil {
		t.Fatal(err)
	}
	var leaves bytes.Buffer
	for _, l := range lines {
		line, _ := json.Marshal(l)
		leaves.Write(append(line, '\n'))
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(verifypublic.LeavesPath(file), leaves.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestVerifyPublicDrandDraw(t *testing.T) {
	t.Parallel()
	cert, lines := drandDraw(t)
	file := write(t, cert, lines)
	if err := verifypublic.Verify(t.Context(), verifypublic.FileSource(file, "")); err != nil {
		t.Fatalf("the honest certificate from files: %v", err)
	}
	// the same over HTTP: the certificate at URL, the leaves at URL/leaves
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cert":
			http.ServeFile(w, r, file)
		case "/cert/leaves":
			http.ServeFile(w, r, verifypublic.LeavesPath(file))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	if err := verifypublic.Verify(t.Context(), verifypublic.URLSource(srv.Client(), srv.URL+"/cert")); err != nil {
		t.Fatalf("the honest certificate over HTTP: %v", err)
	}
	if err := verifypublic.Verify(t.Context(), verifypublic.URLSource(srv.Client(), srv.URL+"/nothing")); err == nil || errors.Is(err, verifypublic.ErrMismatch) {
		t.Errorf("a missing certificate: %v, want a read failure", err)
	}
}

func TestVerifyPublicFindsTampering(t *testing.T) {
	t.Parallel()
	cert, lines := drandDraw(t)
	other := beacontest.New(t, beacontest.Options{Genesis: cert.CommittedAt.Add(-30 * time.Second)})
	for name, tc := range map[string]struct {
		tamper func(c *domain.DrawCertificate, r *domain.DrawCertificateResult, b *domain.CertificateBeacon, l []domain.DrawLeafLine) []domain.DrawLeafLine
		want   string
	}{
		"flipped weight": {func(_ *domain.DrawCertificate, _ *domain.DrawCertificateResult, _ *domain.CertificateBeacon, l []domain.DrawLeafLine) []domain.DrawLeafLine {
			for i := range l { // every leaf's weight flipped: the order moves
				l[i].Weight = 3 - l[i].Weight
			}
			return l
		}, "the draw gives leaf"},
		"dropped leaf": {func(_ *domain.DrawCertificate, _ *domain.DrawCertificateResult, _ *domain.CertificateBeacon, l []domain.DrawLeafLine) []domain.DrawLeafLine {
			return l[:len(l)-1]
		}, "39 leaves"},
		"swapped winner": {func(_ *domain.DrawCertificate, r *domain.DrawCertificateResult, _ *domain.CertificateBeacon, l []domain.DrawLeafLine) []domain.DrawLeafLine {
			r.Winners[0], r.Alternates[0] = domain.DrawPick{Rank: 1, LeafIndex: r.Alternates[0].LeafIndex}, domain.DrawPick{Rank: 1, LeafIndex: r.Winners[0].LeafIndex}
			return l
		}, "winner rank 1"},
		"forged round": {func(_ *domain.DrawCertificate, _ *domain.DrawCertificateResult, b *domain.CertificateBeacon, l []domain.DrawLeafLine) []domain.DrawLeafLine {
			sig := other.Signature(b.Round) // another key's signature, its own randomness
			b.Signature, b.Randomness = hex.EncodeToString(sig), hex.EncodeToString(other.Randomness(b.Round))
			return l
		}, "signature"},
		"another chain's info": {func(_ *domain.DrawCertificate, _ *domain.DrawCertificateResult, b *domain.CertificateBeacon, l []domain.DrawLeafLine) []domain.DrawLeafLine {
			b.ChainInfo = other.InfoJSON()
			return l
		}, "the commit names"},
		"a round out before the commit": {func(c *domain.DrawCertificate, _ *domain.DrawCertificateResult, _ *domain.CertificateBeacon, l []domain.DrawLeafLine) []domain.DrawLeafLine {
			c.CommittedAt = c.CommittedAt.Add(time.Hour)
			return l
		}, "not after the commit"},
		"replacement out of order": {func(_ *domain.DrawCertificate, r *domain.DrawCertificateResult, _ *domain.CertificateBeacon, l []domain.DrawLeafLine) []domain.DrawLeafLine {
			r.Replacements = []domain.DrawReplacement{{WinnerRank: 1, AlternateRank: 1}, {WinnerRank: 1, AlternateRank: 1}}
			return l
		}, "alternates go in order"},
	} {
		t.Run(name, func(t *testing.T) {
			c := cert
			r := *cert.DrawCertificateResult
			b := *r.Beacon
			r.Winners, r.Alternates = append([]domain.DrawPick(nil), r.Winners...), append([]domain.DrawPick(nil), r.Alternates...)
			r.Beacon, c.DrawCertificateResult = &b, &r
			l := tc.tamper(&c, &r, &b, append([]domain.DrawLeafLine(nil), lines...))
			err := verifypublic.Verify(t.Context(), verifypublic.FileSource(write(t, c, l), ""))
			if !errors.Is(err, verifypublic.ErrMismatch) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want a mismatch saying %q", err, tc.want)
			}
		})
	}
}
