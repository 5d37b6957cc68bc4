package domain

import (
	"crypto/sha256"

	"github.com/google/uuid"
)

// BeaconSeedDomain separates this derivation from every other use of a
// round's randomness: the same drand round seeds other systems too.
const BeaconSeedDomain = "participation/draw/v2"

// BeaconSeed is the seed of a draw whose randomness is a drand round:
// SHA-256("participation/draw/v2" ‖ round randomness ‖ candidatesRoot ‖
// drawId's 16 bytes). Binding the root and the draw id makes the seed
// particular to this draw's committed candidates, so one public round
// cannot be replayed onto another draw or another candidate set.
func BeaconSeed(roundRandomness []byte, candidatesRoot [32]byte, drawID uuid.UUID) [32]byte {
	h := sha256.New()
	h.Write([]byte(BeaconSeedDomain))
	h.Write(roundRandomness)
	h.Write(candidatesRoot[:])
	h.Write(drawID[:])
	var seed [32]byte
	h.Sum(seed[:0])
	return seed
}
