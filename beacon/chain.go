package beacon

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/drand/drand/v2/crypto"
	"github.com/drand/kyber"
)

// ChainInfo is a drand chain's public information: what verifies its rounds
// and when each round is due. Its Hash is computed, never read from a relay.
type ChainInfo struct {
	PublicKey   []byte
	Period      time.Duration // whole seconds
	GenesisTime int64         // Unix seconds of round 1
	GenesisSeed []byte
	Scheme      string // drand's schemeID, e.g. "bls-unchained-g1-rfc9380"
	BeaconID    string // "" or "default" for a network's default beacon
	Hash        []byte

	scheme *crypto.Scheme
	key    kyber.Point
}

// chainInfoJSON reads both shapes relays serve: v1 (hash, groupHash,
// schemeID, metadata.beaconID) and v2 (chain_hash, genesis_seed, scheme,
// beacon_id), as drand's chain.Info.UnmarshalJSON does.
type chainInfoJSON struct {
	PublicKey   hexBytes `json:"public_key"`
	Period      uint64   `json:"period"`
	GenesisTime int64    `json:"genesis_time"`
	// v2
	GenesisSeed hexBytes `json:"genesis_seed"`
	ChainHash   hexBytes `json:"chain_hash"`
	Scheme      string   `json:"scheme"`
	BeaconID    string   `json:"beacon_id"`
	// v1
	Hash      hexBytes `json:"hash"`
	GroupHash hexBytes `json:"groupHash"`
	SchemeID  string   `json:"schemeID"`
	Metadata  *struct {
		BeaconID string `json:"beaconID"`
	} `json:"metadata"`
}

// ParseChainInfo reads a relay's chain info and computes its hash. A hash
// the relay states must agree with the computed one; whether it is the
// configured chain is the caller's check (Client does it).
func ParseChainInfo(data []byte) (ChainInfo, error) {
	var j chainInfoJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return ChainInfo{}, fmt.Errorf("chain info: %w", err)
	}
	info := ChainInfo{
		PublicKey:   j.PublicKey,
		GenesisTime: j.GenesisTime,
		GenesisSeed: j.GenesisSeed,
		Scheme:      j.Scheme,
		BeaconID:    j.BeaconID,
	}
	if info.Scheme == "" && j.SchemeID != "" { // a v1 answer
		info.Scheme, info.GenesisSeed = j.SchemeID, j.GroupHash
		if j.Metadata != nil {
			info.BeaconID = j.Metadata.BeaconID
		}
	}
	// drand's periods are whole seconds; the hash takes them as a uint32.
	if j.Period == 0 || j.Period > math.MaxUint32 {
		return ChainInfo{}, fmt.Errorf("chain info: period %d s is out of range", j.Period)
	}
	info.Period = time.Duration(j.Period) * time.Second
	if info.GenesisTime <= 0 {
		return ChainInfo{}, fmt.Errorf("chain info: genesis time %d is out of range", info.GenesisTime)
	}
	sch, err := crypto.GetSchemeByID(info.Scheme) // "" is drand's default, chained
	if err != nil {
		return ChainInfo{}, fmt.Errorf("chain info: %w", err)
	}
	info.Scheme, info.scheme = sch.Name, sch
	info.key = sch.KeyGroup.Point()
	if err := info.key.UnmarshalBinary(info.PublicKey); err != nil {
		return ChainInfo{}, fmt.Errorf("chain info: public key for %s: %w", sch.Name, err)
	}
	info.Hash = info.hash()
	for _, stated := range [][]byte{j.ChainHash, j.Hash} {
		if len(stated) > 0 && !bytes.Equal(stated, info.Hash) {
			return ChainInfo{}, fmt.Errorf("chain info: states hash %x, its fields hash to %x", []byte(stated), info.Hash)
		}
	}
	return info, nil
}

// hash is drand's chain.Info.Hash: SHA-256 of the period in seconds (uint32,
// big-endian), the genesis time (int64, big-endian), the public key, the
// genesis seed and, for a beacon other than the default one, its id.
func (i ChainInfo) hash() []byte {
	h := sha256.New()
	_ = binary.Write(h, binary.BigEndian, uint32(i.Period/time.Second))
	_ = binary.Write(h, binary.BigEndian, i.GenesisTime)
	key, _ := i.key.MarshalBinary() // the parsed point, as drand hashes it
	h.Write(key)
	h.Write(i.GenesisSeed)
	if i.BeaconID != "" && i.BeaconID != "default" {
		h.Write([]byte(i.BeaconID))
	}
	return h.Sum(nil)
}

// MarshalJSON writes the chain info in the v2 API's shape, which
// ParseChainInfo reads back to the same hash: a certificate can carry it so
// that anyone checks the beacon without asking a relay.
func (i ChainInfo) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		PublicKey   hexBytes `json:"public_key"`
		Period      uint64   `json:"period"`
		GenesisTime int64    `json:"genesis_time"`
		GenesisSeed hexBytes `json:"genesis_seed"`
		ChainHash   hexBytes `json:"chain_hash"`
		Scheme      string   `json:"scheme"`
		BeaconID    string   `json:"beacon_id"`
	}{i.PublicKey, uint64(i.Period / time.Second), i.GenesisTime, i.GenesisSeed, i.Hash, i.Scheme, i.BeaconID})
}

// HashHex is the chain hash as DRAND_CHAIN_HASH spells it.
func (i ChainInfo) HashHex() string { return hex.EncodeToString(i.Hash) }

// Chained says whether a round's signature covers the previous signature.
func (i ChainInfo) Chained() bool { return i.Scheme == crypto.DefaultSchemeID }

// TimeOf is when a round is due: round 1 at genesis, then one a period.
// Round 0 is not a round; it answers the genesis time.
func (i ChainInfo) TimeOf(round uint64) time.Time {
	if round == 0 || i.Period <= 0 {
		return time.Unix(i.GenesisTime, 0)
	}
	if round-1 > uint64(math.MaxInt64/i.Period) { // past any clock: never due
		return time.Unix(math.MaxInt64/4, 0)
	}
	return time.Unix(i.GenesisTime, 0).Add(time.Duration(round-1) * i.Period)
}

// RoundAt is the latest round due at t (drand's CurrentRound): 0 before
// genesis, 1 from genesis on.
func (i ChainInfo) RoundAt(t time.Time) uint64 {
	since := t.Sub(time.Unix(i.GenesisTime, 0))
	if since < 0 || i.Period <= 0 {
		return 0
	}
	return uint64(since/i.Period) + 1
}

// FirstRoundFrom is the first round due at or after t: the round a commit
// at t - margin names.
func (i ChainInfo) FirstRoundFrom(t time.Time) uint64 {
	r := i.RoundAt(t)
	if r == 0 {
		return 1
	}
	if i.TimeOf(r).Before(t) {
		r++
	}
	return r
}

// hexBytes is a JSON string of hex digits.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("not hex: %w", err)
	}
	*h = b
	return nil
}

func (h hexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }
