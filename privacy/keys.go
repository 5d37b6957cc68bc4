// Package privacy seals participants' personal data: AES-256-GCM under a
// random data key per participant, each data key wrapped by a key-encryption
// key derived from PII_KEY. Deleting a participant's wrapped data key
// (crypto-shredding) makes every copy of the sealed data unreadable.
package privacy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// HKDF labels: one secret, independent keys. A label is never changed (the
// KEK's would make every wrapped data key unreadable).
const (
	labelKEK           = "participation/pii-kek/v1"
	labelParticipantID = "participation/participant-id/v1"
	labelIdempotency   = "participation/idempotency-fingerprint/v1"
	labelVerification  = "participation/phone-verification/v1"
)

// format is the first byte of a sealed value and of a wrapped key.
const format byte = 1

// ErrUnreadable is returned for sealed data or a wrapped key that does not
// open: a wrong PII_KEY, a corrupt value, or a value of another participant.
var ErrUnreadable = errors.New("privacy: personal data does not open")

// Keys are the keys derived from PII_KEY.
type Keys struct {
	kek cipher.AEAD
	// participantID keys the HMAC of participant ids of campaigns opened
	// since the split; legacy (PII_KEY itself) keys those opened before.
	// Campaigns opened since per-campaign keys use neither (CampaignKey).
	participantID, legacy []byte
	// idempotency keys the fingerprints of requests sent with an
	// Idempotency-Key, whose bodies hold names and phones.
	idempotency []byte
	// verification keys the HMACs of phone verification codes and of the
	// (campaign, phone) they belong to.
	verification []byte
}

// NewKeys derives the keys from the root secret PII_KEY.
func NewKeys(root []byte) (*Keys, error) {
	if len(root) < 16 {
		return nil, errors.New("PII_KEY: at least 16 bytes")
	}
	kek, err := derive(root, labelKEK)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	pid, err := derive(root, labelParticipantID)
	if err != nil {
		return nil, err
	}
	idem, err := derive(root, labelIdempotency)
	if err != nil {
		return nil, err
	}
	verification, err := derive(root, labelVerification)
	if err != nil {
		return nil, err
	}
	return &Keys{kek: aead, participantID: pid, legacy: append([]byte(nil), root...), idempotency: idem,
		verification: verification}, nil
}

// derive is the one derivation of a key from PII_KEY: HKDF-SHA256 with the
// key's own label, so that no key says anything about another.
func derive(root []byte, label string) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, root, nil, label, 32)
	if err != nil {
		return nil, fmt.Errorf("derive %s: %w", label, err)
	}
	return k, nil
}

// IdempotencyKey keys the HMAC fingerprints of idempotent requests
// (eventstore.IdempotencyConfig.FingerprintKey).
func (k *Keys) IdempotencyKey() []byte { return append([]byte(nil), k.idempotency...) }

// VerificationKey keys the HMACs of phone verification codes
// (domain.VerificationSubject, domain.VerificationCodeMAC).
func (k *Keys) VerificationKey() []byte { return append([]byte(nil), k.verification...) }

// NewCampaignKey draws a campaign's participant-id key from random and
// returns it with its wrapped form (for campaign_keys), bound to the
// campaign's id.
func (k *Keys) NewCampaignKey(random io.Reader, eventID uuid.UUID) (key, wrapped []byte, err error) {
	key = make([]byte, 32)
	if _, err := io.ReadFull(random, key); err != nil {
		return nil, nil, fmt.Errorf("campaign key: %w", err)
	}
	if wrapped, err = seal(random, k.kek, key, aad("campaign-key", eventID)); err != nil {
		return nil, nil, err
	}
	return key, wrapped, nil
}

// OpenCampaignKey unwraps a campaign's participant-id key.
func (k *Keys) OpenCampaignKey(eventID uuid.UUID, wrapped []byte) ([]byte, error) {
	return open(k.kek, wrapped, aad("campaign-key", eventID))
}

// ParticipantIDKey is the HMAC key of the participant ids of a campaign of
// a scheme derived from PII_KEY (domain.Campaign.IDScheme legacy or
// derived); a ParticipantIDCampaignKey campaign's key is its own
// (OpenCampaignKey), which this is not.
func (k *Keys) ParticipantIDKey(scheme int) []byte {
	switch scheme {
	case domain.ParticipantIDLegacy:
		return k.legacy
	case domain.ParticipantIDDerived:
		return k.participantID
	}
	return nil // domain.Campaign.Register refuses an empty key
}

