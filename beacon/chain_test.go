package beacon_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopevents/participation/beacon"
)

func TestParseChainInfoHashesLikeDrand(t *testing.T) {
	tests := []struct {
		name, json, hash, scheme string
		period                   time.Duration
	}{
		{"mainnet_v1_default_beacon_id_not_hashed", mainnetV1, mainnetHash, "pedersen-bls-chained", 30 * time.Second},
		{"quicknet_v1_beacon_id_hashed", quicknetV1, quicknetHash, "bls-unchained-g1-rfc9380", 3 * time.Second},
		{"quicknet_v2", quicknetV2, quicknetHash, "bls-unchained-g1-rfc9380", 3 * time.Second},
		// Without the stated hash the computed one must still be drand's.
		{"quicknet_v2_hash_not_stated", strings.Replace(quicknetV2, `"chain_hash":"`+quicknetHash+`",`, "", 1), quicknetHash, "bls-unchained-g1-rfc9380", 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := beacon.ParseChainInfo([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if got := info.HashHex(); got != tt.hash {
				t.Errorf("hash = %s, want %s", got, tt.hash)
			}
			if info.Scheme != tt.scheme || info.Period != tt.period {
				t.Errorf("scheme, period = %s, %s; want %s, %s", info.Scheme, info.Period, tt.scheme, tt.period)
			}
		})
	}
}

func TestParseChainInfoRefusesInconsistentInfo(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"stated_hash_disagrees", strings.Replace(quicknetV2, "52db9ba7", "52db9ba8", 1), "states hash"},
		{"period_changed_under_stated_hash", strings.Replace(quicknetV2, `"period":3`, `"period":30`, 1), "states hash"},
		{"unknown_scheme", strings.Replace(quicknetV2, "bls-unchained-g1-rfc9380", "rsa", 1), "invalid scheme"},
		{"key_not_on_the_scheme_group", strings.Replace(quicknetV2, "bls-unchained-g1-rfc9380", "pedersen-bls-unchained", 1), "public key"},
		{"zero_period", strings.Replace(quicknetV2, `"period":3`, `"period":0`, 1), "period"},
		{"not_json", "<html>", "chain info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := beacon.ParseChainInfo([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestVerifyRoundOfRealNetworks(t *testing.T) {
	tests := []struct {
		name, info, round string
		number            uint64
	}{
		{"mainnet_chained", mainnetV1, mainnetRound, 2634945},
		{"quicknet_g1", quicknetV2, quicknetRound, 42},
		{"testnet_unchained", unchainedInfo, unchainedRound, 7601003},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := mustInfo(t, tt.info)
			r, err := beacon.VerifyRound(info, tt.number, []byte(tt.round))
			if err != nil {
				t.Fatalf("a published round refused: %v", err)
			}
			want := sha256.Sum256(r.Signature)
			if r.Number != tt.number || hex.EncodeToString(r.Randomness) != hex.EncodeToString(want[:]) {
				t.Errorf("round %d randomness %x, want round %d randomness %x", r.Number, r.Randomness, tt.number, want)
			}
			if info.Chained() != (len(r.PreviousSignature) > 0) {
				t.Errorf("previous signature kept = %v for chained = %v", len(r.PreviousSignature) > 0, info.Chained())
			}

			// Tampered answers: each one is a refusal, never retryable.
			flipped := flipLastHexDigit(t, tt.round, `"signature":"`)
			other := strings.Replace(tt.round, `"round":`, `"round":1`, 1)
			badRandomness := strings.Replace(tt.round, `{`, `{"randomness":"`+strings.Repeat("00", 32)+`",`, 1)
			cases := map[string]string{"flipped_signature": flipped, "other_round_number": other, "wrong_randomness": badRandomness}
			if info.Chained() {
				cases["flipped_previous_signature"] = flipLastHexDigit(t, tt.round, `"previous_signature":"`)
			}
			for name, body := range cases {
				_, err := beacon.VerifyRound(info, tt.number, []byte(body))
				if !errors.Is(err, beacon.ErrBadSignature) || !errors.Is(err, beacon.ErrRefused) || beacon.Retryable(err) {
					t.Errorf("%s: err = %v, want a refusal (ErrBadSignature)", name, err)
				}
			}
			// A true round, but not the one asked for.
			if _, err := beacon.VerifyRound(info, tt.number+1, []byte(tt.round)); !errors.Is(err, beacon.ErrBadSignature) {
				t.Errorf("round %d answered for round %d: err = %v, want ErrBadSignature", tt.number, tt.number+1, err)
			}
		})
	}
}

