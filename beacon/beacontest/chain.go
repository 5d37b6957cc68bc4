package beacontest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/drand/drand/v2/crypto"
	"github.com/drand/kyber"
	"github.com/drand/kyber/util/random"
)

// chain is one key pair and its signed rounds.
type chain struct {
	scheme *crypto.Scheme
	priv   kyber.Scalar
	pub    kyber.Point
	seed   []byte
	mu     sync.Mutex
	sigs   map[uint64][]byte // chained signatures need their predecessors
}

func newChain(schemeID string) (*chain, error) {
	sch, err := crypto.SchemeFromName(schemeID)
	if err != nil {
		return nil, err
	}
	priv := sch.KeyGroup.Scalar().Pick(random.New(rand.Reader))
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	return &chain{
		scheme: sch,
		priv:   priv,
		pub:    sch.KeyGroup.Point().Mul(priv, nil),
		seed:   seed,
		sigs:   map[uint64][]byte{0: seed}, // drand chains round 1 to the genesis seed
	}, nil
}

// sign is round r's signature (r = 0: the genesis seed), kept.
func (c *chain) sign(r uint64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.signLocked(r)
}

func (c *chain) signLocked(r uint64) []byte {
	if s, ok := c.sigs[r]; ok {
		return s
	}
	var prev []byte
	if c.scheme.Name == Chained {
		prev = c.signLocked(r - 1)
	}
	msg := c.scheme.DigestBeacon(beaconMsg{round: r, prev: prev})
	sig, err := c.scheme.AuthScheme.Sign(c.priv, msg)
	if err != nil {
		panic(fmt.Sprintf("beacontest: sign: %v", err))
	}
	c.sigs[r] = sig
	return sig
}

type beaconMsg struct {
	round uint64
	prev  []byte
}

func (m beaconMsg) GetRound() uint64             { return m.round }
func (m beaconMsg) GetPreviousSignature() []byte { return m.prev }

// chainInfo is what the beacon serves as its chain info.
type chainInfo struct {
	pub      []byte
	period   time.Duration
	genesis  int64
	seed     []byte
	scheme   string
	beaconID string
}

func (b *Beacon) info(c *chain) chainInfo {
	pub, err := c.pub.MarshalBinary()
	if err != nil {
		panic(fmt.Sprintf("beacontest: public key: %v", err))
	}
	return chainInfo{pub: pub, period: b.opts.Period, genesis: b.opts.Genesis.Unix(),
		seed: c.seed, scheme: c.scheme.Name, beaconID: b.opts.BeaconID}
}

// hash is drand's chain hash, written here apart from package beacon's so
// that a test of one checks the other.
func (i chainInfo) hash() []byte {
	h := sha256.New()
	var buf [12]byte
	binary.BigEndian.PutUint32(buf[:4], uint32(i.period/time.Second))
	binary.BigEndian.PutUint64(buf[4:], uint64(i.genesis))
	h.Write(buf[:])
	h.Write(i.pub)
	h.Write(i.seed)
	if i.beaconID != "" && i.beaconID != "default" {
		h.Write([]byte(i.beaconID))
	}
	return h.Sum(nil)
}

func (i chainInfo) v1() map[string]any {
	id := i.beaconID
	if id == "" {
		id = "default"
	}
	return map[string]any{
		"public_key": hex.EncodeToString(i.pub), "period": i.period / time.Second,
		"genesis_time": i.genesis, "hash": hex.EncodeToString(i.hash()),
		"groupHash": hex.EncodeToString(i.seed), "schemeID": i.scheme,
		"metadata": map[string]string{"beaconID": id},
	}
}

func (i chainInfo) v2() map[string]any {
	id := i.beaconID
	if id == "" {
		id = "default"
	}
	return map[string]any{
		"public_key": hex.EncodeToString(i.pub), "period": i.period / time.Second,
		"genesis_time": i.genesis, "genesis_seed": hex.EncodeToString(i.seed),
		"chain_hash": hex.EncodeToString(i.hash()), "scheme": i.scheme, "beacon_id": id,
	}
}
