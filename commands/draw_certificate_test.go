package commands_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/beacon/beacontest"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/internal/verifypublic"
)

// A drand draw's certificate, as the store holds the draw: the commitment
// alone before announceAt (no leaves), then the beacon with the chain's
// info from the ChainInfo source, and certificate and leaves that
// verify-public accepts offline. A v1 draw has no public leaves.
func TestDrawCertificateOfADrandDraw(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	b := beacontest.New(t, beacontest.Options{Genesis: testNow.Add(-time.Hour)})
	app, err := commands.New(f.store, commands.Config{
		PIIKey: []byte("test-pii-key-0123456789abcdef"),
		Clock:  func() time.Time { return *f.now.Load() },
		ChainInfo: func(_ context.Context, chainHash string) ([]byte, error) {
			if chainHash != b.ChainHash() {
				return nil, errors.New("unknown chain")
			}
			return b.InfoJSON(), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	eventID := f.openCampaign(t, "owner-1")
	if _, err := app.Queries.Certificates.DrawCertificate(ctx, eventID); !errors.Is(err, commands.ErrNotDrawn) {
		t.Fatalf("before the draw: %v, want ErrNotDrawn", err)
	}
	for i := range 7 {
		if _, err := register(f, eventID, phoneN(i)); err != nil {
			t.Fatal(err)
		}
	}
	set, cutoff := candidatesNow(t, f, eventID)
	round := uint64(1203) // due 6 s after the commit at testNow (genesis an hour before, 3 s a round)
	commit, leaves, err := domain.Campaign{ID: eventID, OwnerID: "owner-1"}.CommitDraw(domain.DrawCommitRequest{
		DrawID: uuid.New(), Options: domain.DrawOptions{WinnerCount: 2, AlternateCount: 2}, CutoffPosition: cutoff,
		Randomness:  domain.DrawRandomness{Source: domain.RandomnessDrand, ChainHash: b.ChainHash(), Round: round},
		CommittedAt: testNow, CommittedBy: "owner-1"}, set)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := hex.DecodeString(commit.CandidatesRoot)
	drawn, err := domain.CompleteDraw(commit, leaves, domain.DrawCompletion{
		Seed:    domain.BeaconSeed(b.Randomness(round), [32]byte(root), commit.DrawID),
		Beacon:  &domain.DrawBeacon{Round: round, Signature: hex.EncodeToString(b.Signature(round)), Randomness: hex.EncodeToString(b.Randomness(round))},
		DrawnAt: testNow.Add(time.Minute), DrawnBy: "relay"})
	if err != nil {
		t.Fatal(err)
	}
	want := drawn
	// as a result recorded before results named their leaf indices: the
	// certificate recomputes them
	drawn.WinnerLeaves, drawn.AlternateLeaves = nil, nil
	appendDrawByHand(t, f, eventID, commit.DrawID, commit, drawn)

	cert, err := app.Queries.Certificates.DrawCertificate(ctx, eventID)
	if err != nil || cert.State != domain.DrawStateDrawn || cert.CandidatesRoot != commit.CandidatesRoot || cert.DrawCertificateResult != nil {
		t.Fatalf("before announceAt: %+v, %v", cert, err)
	}
	if err := app.Queries.Certificates.EachDrawLeaf(ctx, eventID, func(domain.DrawLeafLine) error { return nil }); !errors.Is(err, commands.ErrNotAnnounced) {
		t.Fatalf("leaves before announceAt: %v, want ErrNotAnnounced", err)
	}

	later := testNow.Add(48 * time.Hour)
	f.now.Store(&later)
	cert, err = app.Queries.Certificates.DrawCertificate(ctx, eventID)
	if err != nil || cert.DrawCertificateResult == nil || cert.Beacon == nil || string(cert.Beacon.ChainInfo) != string(b.InfoJSON()) || cert.Beacon.Round != round {
		t.Fatalf("after announceAt: %+v, %v", cert, err)
	}
	for r, p := range cert.Winners {
		if p.LeafIndex != want.WinnerLeaves[r] {
			t.Errorf("winner %d: leaf %d, want %d", r+1, p.LeafIndex, want.WinnerLeaves[r])
		}
	}
	if len(cert.Winners) != 2 || len(cert.Alternates) != 2 || cert.Alternates[1].LeafIndex != want.AlternateLeaves[1] {
		t.Errorf("picks %+v %+v, want leaves %v %v", cert.Winners, cert.Alternates, want.WinnerLeaves, want.AlternateLeaves)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "certificate.json")
	data, _ := json.Marshal(cert)
	var lines []byte
	if err := app.Queries.Certificates.EachDrawLeaf(ctx, eventID, func(l domain.DrawLeafLine) error {
		line, err := json.Marshal(l)
		lines = append(append(lines, line...), '\n')
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(os.WriteFile(file, data, 0o600), os.WriteFile(verifypublic.LeavesPath(file), lines, 0o600)); err != nil {
		t.Fatal(err)
	}
	if err := verifypublic.Verify(ctx, verifypublic.FileSource(file, "")); err != nil {
		t.Errorf("verify-public of the stored drand draw: %v", err)
	}

	// a v1 draw: its digest, no leaves
	now := testNow
	f.now.Store(&now)
	v1Event := f.openCampaign(t, "owner-1")
	for i := range 3 {
		if _, err := register(f, v1Event, phoneN(i)); err != nil {
			t.Fatal(err)
		}
	}
	set, cutoff = candidatesNow(t, f, v1Event)
	v1, err := domain.Campaign{ID: v1Event, OwnerID: "owner-1"}.DrawWinnersAmong(domain.DrawRequest{DrawID: uuid.New(),
		Options: domain.DrawOptions{WinnerCount: 1}, Seed: [32]byte{3}, CutoffPosition: cutoff, DrawnAt: testNow, DrawnBy: "owner-1"}, set)
	if err != nil {
		t.Fatal(err)
	}
	appendDrawByHand(t, f, v1Event, v1.DrawID, v1)
	f.now.Store(&later)
	cert, err = app.Queries.Certificates.DrawCertificate(ctx, v1Event)
	if err != nil || cert.Digest != v1.CandidatesDigest || cert.CandidatesRoot != "" || cert.Seed != v1.Seed || len(cert.Winners) != 0 {
		t.Fatalf("v1 certificate: %+v, %v", cert, err)
	}
	if err := app.Queries.Certificates.EachDrawLeaf(ctx, v1Event, func(domain.DrawLeafLine) error { return nil }); !errors.Is(err, commands.ErrNoPublicLeaves) {
		t.Errorf("v1 leaves: %v, want ErrNoPublicLeaves", err)
	}
}
