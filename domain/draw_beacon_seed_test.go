package domain_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

type beaconSeedVectors struct {
	QuicknetRound42Signature string `json:"quicknetRound42Signature"`
	Vectors                  []struct {
		Name            string `json:"name"`
		RoundRandomness string `json:"roundRandomness"`
		CandidatesRoot  string `json:"candidatesRoot"`
		DrawID          string `json:"drawId"`
		Seed            string `json:"seed"`
	} `json:"vectors"`
}

// The vectors were computed apart from this module (testdata's "about"),
// so a change of the derivation fails here instead of being re-recorded.
func TestBeaconSeedMatchesTheVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/draw_beacon_seed.json")
	if err != nil {
		t.Fatal(err)
	}
	var v beaconSeedVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, tt := range v.Vectors {
		t.Run(tt.Name, func(t *testing.T) {
			randomness := beaconSeedHex(t, tt.RoundRandomness)
			var root [32]byte
			copy(root[:], beaconSeedHex(t, tt.CandidatesRoot))
			got := domain.BeaconSeed(randomness, root, uuid.MustParse(tt.DrawID))
			if hex.EncodeToString(got[:]) != tt.Seed {
				t.Errorf("seed = %x, want %s", got, tt.Seed)
			}
		})
	}
	// The quicknet vector's randomness is the round's: SHA-256 of its signature.
	sum := sha256.Sum256(beaconSeedHex(t, v.QuicknetRound42Signature))
	if hex.EncodeToString(sum[:]) != v.Vectors[0].RoundRandomness {
		t.Errorf("vector %s: randomness is not SHA-256 of quicknet round 42's signature", v.Vectors[0].Name)
	}
}

// Each input moves the seed: the round, the committed candidates and the
// draw, so one public round cannot seed two draws alike.
func TestBeaconSeedBindsEveryInput(t *testing.T) {
	randomness := sha256.Sum256([]byte("round"))
	root := sha256.Sum256([]byte("root"))
	id := uuid.MustParse("0b6b2b9e-6c1e-4a57-9d43-6f1f0e1a2b3c")
	base := domain.BeaconSeed(randomness[:], root, id)
	otherRandomness := randomness
	otherRandomness[0] ^= 1
	otherRoot := root
	otherRoot[31] ^= 1
	otherID := id
	otherID[15] ^= 1
	for name, seed := range map[string][32]byte{
		"randomness": domain.BeaconSeed(otherRandomness[:], root, id),
		"root":       domain.BeaconSeed(randomness[:], otherRoot, id),
		"draw_id":    domain.BeaconSeed(randomness[:], root, otherID),
	} {
		if seed == base {
			t.Errorf("changing the %s leaves the seed unchanged", name)
		}
	}
}

func beaconSeedHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
