package keys

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// NewMasterKey returns a new random master key.
func NewMasterKey() []byte {
	key := make([]byte, MasterKeySize)
	rand.Read(key) // never fails since Go 1.24
	return key
}

// EncodeMasterKey is the text form of a master key, as APIKEYD_MASTER_KEY
// and master.key hold it.
func EncodeMasterKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// DecodeMasterKey reads the text form of a master key: standard base64,
// padded or not, of MasterKeySize bytes.
func DecodeMasterKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	key, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(text)
	}
	if err != nil {
		// The decoder's error could quote the input; name no part of it.
		return nil, errors.New("not valid standard base64")
	}
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("decodes to %d bytes, want %d", len(key), MasterKeySize)
	}
	return key, nil
}

// DecodeMasterKeyRing reads the text form of a ring of master keys, as
// APIKEYD_MASTER_KEY and master.key hold it: master keys separated by
// commas or newlines, the current one first. Errors name a key by its
// place in the ring, never by any part of it.
func DecodeMasterKeyRing(text string) ([][]byte, error) {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' })
	ring := make([][]byte, 0, len(fields))
	for _, field := range fields {
		if strings.TrimSpace(field) == "" {
			continue
		}
		key, err := DecodeMasterKey(field)
		if err != nil {
			return nil, fmt.Errorf("key %d of the ring: %w", len(ring)+1, err)
		}
		ring = append(ring, key)
	}
	if len(ring) == 0 {
		return nil, errors.New("holds no master key")
	}
	return ring, nil
}

// EncodeMasterKeyRing is the text form of ring for master.key: one key a
// line, the current one first.
func EncodeMasterKeyRing(ring [][]byte) string {
	lines := make([]string, len(ring))
	for i, key := range ring {
		lines[i] = EncodeMasterKey(key)
	}
	return strings.Join(lines, "\n")
}
