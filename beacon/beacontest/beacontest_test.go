package beacontest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopevents/participation/beacon/beacontest"
)

// The routes a drand relay answers, each API, as a client other than
// package beacon would see them.
func TestRoutes(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	b := beacontest.New(t, beacontest.Options{Now: func() time.Time { return now },
		Genesis: now.Add(-7 * time.Second), Period: 3 * time.Second}) // round 3 is the latest
	h := b.ChainHash()
	tests := []struct {
		path   string
		status int
		round  float64 // of a round's answer
	}{
		{"/" + h + "/info", 200, 0},
		{"/v2/chains/" + h + "/info", 200, 0},
		{"/" + h + "/public/2", 200, 2},
		{"/" + h + "/public/latest", 200, 3},
		{"/v2/chains/" + h + "/rounds/3", 200, 3},
		{"/v2/chains/" + h + "/rounds/latest", 200, 3},
		{"/" + h + "/public/4", 404, 0}, // not due yet
		{"/v2/chains/" + h + "/rounds/4", 404, 0},
		{"/" + strings.Repeat("0", 64) + "/info", 404, 0}, // a chain it does not serve
		{"/" + h + "/public/0", 400, 0},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(strings.Replace(tt.path, h, "hash", 1), "/", "_"), func(t *testing.T) {
			resp, err := http.Get(b.URL() + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tt.status, body)
			}
			if tt.round > 0 && body["round"] != tt.round {
				t.Errorf("round %v, want %v", body["round"], tt.round)
			}
			if strings.HasSuffix(tt.path, "/info") && tt.status == 200 &&
				body["chain_hash"] != h && body["hash"] != h {
				t.Errorf("info states hash %v/%v, want %s", body["chain_hash"], body["hash"], h)
			}
		})
	}
}

func TestUnavailableAnswers503(t *testing.T) {
	b := beacontest.New(t, beacontest.Options{})
	b.SetFault(beacontest.Unavailable)
	resp, err := http.Get(fmt.Sprintf("%s/%s/info", b.URL(), b.ChainHash()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
}
