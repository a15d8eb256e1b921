package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// MasterKeySize is the size of the AES-256 master key.
const MasterKeySize = 32

// Sealer encrypts keys for storage so that a copy of the database without
// the master key reveals no key, while the service can still show keys to
// their owners.
type Sealer struct {
	aead        cipher.AEAD
	fingerprint string
}

// NewSealer returns a Sealer using master as the AES-256 key.
func NewSealer(master []byte) (*Sealer, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("keys: master key is %d bytes, want %d", len(master), MasterKeySize)
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, fmt.Errorf("keys: new sealer: %w", err)
	}
	// Random 96-bit nonces are safe for up to 2^32 seals per master key,
	// far beyond the number of keys this service will ever mint.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("keys: new sealer: %w", err)
	}
	return &Sealer{aead: aead, fingerprint: fingerprint(master)}, nil
}

// Fingerprint names the master key without revealing it, so that the
// database can record which key its copies are sealed under.
func (s *Sealer) Fingerprint() string { return s.fingerprint }

func fingerprint(master []byte) string {
	sum := sha256.Sum256(append([]byte("apikeyd master key fingerprint\x00"), master...))
	return hex.EncodeToString(sum[:16])
}

// Seal returns nonce||ciphertext for key. Hash(key) is authenticated as
// additional data, so a sealed copy moved onto another key's row fails to
// open instead of handing out the wrong key.
func (s *Sealer) Seal(key string) ([]byte, error) {
	return s.aead.Seal(nil, nil, []byte(key), Hash(key)), nil
}

// Open returns the key sealed in sealed, which must belong to the row whose
// lookup hash is hash.
func (s *Sealer) Open(sealed, hash []byte) (string, error) {
	plain, err := s.aead.Open(nil, nil, sealed, hash)
	if err != nil {
		return "", fmt.Errorf("keys: open sealed key (%d bytes): %w", len(sealed), err)
	}
	// The AAD check already binds the copy to hash; checking the plaintext
	// too means even a blob sealed by other code cannot yield a key that
	// does not match its row.
	key := string(plain)
	if !Equal(Hash(key), hash) {
		return "", errors.New("keys: open sealed key: key does not match its hash")
	}
	return key, nil
}

// SealBound seals a secret that is not looked up by its own hash, such as
// the Discord tokens a dashboard session holds, with binding (the row's
// lookup hash and the secret's place in that row) authenticated as
// additional data: a copy moved onto another row, or into another column
// of its own, fails to open.
func (s *Sealer) SealBound(secret string, binding []byte) ([]byte, error) {
	return s.aead.Seal(nil, nil, []byte(secret), binding), nil
}

// OpenBound returns the secret that SealBound sealed with binding.
func (s *Sealer) OpenBound(sealed, binding []byte) (string, error) {
	plain, err := s.aead.Open(nil, nil, sealed, binding)
	if err != nil {
		return "", fmt.Errorf("keys: open sealed secret (%d bytes): %w", len(sealed), err)
	}
	return string(plain), nil
}
