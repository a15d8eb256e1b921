package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// MasterKeySize is the size of the AES-256 master key.
const MasterKeySize = 32

// A sealed value names the master key that sealed it, so that a ring of
// several keys opens it with the right one:
//
//	version (1 byte) || key id (4 bytes) || nonce (12) || ciphertext || tag (16)
//
// The header is authenticated with the value's binding. Values sealed
// before the ring (nonce || ciphertext || tag, under the one master key of
// that time) carry no header and still open: Open tries them under every
// key of the ring.
const (
	sealedVersion = 1
	keyIDSize     = 4
	headerSize    = 1 + keyIDSize
)

// ErrUnknownMasterKey: the value is sealed under a master key that the
// ring does not hold.
var ErrUnknownMasterKey = errors.New("sealed under a master key the ring does not hold")

// Sealer encrypts keys for storage so that a copy of the database without
// the master key reveals no key, while the service can still show keys to
// their owners. It holds a ring of master keys: it seals under the first,
// the current one, and opens a value with whichever key sealed it, so that
// a rotation never leaves a running server unable to open what it holds.
type Sealer struct {
	ring []masterKey // ring[0] is the current key
}

type masterKey struct {
	aead        cipher.AEAD
	id          [keyIDSize]byte
	fingerprint string
}

// NewSealer returns a Sealer whose ring is the one key master.
func NewSealer(master []byte) (*Sealer, error) {
	return NewRing([][]byte{master})
}

// NewRing returns a Sealer that seals under ring[0] and opens with any key
// of ring. Two keys with the same id (the same key twice) are refused.
func NewRing(ring [][]byte) (*Sealer, error) {
	if len(ring) == 0 {
		return nil, errors.New("keys: the master key ring is empty")
	}
	s := &Sealer{ring: make([]masterKey, 0, len(ring))}
	for i, master := range ring {
		k, err := newMasterKey(master)
		if err != nil {
			return nil, fmt.Errorf("keys: master key %d of the ring: %w", i+1, err)
		}
		if _, dup := s.key(k.id); dup {
			return nil, fmt.Errorf("keys: master key %d of the ring: key %s is in the ring twice", i+1, k.ID())
		}
		s.ring = append(s.ring, k)
	}
	return s, nil
}

func newMasterKey(master []byte) (masterKey, error) {
	if len(master) != MasterKeySize {
		return masterKey{}, fmt.Errorf("master key is %d bytes, want %d", len(master), MasterKeySize)
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return masterKey{}, fmt.Errorf("new sealer: %w", err)
	}
	// Random 96-bit nonces are safe for up to 2^32 seals per master key,
	// far beyond the number of keys this service will ever mint.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return masterKey{}, fmt.Errorf("new sealer: %w", err)
	}
	sum := fingerprintOf(master)
	k := masterKey{aead: aead, fingerprint: hex.EncodeToString(sum[:16])}
	copy(k.id[:], sum[:keyIDSize])
	return k, nil
}

func fingerprintOf(master []byte) [sha256.Size]byte {
	return sha256.Sum256(append([]byte("apikeyd master key fingerprint\x00"), master...))
}

// IsMasterKey reports whether text is the text form of a master key of the
// ring (EncodeMasterKey's, padded or not), so that a master key pasted
// where a credential goes is refused rather than sent on. The ring keeps
// no master key, only fingerprints: text is compared by its own, in
// constant time.
func (s *Sealer) IsMasterKey(text string) bool {
	// Only the lengths of a master key in base64, padded and not: anything
	// else, such as every Discord token, costs no decoding.
	if len(text) != base64.StdEncoding.EncodedLen(MasterKeySize) && len(text) != base64.RawStdEncoding.EncodedLen(MasterKeySize) {
		return false
	}
	master, err := DecodeMasterKey(text)
	if err != nil {
		return false
	}
	sum := fingerprintOf(master)
	fingerprint := []byte(hex.EncodeToString(sum[:16]))
	found := 0
	for _, k := range s.ring {
		found |= subtle.ConstantTimeCompare(fingerprint, []byte(k.fingerprint))
	}
	return found == 1
}

