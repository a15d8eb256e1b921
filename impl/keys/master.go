package keys

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

const masterKeyFile = "master.key"

var errEmptyMasterKey = errors.New("file is empty")

// LoadMasterKey returns the master key: from envValue (the value of
// APIKEYD_MASTER_KEY, base64) if set, so that deployments can keep it out
// of the data directory; otherwise from <dataDir>/master.key, generating
// that file on first start. created reports that it was generated, which
// the caller should log: losing that file makes every sealed key
// unrecoverable.
func LoadMasterKey(envValue, dataDir string) (key []byte, created bool, err error) {
	if envValue != "" {
		key, err := decodeMasterKey(envValue)
		if err != nil {
			return nil, false, fmt.Errorf("load master key: APIKEYD_MASTER_KEY: %w", err)
		}
		return key, false, nil
	}
	path := filepath.Join(dataDir, masterKeyFile)
	key, err = readMasterKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		if err != nil {
			return nil, false, fmt.Errorf("load master key: %w", err)
		}
		return key, false, nil
	}
	key, err = createMasterKey(dataDir, path)
	if errors.Is(err, fs.ErrExist) {
		key, err = awaitMasterKey(path)
	} else {
		created = err == nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load master key: %w", err)
	}
	return key, created, nil
}

func decodeMasterKey(text string) ([]byte, error) {
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

func readMasterKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// Windows does not report Unix permission bits.
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("%s has mode %#o, open to other users: run chmod 600 %s", path, perm, path)
	}
	text, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, err
	}
	if len(text) == 0 {
		return nil, fmt.Errorf("%s: %w", path, errEmptyMasterKey)
	}
	key, err := decodeMasterKey(string(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// createMasterKey writes a new key with O_EXCL, so that of two processes
// starting together on an empty data directory exactly one key wins.
func createMasterKey(dataDir, path string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	key := make([]byte, MasterKeySize)
	rand.Read(key) // never fails since Go 1.24
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path) // leave no truncated key to be read as the real one
		return nil, err
	}
	return key, nil
}

// awaitMasterKey reads the key another process has just created, giving it
// a moment to write the file it created empty.
func awaitMasterKey(path string) ([]byte, error) {
	for range 50 {
		key, err := readMasterKey(path)
		if !errors.Is(err, errEmptyMasterKey) {
			return key, err
		}
		time.Sleep(10 * time.Millisecond)
	}
	return readMasterKey(path)
}

// NewMasterKey returns a new random master key.
func NewMasterKey() []byte {
	key := make([]byte, MasterKeySize)
	rand.Read(key) // never fails since Go 1.24
	return key
}

// EncodeMasterKey is the text form of a master key, as APIKEYD_MASTER_KEY
// and master.key hold it.
func EncodeMasterKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// DecodeMasterKey reads the text form of a master key.
func DecodeMasterKey(text string) ([]byte, error) { return decodeMasterKey(text) }

// ReadMasterKeyFile reads a master key file, refusing one that other users
// may read.
func ReadMasterKeyFile(path string) ([]byte, error) { return readMasterKey(path) }

// WriteMasterKeyFile writes key to path (mode 0600) and syncs it to disk
// before returning, replacing any file there.
func WriteMasterKeyFile(path string, key []byte) error {
	if err := WriteSecretFile(path, EncodeMasterKey(key), false); err != nil {
		return fmt.Errorf("write master key: %w", err)
	}
	return nil
}

// WriteSecretFile writes text and a newline into a file only its owner
// may read, and syncs it. With exclusive, an existing file is an error
// rather than replaced.
func WriteSecretFile(path, text string, exclusive bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if exclusive {
		flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