func TestRoundTimes(t *testing.T) {
	info := mustInfo(t, quicknetV2) // genesis 1692803367, period 3 s
	g := time.Unix(1692803367, 0)
	tests := []struct {
		name           string
		at             time.Time
		roundAt, first uint64
	}{
		{"before_genesis", g.Add(-time.Hour), 0, 1},
		{"at_genesis", g, 1, 1},
		{"just_after_genesis", g.Add(time.Nanosecond), 1, 2},
		{"on_round_2", g.Add(3 * time.Second), 2, 2},
		{"between_2_and_3", g.Add(4 * time.Second), 2, 3},
		{"just_before_round_3", g.Add(6*time.Second - time.Nanosecond), 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := info.RoundAt(tt.at); got != tt.roundAt {
				t.Errorf("RoundAt = %d, want %d", got, tt.roundAt)
			}
			first := info.FirstRoundFrom(tt.at)
			if first != tt.first {
				t.Errorf("FirstRoundFrom = %d, want %d", first, tt.first)
			}
			due := info.TimeOf(first)
			if due.Before(tt.at) || (!tt.at.Before(g) && !due.Before(tt.at.Add(info.Period))) {
				t.Errorf("TimeOf(%d) = %s: not the first due at or after %s", first, due, tt.at)
			}
		})
	}
	if got := info.TimeOf(2); !got.Equal(g.Add(3 * time.Second)) {
		t.Errorf("TimeOf(2) = %s, want genesis + one period", got)
	}
}

func mustInfo(t *testing.T, js string) beacon.ChainInfo {
	t.Helper()
	info, err := beacon.ParseChainInfo([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// flipLastHexDigit changes the last hex digit of the field after key.
func flipLastHexDigit(t *testing.T, js, key string) string {
	t.Helper()
	i := strings.Index(js, key)
	if i < 0 {
		t.Fatalf("no %s in %s", key, js)
	}
	end := i + len(key) + strings.Index(js[i+len(key):], `"`) - 1
	d := "1"
	if js[end] == '1' {
		d = "2"
	}
	return js[:end] + d + js[end+1:]
}

// A certificate carries the chain info as MarshalJSON writes it; read back,
// it must hash to the same chain and verify the same rounds.
func TestChainInfoJSONRoundTrip(t *testing.T) {
	for name, js := range map[string]string{"mainnet": mainnetV1, "quicknet": quicknetV1, "unchained": unchainedInfo} {
		t.Run(name, func(t *testing.T) {
			info := mustInfo(t, js)
			out, err := json.Marshal(info)
			if err != nil {
				t.Fatal(err)
			}
			back, err := beacon.ParseChainInfo(out)
			if err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			if back.HashHex() != info.HashHex() || back.Scheme != info.Scheme || back.Period != info.Period || back.GenesisTime != info.GenesisTime {
				t.Errorf("read back %+v, want %+v", back, info)
			}
		})
	}
}

// Verify recomputes a stored round's randomness from its signature, and
// refuses a stored round that was altered.
func TestVerifyRecordedRound(t *testing.T) {
	info := mustInfo(t, mainnetV1)
	r, err := beacon.VerifyRound(info, 2634945, []byte(mainnetRound))
	if err != nil {
		t.Fatal(err)
	}
	stored := beacon.Round{Number: r.Number, Signature: r.Signature, PreviousSignature: r.PreviousSignature}
	got, err := info.Verify(stored)
	if err != nil || !bytes.Equal(got.Randomness, r.Randomness) {
		t.Fatalf("Verify = %x, %v; want randomness %x", got.Randomness, err, r.Randomness)
	}
	for name, alter := range map[string]func(*beacon.Round){
		"previous_signature": func(r *beacon.Round) { r.PreviousSignature = append([]byte{}, r.Signature...) },
		"round_number":       func(r *beacon.Round) { r.Number++ },
		"zero_round":         func(r *beacon.Round) { r.Number = 0 },
		"no_signature":       func(r *beacon.Round) { r.Signature = nil },
	} {
		altered := stored
		alter(&altered)
		if _, err := info.Verify(altered); !errors.Is(err, beacon.ErrBadSignature) {
			t.Errorf("%s altered: err = %v, want ErrBadSignature", name, err)
		}
	}
	if _, err := (beacon.ChainInfo{}).Verify(stored); !errors.Is(err, beacon.ErrRefused) {
		t.Errorf("a ChainInfo not from ParseChainInfo: err = %v, want a refusal", err)
	}
}

func TestTimeOfAFarRoundIsNeverDue(t *testing.T) {
	info := mustInfo(t, quicknetV2)
	if far := info.TimeOf(1 << 62); !far.After(time.Now().AddDate(1000, 0, 0)) {
		t.Fatalf("TimeOf(2^62) = %s: an overflow made it due", far)
	}
}
