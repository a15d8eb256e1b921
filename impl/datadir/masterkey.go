package datadir

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/apikeyd/apikeyd/impl/keys"
)

// LoadMasterKey returns the ring of master keys, the current one first
// (keys.DecodeMasterKeyRing): from envValue (the value of
// APIKEYD_MASTER_KEY) if set, so that deployments can keep it out of the
// data directory; otherwise from <dataDir>/master.key, generating that
// file, with one key, on first start. created reports that it was
// generated, which the caller should log: losing that file makes every
// sealed key unrecoverable.
func LoadMasterKey(envValue, dataDir string) (ring [][]byte, created bool, err error) {
	if envValue != "" {
		ring, err := keys.DecodeMasterKeyRing(envValue)
		if err != nil {
			return nil, false, fmt.Errorf("load master key: APIKEYD_MASTER_KEY: %w", err)
		}
		return ring, false, nil
	}
	ring, created, err = loadOrCreateMasterKey(dataDir)
	if err != nil {
		return nil, false, fmt.Errorf("load master key: %w", err)
	}
	return ring, created, nil
}

// loadOrCreateMasterKey reads the master key file of dataDir, or creates
// it. Of processes starting together on an empty data directory, one
// creates it and the others use its key.
func loadOrCreateMasterKey(dataDir string) (ring [][]byte, created bool, err error) {
	path, _ := MasterKeyPaths(dataDir)
	ring, err = ReadMasterKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return ring, false, err
	}
	if err := Make(dataDir); err != nil {
		return nil, false, err
	}
	ring = [][]byte{keys.NewMasterKey()}
	switch err := Create(path, keys.EncodeMasterKeyRing(ring)); {
	case errors.Is(err, fs.ErrExist):
		ring, err = ReadMasterKeyFile(path) // another process created it first
		return ring, false, err
	case err != nil:
		return nil, false, err
	}
	return ring, true, nil
}

// masterKeyFileLimit bounds what ReadMasterKeyFile reads: a ring of 16 keys
// (45 characters and a newline each) with room to spare.
const masterKeyFileLimit = 1024

// ReadMasterKeyFile reads the ring of a master key file, refusing one that
// other users may read.
func ReadMasterKeyFile(path string) ([][]byte, error) {
	text, err := ReadPrivate(path, masterKeyFileLimit)
	if err != nil {
		return nil, err
	}
	if len(text) == 0 {
		return nil, fmt.Errorf("%s: file is empty", path)
	}
	ring, err := keys.DecodeMasterKeyRing(string(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ring, nil
}

// WriteMasterKeyFile writes ring to path (mode 0600), one key a line, the
// current one first, and syncs it to disk before returning, replacing any
// file there.
func WriteMasterKeyFile(path string, ring [][]byte) error {
	if err := Write(path, keys.EncodeMasterKeyRing(ring)); err != nil {
		return fmt.Errorf("write master key: %w", err)
	}
	return nil
}