// ID names the key in sealed values and in messages: the first 8 hex
// digits of its fingerprint.
func (k masterKey) ID() string { return k.fingerprint[:2*keyIDSize] }

// Fingerprint names the current master key without revealing it, so that
// the database can record which keys its copies are sealed under.
func (s *Sealer) Fingerprint() string { return s.ring[0].fingerprint }

// Holds reports whether fingerprint names a key of the ring.
func (s *Sealer) Holds(fingerprint string) bool {
	for _, k := range s.ring {
		if k.fingerprint == fingerprint {
			return true
		}
	}
	return false
}

// IDs names the keys of the ring, the current one first.
func (s *Sealer) IDs() []string {
	ids := make([]string, len(s.ring))
	for i, k := range s.ring {
		ids[i] = k.ID()
	}
	return ids
}

// FingerprintID is the ID of the key whose fingerprint is fingerprint,
// for messages about keys the database records.
func FingerprintID(fingerprint string) string {
	if len(fingerprint) < 2*keyIDSize {
		return fingerprint
	}
	return fingerprint[:2*keyIDSize]
}

func (s *Sealer) key(id [keyIDSize]byte) (masterKey, bool) {
	for _, k := range s.ring {
		if k.id == id {
			return k, true
		}
	}
	return masterKey{}, false
}

// seal seals plain under the current key with binding, after the header
// naming that key.
func (s *Sealer) seal(plain, binding []byte) []byte {
	k := s.ring[0]
	header := make([]byte, headerSize, headerSize+k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	header[0] = sealedVersion
	copy(header[1:], k.id[:])
	return k.aead.Seal(header, nil, plain, withHeader(header, binding))
}

// open opens a value that seal sealed under a key of the ring, or one
// sealed before the ring without a header.
func (s *Sealer) open(sealed, binding []byte) ([]byte, error) {
	id, named := namedKey(sealed)
	if named {
		if k, ok := s.key(id); ok {
			if plain, err := k.aead.Open(nil, nil, sealed[headerSize:], withHeader(sealed[:headerSize], binding)); err == nil {
				return plain, nil
			}
		}
	}
	// Without a header the value predates the ring: one of its keys may
	// still be the key of that time. A value whose random nonce happens
	// to look like a header lands here too.
	for _, k := range s.ring {
		if plain, err := k.aead.Open(nil, nil, sealed, binding); err == nil {
			return plain, nil
		}
	}
	if _, held := s.key(id); named && !held {
		return nil, fmt.Errorf("%w (key %x)", ErrUnknownMasterKey, id)
	}
	return nil, errors.New("message authentication failed")
}

// namedKey is the id of the key that the header of sealed names, if it
// has one.
func namedKey(sealed []byte) (id [keyIDSize]byte, named bool) {
	if len(sealed) <= headerSize || sealed[0] != sealedVersion {
		return id, false
	}
	copy(id[:], sealed[1:headerSize])
	return id, true
}

// withHeader is the additional data of a sealed value: its header, then
// its binding.
func withHeader(header, binding []byte) []byte {
	return append(append(make([]byte, 0, len(header)+len(binding)), header...), binding...)
}

// Seal returns the sealed copy of key. Hash(key) is authenticated as
// additional data, so a sealed copy moved onto another key's row fails to
// open instead of handing out the wrong key.
func (s *Sealer) Seal(key string) ([]byte, error) {
	return s.seal([]byte(key), Hash(key)), nil
}

// Open returns the key sealed in sealed, which must belong to the row whose
// lookup hash is hash.
func (s *Sealer) Open(sealed, hash []byte) (string, error) {
	plain, err := s.open(sealed, hash)
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
	return s.seal([]byte(secret), binding), nil
}

// OpenBound returns the secret that SealBound sealed with binding.
func (s *Sealer) OpenBound(sealed, binding []byte) (string, error) {
	plain, err := s.open(sealed, binding)
	if err != nil {
		return "", fmt.Errorf("keys: open sealed secret (%d bytes): %w", len(sealed), err)
	}
	return string(plain), nil
}