// Seal encrypts pd under a fresh data key drawn from random and returns the
// sealed value (for ParticipantRegistered.pii) and the wrapped data key (for
// pii_keys). Both are bound to the participant id.
func (k *Keys) Seal(random io.Reader, participantID uuid.UUID, pd domain.PersonalData) (sealed string, wrapped []byte, err error) {
	dataKey := make([]byte, 32)
	if _, err := io.ReadFull(random, dataKey); err != nil {
		return "", nil, fmt.Errorf("data key: %w", err)
	}
	plain, err := json.Marshal(pd)
	if err != nil {
		return "", nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := newAEAD(dataKey)
	if err != nil {
		return "", nil, err
	}
	box, err := seal(random, aead, plain, aad("pii", participantID))
	if err != nil {
		return "", nil, err
	}
	if wrapped, err = seal(random, k.kek, dataKey, aad("key", participantID)); err != nil {
		return "", nil, err
	}
	return base64.StdEncoding.EncodeToString(box), wrapped, nil
}

// Open decrypts a participant's sealed personal data with its wrapped key.
func (k *Keys) Open(participantID uuid.UUID, sealed string, wrapped []byte) (domain.PersonalData, error) {
	dataKey, err := open(k.kek, wrapped, aad("key", participantID))
	if err != nil {
		return domain.PersonalData{}, err
	}
	aead, err := newAEAD(dataKey)
	if err != nil {
		return domain.PersonalData{}, err
	}
	box, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return domain.PersonalData{}, ErrUnreadable
	}
	plain, err := open(aead, box, aad("pii", participantID))
	if err != nil {
		return domain.PersonalData{}, err
	}
	pd, err := domain.DecodePersonalData(plain)
	if err != nil {
		return domain.PersonalData{}, ErrUnreadable
	}
	return pd, nil
}

// SealDelivery seals a winner's delivery details under the participant's
// own data key (unwrapped from wrapped), so that the participant's erasure
// shreds them too; ErrUnreadable when the key does not open.
func (k *Keys) SealDelivery(random io.Reader, participantID uuid.UUID, wrapped []byte, d domain.Delivery) (string, error) {
	aead, err := k.dataKey(participantID, wrapped)
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("seal delivery: %w", err)
	}
	box, err := seal(random, aead, plain, aad("delivery", participantID))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(box), nil
}

// OpenDelivery opens what SealDelivery sealed.
func (k *Keys) OpenDelivery(participantID uuid.UUID, sealed string, wrapped []byte) (domain.Delivery, error) {
	aead, err := k.dataKey(participantID, wrapped)
	if err != nil {
		return domain.Delivery{}, err
	}
	box, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return domain.Delivery{}, ErrUnreadable
	}
	plain, err := open(aead, box, aad("delivery", participantID))
	if err != nil {
		return domain.Delivery{}, err
	}
	var d domain.Delivery
	if err := json.Unmarshal(plain, &d); err != nil {
		return domain.Delivery{}, ErrUnreadable
	}
	return d, nil
}

// dataKey unwraps a participant's data key.
func (k *Keys) dataKey(participantID uuid.UUID, wrapped []byte) (cipher.AEAD, error) {
	if wrapped == nil {
		return nil, ErrUnreadable
	}
	key, err := open(k.kek, wrapped, aad("key", participantID))
	if err != nil {
		return nil, err
	}
	return newAEAD(key)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	return cipher.NewGCM(block)
}

// aad binds a ciphertext to its purpose and participant, so that a value
// copied to another participant's row does not open.
func aad(purpose string, participantID uuid.UUID) []byte {
	return append([]byte(purpose+":"), participantID[:]...)
}

func seal(random io.Reader, aead cipher.AEAD, plain, ad []byte) ([]byte, error) {
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = format
	if _, err := io.ReadFull(random, out[1:]); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plain, ad), nil
}

func open(aead cipher.AEAD, box, ad []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(box) < 1+n+aead.Overhead() || box[0] != format {
		return nil, ErrUnreadable
	}
	plain, err := aead.Open(nil, box[1:1+n], box[1+n:], ad)
	if err != nil {
		return nil, ErrUnreadable
	}
	return plain, nil
}

// OpenRegistration returns a registration's personal data: a schema-1
// event's clear values, a sealed one's opened with wrapped, and nothing for
// a participant whose key is gone (erased).
func (k *Keys) OpenRegistration(e domain.ParticipantRegistered, wrapped []byte) (domain.PersonalData, error) {
	switch {
	case e.Unsealed():
		return e.Personal(), nil
	case e.PII == "" || wrapped == nil:
		return domain.PersonalData{}, nil
	}
	return k.Open(e.ParticipantID, e.PII, wrapped)
}
