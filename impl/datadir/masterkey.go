package datadir

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/apikeyd/apikeyd/impl/keys"
)

// LoadMasterKey returns the master key: from envValue (the value of
// APIKEYD_MASTER_KEY, base64) if set, so that deployments can keep it out
// of the data directory; otherwise from <dataDir>/master.key, generating
// that file on first start. created reports that it was generated, which
// the caller should log: losing that file makes every sealed key
// unrecoverable.
func LoadMasterKey(envValue, dataDir string) (key []byte, created bool, err error) {
	if envValue != "" {
		key, err := keys.DecodeMasterKey(envValue)
		if err != nil {
			return nil, false, fmt.Errorf("load master key: APIKEYD_MASTER_KEY: %w", err)
		}
		return key, false, nil
	}
	key, created, err = loadOrCreateMasterKey(dataDir)
	if err != nil {
		return nil, false, fmt.Errorf("load master key: %w", err)
	}
	return key, created, nil
}

// loadOrCreateMasterKey reads the master key file of dataDir, or creates
// it. Of processes starting together on an empty data directory, one
// creates it and the others use its key.
func loadOrCreateMasterKey(dataDir string) (key []byte, created bool, err error) {
	path, _ := MasterKeyPaths(dataDir)
	key, err = ReadMasterKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	if err := Make(dataDir); err != nil {
		return nil, false, err
	}
	key = keys.NewMasterKey()
	switch err := Create(path, keys.EncodeMasterKey(key)); {
	case errors.Is(err, fs.ErrExist):
		key, err = ReadMasterKeyFile(path) // another process created it first
		return key, false, err
	case err != nil:
		return nil, false, err
	}
	return key, true, nil
}

// ReadMasterKeyFile reads a master key file, refusing one that other users
// may read.
func ReadMasterKeyFile(path string) ([]byte, error) {
	text, err := ReadPrivate(path, 1024)
	if err != nil {
		return nil, err
	}
	if len(text) == 0 {
		return nil, fmt.Errorf("%s: file is empty", path)
	}
	key, err := keys.DecodeMasterKey(string(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// WriteMasterKeyFile writes key to path (mode 0600) and syncs it to disk
// before returning, replacing any file there.
func WriteMasterKeyFile(path string, key []byte) error {
	if err := Write(path, keys.EncodeMasterKey(key)); err != nil {
		return fmt.Errorf("write master key: %w", err)
	}
	return nil
}
