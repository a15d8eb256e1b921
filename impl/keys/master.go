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
